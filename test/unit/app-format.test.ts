import test from 'ava';
import { formatCordon, formatUncordon } from '../../src/app/format/cordon.js';
import { formatDrainPlan } from '../../src/app/format/drain-plan.js';
import { formatHostAdded, formatHostRemoved } from '../../src/app/format/hosts.js';
import { formatServing } from '../../src/app/format/links.js';
import { formatOwnerSet } from '../../src/app/format/owner.js';
import {
  formatCancel,
  formatReboot,
  formatReconcile,
  formatReschedule,
} from '../../src/app/format/vm-actions.js';
import { planHostDrain } from '../../src/drain/plan.js';
import { formatDuration } from '../../src/placement/units.js';
import { host, vm } from './placement-fixtures.js';

// Characters that a careless formatter would interpret: String.replace patterns, printf directives, a path and a wide
// glyph. A libvirt domain name may hold all of them.
const HOSTILE = 'db $& $1 %s {0} ../x 数据库';

test('cordon and uncordon: the change, or why nothing changed', (t) => {
  const change = (before: 'active' | 'cordoned' | 'draining', after: typeof before) => ({
    host: 'kvm7',
    before,
    after,
    changed: before !== after,
  });
  t.is(formatCordon(change('active', 'cordoned')), 'kvm7 cordoned');
  t.is(formatCordon(change('cordoned', 'cordoned')), 'kvm7 is already cordoned (no change)');
  t.is(formatCordon(change('draining', 'draining')), 'kvm7 is already draining (no change)');
  t.is(formatUncordon(change('draining', 'active')), 'kvm7 uncordoned (was draining)');
  t.is(formatUncordon(change('active', 'active')), 'kvm7 is not cordoned (no change)');
});

test('the drain plan keeps a hostile VM name verbatim, its columns aligned in characters (a wide glyph counts one)', (t) => {
  const report = planHostDrain(
    'src',
    { hosts: [host('src'), host('b')], vms: [vm(HOSTILE), vm('web')], unreachable: [] },
    { linkSpeed: { mibPerSec: 219, source: 'measured-in-design' } },
  );
  const text = formatDrainPlan(report);
  const rows = text.split('\n\n')[1]?.split('\n') ?? [];
  t.is(rows.length, 3);
  const targetColumn = rows[0]?.indexOf('TARGET');
  for (const row of rows.slice(1)) t.is(row.lastIndexOf(' b'), (targetColumn ?? 0) - 1, row);
  t.true(text.includes(`${HOSTILE} → `));
  t.regex(text, /\(measured for a block copy over TLS\)/);
  t.notRegex(text, /DESIGN/);
});

test('one-line reports print a hostile VM name as given', (t) => {
  t.is(
    formatCancel({ vm: HOSTILE, phase: 'cancelled', source: 'a' }),
    `${HOSTILE}: cancelled; it stays on a.`,
  );
  const reboot = {
    vm: HOSTILE,
    phase: 'done',
    source: 'a',
    target: 'b',
    pauseLatencyMs: 12,
    forced: false,
    lastError: null,
  } as const;
  t.is(formatReboot({ ...reboot, outcome: 'done' }), `${HOSTILE}: done (pause 12 ms); it runs on b.`);
  t.is(
    formatReboot({ ...reboot, outcome: 'rolled-back', lastError: 'define failed' }),
    `${HOSTILE}: rolled-back (pause 12 ms); it runs on a. define failed`,
  );
  t.is(
    formatReschedule({
      vm: HOSTILE,
      id: 'm1',
      phase: 'armed',
      previousDeadline: null,
      deadline: '2026-12-15T22:00:00.000Z',
      latest: '2026-12-30T00:00:00.000Z',
    }),
    `${HOSTILE}: deadline none → 2026-12-15T22:00:00.000Z (limit 2026-12-30T00:00:00.000Z).`,
  );
  t.is(
    formatOwnerSet({
      vm: HOSTILE,
      uuid: 'u',
      host: 'a',
      owner: { address: 'alice@example.com', timeZone: 'Europe/Paris' },
      applied: ['config', 'live'],
      unreachable: [],
    }),
    `Owner of ${HOSTILE} on a: alice@example.com (Europe/Paris) [config, live]`,
  );
});

test('reconcile: a line per entry, or says there was nothing', (t) => {
  t.is(formatReconcile([]), 'Nothing to reconcile.');
  t.is(
    formatReconcile([
      {
        vm: HOSTILE,
        id: 'm1',
        phaseBefore: 'cutover',
        phaseAfter: 'done',
        action: 'forward',
        reason: 'runs on b',
      },
      { vm: 'web', id: 'm2', phaseBefore: 'armed', phaseAfter: 'armed', action: 'busy', reason: 'locked' },
    ]),
    `${HOSTILE}: cutover → done (forward: runs on b)\nweb: armed → armed (busy: locked)`,
  );
});

test('hosts, links and durations', (t) => {
  const added = { name: 'lab-a', address: 'root@10.0.0.11', imageDir: '/var/lib/libvirt/images', labels: {} };
  t.is(formatHostAdded({ configPath: '/c.yaml', added }), 'Added host lab-a (root@10.0.0.11) to /c.yaml');
  t.is(formatHostRemoved({ configPath: '/c.yaml', removed: added }), 'Removed host lab-a from /c.yaml');
  t.is(
    formatServing({ origin: 'http://127.0.0.1:8080', baseUrl: 'https://links.example/r' }),
    'Serving links on http://127.0.0.1:8080 (links point at https://links.example/r)',
  );
  t.is(formatDuration(45), '45 s');
  t.is(formatDuration(725), '12 min 5 s');
  t.is(formatDuration(3 * 3600 + 20 * 60 + 59), '3 h 20 min');
  t.is(formatDuration(7_500), '2 h 5 min');
});
