import { RehomeError } from '../../errors.js';

const BYTE_UNIT = { '': 1024 ** 2, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;
/** Network speeds are decimal: 1 Mbit/s is 10^6 bits per second. */
const BIT_UNIT = { k: 1e3, m: 1e6, g: 1e9 } as const;

/** For the `--bandwidth` flags of migrate and drain, which both take what parseBandwidth reads. */
export const BANDWIDTH_HELP =
  'Bandwidth limit of each mirror, per second: a number is MiB/s; K, M and G mean KiB, MiB and GiB (e.g. 50, 512K, ' +
  '1G); a lowercase b, bit or bps means bits (100Mb, 1Gbit, 100Mbps are 10^6 and 10^9 bits per second)';

/**
 * `--bandwidth`, into bytes per second: `50` or `50M` is 50 MiB/s, `512K` is 512 KiB/s, `1.5G` is 1.5 GiB/s; a
 * trailing `iB`, `B` or `/s` is allowed (`50MiB/s`). Bits are written with a lowercase `b` (`100Mb`, `100Mbit/s`,
 * `100Mbps`): never read as bytes, which would be eight times too fast.
 */
export function parseBandwidth(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:([KkMmGg])(iB|B|bits?|b|bps)?)?(?:\/s)?$/.exec(value.trim());
  let bytes = 0;
  if (match) {
    const amount = Number(match[1]);
    const prefix = (match[2] ?? '').toLowerCase();
    const suffix = match[3] ?? '';
    bytes = suffix.startsWith('b')
      ? Math.round((amount * BIT_UNIT[prefix as keyof typeof BIT_UNIT]) / 8)
      : Math.round(amount * BYTE_UNIT[prefix as keyof typeof BYTE_UNIT]);
  }
  if (!(bytes >= 1)) {
    throw new RehomeError(
      `Bad bandwidth ${JSON.stringify(value)}: use a number of MiB/s, K, M or G per second (e.g. 50, 512K, 1G), or bits with a lowercase b (100Mb, 1Gbit)`,
      'invalid-input',
    );
  }
  return bytes;
}
