import test from 'ava';
import { guestCpuKey } from '../../src/placement/cpu-key.js';
import { antiAffinityFilter } from '../../src/placement/filters/anti-affinity.js';
import { cpuFilter } from '../../src/placement/filters/cpu.js';
import { diskFilter } from '../../src/placement/filters/disk.js';
import { hostStateFilter, notSourceFilter } from '../../src/placement/filters/host-state.js';
import { labelsFilter } from '../../src/placement/filters/labels.js';
import { memoryFilter } from '../../src/placement/filters/memory.js';
import { networksFilter } from '../../src/placement/filters/networks.js';
import { vcpusFilter } from '../../src/placement/filters/vcpus.js';
import { AMD, ctx, GB, GiB, host, INTEL, load, vm } from './placement-fixtures.js';

test('not-source: skips the host the VM runs on', (t) => {
  t.deepEqual(notSourceFilter(vm('a'), host('src'), ctx()), {
    status: 'skip',
    filter: 'not-source',
    reason: 'this is the host the VM runs on',
  });
  t.is(notSourceFilter(vm('a'), host('b'), ctx()).status, 'ok');
});

test('host-state: only active hosts take VMs', (t) => {
  t.is(hostStateFilter(vm('a'), host('b'), ctx()).status, 'ok');
  for (const state of ['draining', 'cordoned'] as const) {
    const verdict = hostStateFilter(vm('a'), host('b', { state }), ctx());
    t.is(verdict.status, 'skip');
    t.is(verdict.reason, `host is ${state}`);
  }
});

test('host-state: invalid facts are an error, not a silent pass', (t) => {
  const verdict = hostStateFilter(vm('a'), host('b', { cores: Number.NaN }), ctx());
  t.is(verdict.status, 'error');
  t.regex(verdict.reason, /cores=NaN/);
});

test('cpu: host-passthrough needs the identical model and flags', (t) => {
  const guest = vm('a', { cpu: { mode: 'host-passthrough' } });
  t.is(cpuFilter(guest, host('b'), ctx()).status, 'ok');
  const sameFlagsOtherOrder = host('b', { cpu: { ...INTEL, features: [...INTEL.features].reverse() } });
  t.is(cpuFilter(guest, sameFlagsOtherOrder, ctx()).status, 'ok');

  const fewerFlags = cpuFilter(guest, host('b', { cpu: { ...INTEL, features: ['avx2', 'sse4.2'] } }), ctx());
  t.is(fewerFlags.status, 'skip');
  t.is(fewerFlags.reason, 'host-passthrough needs identical flags: missing vmx');

  const moreFlags = cpuFilter(
    guest,
    host('b', { cpu: { ...INTEL, features: [...INTEL.features, 'avx512f'] } }),
    ctx(),
  );
  t.is(moreFlags.reason, 'host-passthrough needs identical flags: extra avx512f');

  const otherModel = cpuFilter(guest, host('b', { cpu: AMD }), ctx());
  t.is(otherModel.status, 'skip');
  t.is(otherModel.reason, 'host-passthrough needs Intel Icelake-Server, host has AMD EPYC-Milan');

  const noSource = cpuFilter(guest, host('b'), ctx({ source: undefined }));
  t.is(noSource.status, 'skip');
  t.regex(noSource.reason, /CPU of source host src is unknown/);
});

test('cpu: host-model starts anywhere; a different CPU is a warning', (t) => {
  const guest = vm('a', { cpu: { mode: 'host-model' } });
  t.is(cpuFilter(guest, host('b'), ctx()).status, 'ok');
  const other = cpuFilter(guest, host('b', { cpu: AMD }), ctx());
  t.is(other.status, 'warning');
  t.is(other.reason, "host-model: the guest's CPU changes from Intel Icelake-Server to AMD EPYC-Milan");
  const flags = cpuFilter(guest, host('b', { cpu: { ...INTEL, features: ['avx2'] } }), ctx());
  t.is(flags.status, 'warning');
  t.is(flags.reason, "host-model: same model, the guest's flags change: missing sse4.2, vmx");
});

test('cpu: custom models use the caller-provided compare verdict', (t) => {
  const cpu = { mode: 'custom', model: 'Skylake-Server', features: ['avx2'] };
  const guest = vm('a', { cpu });
  const key = guestCpuKey(cpu);
  t.is(cpuFilter(guest, host('b', { cpuCompare: { [key]: 'superset' } }), ctx()).status, 'ok');
  t.is(cpuFilter(guest, host('b', { cpuCompare: { [key]: 'identical' } }), ctx()).status, 'ok');
  const incompatible = cpuFilter(guest, host('b', { cpuCompare: { [key]: 'incompatible' } }), ctx());
  t.is(incompatible.status, 'skip');
  t.is(incompatible.reason, 'custom Skylake-Server: host CPU is incompatible');
  const unknown = cpuFilter(guest, host('b', { cpuCompare: { [key]: 'unknown' } }), ctx());
  t.is(unknown.status, 'skip');
  t.is(unknown.reason, 'custom Skylake-Server: compare-hypervisor-CPU could not decide');
  const missing = cpuFilter(guest, host('b'), ctx());
  t.is(missing.reason, "custom Skylake-Server: not compared with this host's CPU");
  t.is(
    guestCpuKey({ mode: 'custom', model: 'X', features: ['b', 'a'] }),
    guestCpuKey({ mode: 'custom', model: 'X', features: ['a', 'b'] }),
  );
});

test('cpu: other modes are skipped with the mode named', (t) => {
  const verdict = cpuFilter(vm('a', { cpu: { mode: 'maximum' } }), host('b'), ctx());
  t.is(verdict.status, 'skip');
  t.is(verdict.reason, 'CPU mode maximum is not supported by placement');
});

test('memory: committed + VM must stay under (total − reserved) × overcommit', (t) => {
  const target = host('b', {
    memoryKiB: 64 * GiB,
    policy: { ...host('b').policy, reservedMemoryKiB: 4 * GiB, memoryOvercommit: 1.5 },
  });
  const capacity = 90 * GiB; // (64 − 4) × 1.5
  const fits = memoryFilter(
    vm('a', { memoryKiB: 10 * GiB }),
    target,
    ctx({ load: load({ memoryCapacityKiB: capacity, memoryCommittedKiB: 80 * GiB }) }),
  );
  t.is(fits.status, 'ok');
  t.is(fits.reason, '90 GiB of 90 GiB after placement, (64 GiB − 4 GiB reserved) × 1.5');
  const full = memoryFilter(
    vm('a', { memoryKiB: 11 * GiB }),
    target,
    ctx({ load: load({ memoryCapacityKiB: capacity, memoryCommittedKiB: 80 * GiB }) }),
  );
  t.is(full.status, 'skip');
  t.is(full.reason, 'needs 11 GiB, 10 GiB free of 90 GiB, (64 GiB − 4 GiB reserved) × 1.5');
});

test('vcpus: committed + VM must stay under cores × overcommit', (t) => {
  const target = host('b', { cores: 8, policy: { ...host('b').policy, cpuOvercommit: 2 } });
  const fits = vcpusFilter(
    vm('a', { vcpus: 4 }),
    target,
    ctx({ load: load({ vcpuCapacity: 16, vcpusCommitted: 12 }) }),
  );
  t.is(fits.status, 'ok');
  t.is(fits.reason, '16 of 16 vCPUs after placement, 8 CPUs × 2');
  const full = vcpusFilter(
    vm('a', { vcpus: 5 }),
    target,
    ctx({ load: load({ vcpuCapacity: 16, vcpusCommitted: 12 }) }),
  );
  t.is(full.status, 'skip');
  t.is(full.reason, 'needs 5 vCPUs, 4 free of 16, 8 CPUs × 2');
});

test('disk: virtual size of local disks + headroom within free − claimed', (t) => {
  const guest = vm('a', {
    disks: [
      { target: 'vda', kind: 'local', virtualSizeBytes: 40 * GB, allocatedBytes: 1 },
      { target: 'vdb', kind: 'network', virtualSizeBytes: 900 * GB, allocatedBytes: 1 },
      { target: 'sda', kind: 'skip', virtualSizeBytes: 900 * GB, allocatedBytes: 1 },
    ],
  });
  const room = { diskFreeBytes: 100 * GB, diskHeadroomBytes: 10 * GB };
  t.is(
    diskFilter(guest, host('b'), ctx({ load: load({ ...room, diskClaimedBytes: 50 * GB }) })).status,
    'ok',
  );
  const full = diskFilter(guest, host('b'), ctx({ load: load({ ...room, diskClaimedBytes: 50.5 * GB }) }));
  t.is(full.status, 'skip');
  t.is(
    full.reason,
    'needs 37.3 GiB, more than is left: 93.1 GiB free, 47.0 GiB claimed by this plan, 9.3 GiB headroom',
  );
  const none = diskFilter(vm('a', { disks: [] }), host('b'), ctx({ load: load({ diskFreeBytes: 0 }) }));
  t.deepEqual(none, { status: 'ok', filter: 'disk', reason: 'no local disks to copy' });
});

test('networks: every bridge and network must exist on the target', (t) => {
  const guest = vm('a', {
    nics: [
      { mac: 'm1', type: 'bridge', source: 'br0' },
      { mac: 'm2', type: 'network', source: 'storage' },
    ],
  });
  const ok = networksFilter(guest, host('b', { networks: ['default', 'storage'] }), ctx());
  t.is(ok.status, 'ok');
  t.is(ok.reason, 'has bridge br0, network storage');
  const missing = networksFilter(guest, host('b', { bridges: ['br1'] }), ctx());
  t.is(missing.status, 'skip');
  t.is(missing.reason, 'missing bridge br0, network storage');
});

test('labels: rules from config and VM metadata, same-as-source included', (t) => {
  const source = host('src', { labels: { zone: 'a' } });
  const rules = [
    { key: 'zone', sameAsSource: true as const },
    { key: 'tier', equals: 'gold' },
  ];
  const good = host('b', { labels: { zone: 'a', tier: 'gold', ssd: 'yes' } });
  const guest = vm('v', { requiredLabels: { ssd: 'yes' } });
  const ok = labelsFilter(guest, good, ctx({ source, labelRules: rules }));
  t.is(ok.status, 'ok');
  t.is(ok.reason, 'zone=a, tier=gold, ssd=yes');
  const wrongZone = labelsFilter(
    guest,
    host('c', { labels: { zone: 'b', tier: 'gold', ssd: 'yes' } }),
    ctx({ source, labelRules: rules }),
  );
  t.is(wrongZone.status, 'skip');
  t.is(wrongZone.reason, 'has zone=b, needs zone=a (same as source)');
  const missing = labelsFilter(
    guest,
    host('c', { labels: { zone: 'a' } }),
    ctx({ source, labelRules: rules }),
  );
  t.is(missing.reason, 'has no tier, needs tier=gold (config); has no ssd, needs ssd=yes (VM metadata)');
  const noSource = labelsFilter(guest, good, ctx({ source: undefined, labelRules: rules }));
  t.is(noSource.status, 'skip');
  t.is(noSource.reason, 'source host src is unknown, so label zone cannot be matched');
});

test('labels: a source without the label matches only targets without it', (t) => {
  const rules = [{ key: 'zone', sameAsSource: true as const }];
  const source = host('src', { labels: {} });
  t.is(labelsFilter(vm('v'), host('b', { labels: {} }), ctx({ source, labelRules: rules })).status, 'ok');
  const labelled = labelsFilter(
    vm('v'),
    host('b', { labels: { zone: 'a' } }),
    ctx({ source, labelRules: rules }),
  );
  t.is(labelled.reason, 'has zone=a, needs no zone (same as source)');
});

test('anti-affinity: a group already on the host is a skip, naming its holder', (t) => {
  const guest = vm('web-2', { antiAffinity: ['web'] });
  const held = antiAffinityFilter(
    guest,
    host('b'),
    ctx({ load: load({ groups: new Map([['web', 'web-1']]) }) }),
  );
  t.deepEqual(held, { status: 'skip', filter: 'anti-affinity', reason: 'group web is already here (web-1)' });
  t.is(
    antiAffinityFilter(guest, host('b'), ctx({ load: load({ groups: new Map([['db', 'db-1']]) }) })).status,
    'ok',
  );
  t.is(
    antiAffinityFilter(guest, host('b'), ctx({ load: load({ groups: new Map([['web', 'web-2']]) }) })).status,
    'ok',
  );
  t.is(antiAffinityFilter(vm('x'), host('b'), ctx()).reason, 'no anti-affinity groups');
});
