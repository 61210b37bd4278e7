/** Mirror progress with a rate and an ETA (wait-ready's lines, `rehome status`). */
import test from 'ava';
import { formatStatus } from '../../src/app/format/migration.js';
import { CopyRate, describeCopyProgress } from '../../src/migration/copy-rate.js';
import type { StatusResult } from '../../src/migration/index.js';

const MiB = 1024 ** 2;

test('the rate is over the window, the ETA at that rate; a stall shows as no ETA', (t) => {
  const rate = new CopyRate(10_000);
  t.deepEqual(rate.sample(0, 1000 * MiB, 0), { bytesPerSec: null, etaSeconds: null });
  t.deepEqual(rate.sample(100 * MiB, 1000 * MiB, 1_000), { bytesPerSec: 100 * MiB, etaSeconds: 9 });
  t.deepEqual(rate.sample(300 * MiB, 1000 * MiB, 2_000), { bytesPerSec: 150 * MiB, etaSeconds: 5 });
  // Stalled for longer than the window: the old fast readings have left it.
  for (let at = 3_000; at <= 14_000; at += 1_000) rate.sample(300 * MiB, 1000 * MiB, at);
  t.deepEqual(rate.sample(300 * MiB, 1000 * MiB, 15_000), { bytesPerSec: 0, etaSeconds: null });
});

test('progress lines: bytes, percent, rate and ETA', (t) => {
  t.is(
    describeCopyProgress(512 * MiB, 2048 * MiB, { bytesPerSec: null, etaSeconds: null }),
    '512 MiB / 2 GiB (25%)',
  );
  t.is(
    describeCopyProgress(512 * MiB, 2048 * MiB, { bytesPerSec: 110 * MiB, etaSeconds: 14 }),
    '512 MiB / 2 GiB (25%), 110 MiB/s, ETA 14 s',
  );
  t.regex(describeCopyProgress(1, 2, { bytesPerSec: 0, etaSeconds: null }), /ETA unknown \(no progress\)$/);
});

test('rehome status shows the last reading’s rate and ETA', (t) => {
  const result = {
    migrations: [
      {
        vm: 'web',
        uuid: 'u',
        source: 'hv1',
        target: 'hv2',
        phase: 'mirroring',
        progress: {
          cur: 512 * MiB,
          end: 2048 * MiB,
          percent: 25,
          at: '2026-12-01T10:00:00.000Z',
          bytesPerSec: 110 * MiB,
          etaSeconds: 14,
        },
        deadline: null,
        pauseLatenciesMs: [],
        timeline: {},
      },
    ],
  } as unknown as StatusResult;
  t.regex(
    formatStatus(result),
    /sync: 512 MiB \/ 2 GiB \(25%\), 110 MiB\/s, ETA 14 s at 2026-12-01T10:00:00\.000Z/,
  );
});
