import test from 'ava';
import { formatDrainPlan } from '../../src/app/format/drain-plan.js';
import { planHostDrain } from '../../src/drain/plan.js';
import { drainSettings, linkSpeed } from '../../src/drain/settings.js';
import { compareGuestCpus, customCpuXml } from '../../src/inventory/cpu-compare.js';
import { withHostPolicies, withHostStates } from '../../src/inventory/fleet-facts.js';
import type { PlacementInput } from '../../src/inventory/placement-facts.js';
import { jobSpeedUnder } from '../../src/sync/mirror-budget.js';
import { GiB, host, vm } from './placement-fixtures.js';

const MiB = 1024 * 1024;
const speed = { mibPerSec: 100, source: 'flag' as const };

function fleet(): PlacementInput {
  return {
    hosts: [host('src'), host('b', { memoryKiB: 8 * GiB }), host('c'), host('d')],
    vms: [
      vm('big', {
        memoryKiB: 6 * GiB,
        disks: [{ target: 'vda', kind: 'local', virtualSizeBytes: GiB * 1024, allocatedBytes: 300 * MiB }],
      }),
      vm('mid', { memoryKiB: 4 * GiB }),
      vm('gpu', { hostdevs: 1 }),
      vm('elsewhere', { host: 'c' }),
    ],
    unreachable: [],
  };
}

test('the plan covers only the source host VMs, never targets the source or a cordoned host', (t) => {
  const facts = withHostStates(fleet(), [
    { host: 'd', state: 'cordoned', reason: null, since: '', updatedAt: '' },
  ]);
  const report = planHostDrain('src', facts, { linkSpeed: speed, explain: true });
  t.deepEqual(
    report.decisions.map((d) => [d.vm, d.status === 'placed' ? d.target : 'blocked']),
    [
      ['big', 'c'],
      ['gpu', 'blocked'],
      ['mid', 'c'],
    ],
  );
  t.true(report.blocked);
  t.deepEqual(report.hostStates, [
    { host: 'd', state: 'cordoned' },
    { host: 'src', state: 'draining' },
  ]);
  const big = report.decisions[0];
  t.is(big?.bytesToCopy, 300 * MiB);
  t.is(big?.etaSeconds, 3);
  const skippedD = big?.explain?.find((c) => c.host === 'd');
  t.false(skippedD?.eligible);
  t.true(skippedD?.verdicts.some((v) => v.filter === 'host-state' && v.reason === 'host is cordoned'));
  t.is(report.totals.etaSeconds, Math.ceil((300 * MiB + 5e9) / (100 * MiB)));
  const text = formatDrainPlan(report, { explain: true });
  t.regex(text, /gpu is blocked:\n {2}passthrough: 1 passthrough device/);
  t.regex(text, /2 of 3 VMs have a target, 1 blocked\./);
  t.regex(text, /at 100 MiB\/s \(from --link-speed\)/);
  t.regex(text, / {2}d: skipped\n {4}skip {4}host-state: host is cordoned/);
  t.regex(text, /Nothing has been changed and no one has been told\./);
});

test('per-host policy overrides from placement.hosts change capacity for that host only', (t) => {
  const config = { placement: { reservedMemoryMiB: 0, hosts: { c: { reservedMemoryMiB: 62 * 1024 } } } };
  const facts = withHostPolicies(fleet(), config);
  t.is(facts.hosts.find((h) => h.name === 'c')?.policy.reservedMemoryKiB, 62 * GiB);
  t.is(facts.hosts.find((h) => h.name === 'b')?.policy.reservedMemoryKiB, 0, 'fixture value kept');
  const report = planHostDrain('src', facts, { linkSpeed: speed });
  // c keeps 2 GiB for guests: big (6 GiB) goes to d; mid (4 GiB) too, d leaving more free than b. Same-size VMs in name order.
  t.deepEqual(
    report.decisions.map((d) => [d.vm, d.status === 'placed' ? d.target : 'blocked']),
    [
      ['big', 'd'],
      ['gpu', 'blocked'],
      ['mid', 'd'],
    ],
  );
  t.throws(() => drainSettings({ placement: { hosts: { c: { reservedMemoryMiB: -1 } } } }), {
    message: /placement\.hosts\.c\.reservedMemoryMiB/,
  });
});

test('link speed: the flag, else the config, else the measured figure, each named', (t) => {
  t.deepEqual(linkSpeed(50, { hostPolicies: {}, linkSpeedMiBps: 80 }), { mibPerSec: 50, source: 'flag' });
  t.deepEqual(linkSpeed(undefined, drainSettings({ placement: { linkSpeedMiBps: 80 } })), {
    mibPerSec: 80,
    source: 'config',
  });
  t.deepEqual(linkSpeed(undefined, drainSettings({})), { mibPerSec: 219, source: 'measured-in-design' });
});

test('with a --bandwidth budget below the link, ETAs are the allocated bytes over the budget, not the disk size', (t) => {
  const budget = linkSpeed(undefined, drainSettings({}), 10 * MiB);
  t.deepEqual(budget, { mibPerSec: jobSpeedUnder(10 * MiB) / MiB, source: 'bandwidth' });
  t.deepEqual(
    linkSpeed(50, drainSettings({}), 100 * MiB),
    { mibPerSec: 50, source: 'flag' },
    'above the link: the link',
  );
  const report = planHostDrain('src', fleet(), { linkSpeed: budget });
  const big = report.decisions.find((d) => d.vm === 'big');
  // 300 MiB allocated of a 1 TiB disk: 31.5 s at 20/21 of 10 MiB/s, rounded up (the budget counts no zero region),
  // not 29 h.
  t.is(big?.etaSeconds, 32);
  t.regex(
    formatDrainPlan(report),
    /at 9\.52 MiB\/s \(20\/21 of the --bandwidth of each mirror, which counts only the bytes sent\)/,
  );
});

test('an unreachable source is an error; an unreachable target is named and not used', (t) => {
  const facts = fleet();
  t.throws(() => planHostDrain('src', { ...facts, unreachable: ['src'] }, { linkSpeed: speed }), {
    message: /src could not be read/,
  });
  const report = planHostDrain(
    'src',
    { ...facts, hosts: facts.hosts.filter((h) => h.name !== 'c'), unreachable: ['c'] },
    { linkSpeed: speed },
  );
  t.deepEqual(report.unreachable, ['c']);
  t.false(report.decisions.some((d) => d.status === 'placed' && d.target === 'c'));
});

test('custom CPUs are compared once per host and definition; failures become unknown', async (t) => {
  const asked: string[] = [];
  const vms = [
    vm('a', { cpu: { mode: 'custom', model: 'Haswell', features: ['aes'] } }),
    vm('b', { cpu: { mode: 'custom', model: 'Haswell', features: ['aes'] } }),
    vm('c', { cpu: { mode: 'custom' } }),
    vm('d', { cpu: { mode: 'host-model' } }),
  ];
  const hosts = await compareGuestCpus(
    vms,
    [host('x'), host('y'), host('z')],
    async (name, xml, virtType) => {
      asked.push(`${name} ${virtType} ${xml}`);
      if (name === 'z') throw new Error('libvirtd went away');
      return name === 'x' ? 2 : 0;
    },
    new Map([['uuid-a', 'qemu']]),
  );
  t.deepEqual(asked.sort(), [
    `x qemu ${customCpuXml({ mode: 'custom', model: 'Haswell', features: ['aes'] })}`,
    `y qemu ${customCpuXml({ mode: 'custom', model: 'Haswell', features: ['aes'] })}`,
    `z qemu ${customCpuXml({ mode: 'custom', model: 'Haswell', features: ['aes'] })}`,
  ]);
  t.deepEqual(
    hosts.map((h) => h.cpuCompare),
    [
      { 'custom|Haswell|aes': 'superset', 'custom||': 'superset' },
      { 'custom|Haswell|aes': 'incompatible', 'custom||': 'superset' },
      { 'custom|Haswell|aes': 'unknown', 'custom||': 'superset' },
    ],
  );
  t.is(
    customCpuXml({ mode: 'custom', model: "a'<b", features: ['x&y'] }),
    "<cpu mode='custom' match='exact'><model fallback='forbid'>a&#39;&#60;b</model><feature policy='require' name='x&#38;y'/></cpu>",
  );
});
