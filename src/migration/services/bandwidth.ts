import { RehomeError } from '../../errors.js';

const UNIT = { '': 1024 ** 2, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/** For the `--bandwidth` flags of migrate and drain, which both take what parseBandwidth reads. */
export const BANDWIDTH_HELP =
  'Bandwidth limit of each mirror, per second: a number is MiB/s; K, M and G mean KiB, MiB and GiB (e.g. 50, 512K, 1G)';

/**
 * `--bandwidth`, into bytes per second: `50` or `50M` is 50 MiB/s, `512K` is 512 KiB/s, `1.5G` is 1.5 GiB/s. A
 * trailing `iB`, `B` or `/s` is allowed (`50MiB/s`).
 */
export function parseBandwidth(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:([KMG])(?:i?B)?)?(?:\/s)?$/i.exec(value.trim());
  const bytes = match
    ? Math.round(Number(match[1]) * UNIT[(match[2] ?? '').toLowerCase() as keyof typeof UNIT])
    : 0;
  if (!(bytes >= 1)) {
    throw new RehomeError(
      `Bad bandwidth ${JSON.stringify(value)}: use a number of MiB/s, or K, M or G per second (e.g. 50, 512K, 1G)`,
      'invalid-input',
    );
  }
  return bytes;
}
