import test from 'ava';
import { RehomeError } from '../../src/errors.js';
import { placeOne, planDrain, planPlacements } from '../../src/placement/plan.js';
import type { Decision, HostFacts, PlacedDecision, Plan, VmFacts } from '../../src/placement/types.js';
import { AMD, GB, GiB, host, vm } from './placement-fixtures.js';

const source = host('src', { state: 'draining' });

function placed(decision: Decision | undefined): PlacedDecision {
  if (decision?.status !== 'placed') throw new Error(`not placed: ${JSON.stringify(decision)}`);
  return decision;
}

function targets(plan: Plan): Record<string, string> {
  return Object.fromEntries(plan.decisions.map((d) => [d.vm, d.status === 'placed' ? d.target : 'blocked']));
}

const engines = ['fast', 'reference'] as const;

for (const engine of engines) {
  test(`${engine}: spread picks the most free memory after placement, pack the least`, (t) => {
    const hosts = [
      source,
      host('big', { guests: [{ name: 'x', vcpus: 1, memoryKiB: 16 * GiB }] }), // 48 of 64 GiB free
      host('small', { memoryKiB: 32 * GiB, guests: [{ name: 'y', vcpus: 1, memoryKiB: 4 * GiB }] }), // 28 of 32 free
    ];
    const spread = placed(placeOne(vm('a'), hosts, { engine }));
    t.is(spread.target, 'small'); // 24/32 = 75% left beats 44/64 = 68.75%
    t.is(
      spread.reason,
      'small: passes every filter and leaves the most free after placement (spread): memory 75.0%, vCPU 81.3%, disk 98.0%',
    );
    t.deepEqual(spread.score, { memory: 0.75, vcpu: 13 / 16, disk: 0.98 });
    const pack = placed(placeOne(vm('a'), hosts, { engine, strategy: 'pack' }));
    t.is(pack.target, 'big');
    t.regex(pack.reason, /^big: .*least free after placement \(pack\)/);
  });

  test(`${engine}: equal memory falls back to vCPU, then disk, then host name`, (t) => {
    const byVcpu = [source, host('h1', { cores: 8 }), host('h2', { cores: 32 })];
    t.is(placed(placeOne(vm('a'), byVcpu, { engine })).target, 'h2');
    t.is(placed(placeOne(vm('a'), byVcpu, { engine, strategy: 'pack' })).target, 'h1');
    const byDisk = [source, host('h1', { imageDirFreeBytes: 5000 * GB }), host('h2')];
    t.is(placed(placeOne(vm('a'), byDisk, { engine })).target, 'h1');
    // Identical hosts, given in reverse order: the name decides, whatever the input order.
    const same = [host('h9'), host('h10'), host('h2'), source];
    t.is(placed(placeOne(vm('a'), same, { engine })).target, 'h10');
    t.is(placed(placeOne(vm('a'), same, { engine, strategy: 'pack' })).target, 'h10');
  });

  test(`${engine}: capacity claimed by earlier placements counts for later ones`, (t) => {
    // Each 40 GiB VM fits alone on either host, but two do not fit on one.
    const hosts = [source, host('b'), host('c', { memoryKiB: 48 * GiB })];
    const vms = [vm('one', { memoryKiB: 40 * GiB }), vm('two', { memoryKiB: 40 * GiB })];
    const pack = planDrain('src', vms, hosts, { engine, strategy: 'pack' });
    t.deepEqual(targets(pack), { one: 'c', two: 'b' });
    const three = planDrain('src', [...vms, vm('z-three', { memoryKiB: 40 * GiB })], hosts, { engine });
    t.deepEqual(targets(three), { one: 'b', two: 'c', 'z-three': 'blocked' });
    const blocked = three.decisions[2];
    t.is(
      blocked?.status === 'blocked' && blocked.blockers[0]?.reason,
      'no target among 3 hosts: skipped by memory on 2, host-state on 1, not-source on 1',
    );
  });

  test(`${engine}: disk claims add up within a plan`, (t) => {
    const hosts = [source, host('b', { imageDirFreeBytes: 50 * GB })];
    const plan = planDrain('src', [vm('a'), vm('b'), vm('c')], hosts, { engine });
    t.deepEqual(targets(plan), { a: 'b', b: 'b', c: 'blocked' });
  });

  test(`${engine}: a VM without local disks needs no disk room`, (t) => {
    const hosts = [
      source,
      host('b', { imageDirFreeBytes: 0, policy: { ...host('b').policy, diskHeadroomBytes: GB } }),
    ];
    t.is(placed(placeOne(vm('a', { disks: [] }), hosts, { engine })).target, 'b');
    t.is(placeOne(vm('c'), hosts, { engine }).status, 'blocked');
  });

  test(`${engine}: anti-affinity within a plan and against guests already there`, (t) => {
    const hosts = [
      source,
      host('b', { guests: [{ name: 'web-0', vcpus: 1, memoryKiB: GiB, antiAffinity: ['web'] }] }),
      host('c'),
      host('d'),
    ];
    const vms = ['web-1', 'web-2', 'web-3'].map((name) => vm(name, { antiAffinity: ['web'] }));
    const plan = planDrain('src', vms, hosts, { engine });
    t.deepEqual(targets(plan), { 'web-1': 'c', 'web-2': 'd', 'web-3': 'blocked' });
  });

  test(`${engine}: hosts with a CPU warning are used only when no clean host fits`, (t) => {
    const hosts = [source, host('amd', { cpu: AMD, memoryKiB: 512 * GiB }), host('intel')];
    const clean = placed(placeOne(vm('a'), hosts, { engine }));
    t.is(clean.target, 'intel');
    t.deepEqual(clean.warnings, []);
    const big = placed(placeOne(vm('a', { memoryKiB: 100 * GiB }), hosts, { engine }));
    t.is(big.target, 'amd');
    t.deepEqual(big.warnings, [
      "host-model: the guest's CPU changes from Intel Icelake-Server to AMD EPYC-Milan",
    ]);
  });
}

test('VM-level blockers come before any host is considered', (t) => {
  const hosts = [source, host('b')];
  const vms = [
    vm('gpu', { hostdevs: 2 }),
    vm('lun', {
      disks: [
        {
          target: 'sdb',
          kind: 'unsupported',
          virtualSizeBytes: 0,
          allocatedBytes: 0,
          note: 'block device /dev/sdb',
        },
      ],
    }),
    vm('macvtap', { nics: [{ mac: '52:54:00:aa:bb:cc', type: 'direct', source: 'eth0' }] }),
    vm('fine'),
  ];
  const plan = planDrain('src', vms, hosts, { explain: true });
  const blockers = Object.fromEntries(
    plan.decisions.map((d) => [d.vm, d.status === 'blocked' ? d.blockers : []]),
  );
  t.deepEqual(blockers.gpu, [
    { kind: 'passthrough', reason: '2 passthrough devices (hostdev) tied to the source host' },
  ]);
  t.deepEqual(blockers.lun, [{ kind: 'disk', reason: 'disk sdb cannot be moved: block device /dev/sdb' }]);
  t.deepEqual(blockers.macvtap, [
    {
      kind: 'nic',
      reason: 'NIC 52:54:00:aa:bb:cc is of type direct (eth0); only bridge, network and user NICs move',
    },
  ]);
  t.deepEqual(blockers.fine, []);
  t.is(plan.decisions.find((d) => d.vm === 'gpu')?.explain, undefined);
  t.deepEqual(plan.totals, { vms: 4, placed: 1, blocked: 3, bytesToCopy: 5 * GB });
});

test('explain lists every candidate with every verdict and marks the choice', (t) => {
  const hosts = [source, host('b'), host('c', { bridges: [] })];
  const decision = placed(placeOne(vm('a'), hosts, { explain: true }));
  const explain = decision.explain ?? [];
  t.deepEqual(
    explain.map((c) => [c.host, c.eligible, c.chosen]),
    [
      ['b', true, true],
      ['c', false, false],
      ['src', false, false],
    ],
  );
  for (const candidate of explain) t.is(candidate.verdicts.length, 11);
  t.deepEqual(explain[0]?.score, decision.score);
  t.is(explain[1]?.score, undefined);
  const network = explain[1]?.verdicts.find((v) => v.filter === 'networks');
  t.deepEqual(network, { status: 'skip', filter: 'networks', reason: 'missing bridge br0' });
  t.deepEqual(
    explain[2]?.verdicts.filter((v) => v.status !== 'ok').map((v) => v.filter),
    ['not-source', 'host-state'],
  );
  t.is(placeOne(vm('a'), hosts).explain, undefined);
});

test('placement order is largest memory first, then name; totals give bytes and ETA', (t) => {
  const vms = [
    vm('b-small', { memoryKiB: GiB }),
    vm('a-small', { memoryKiB: GiB }),
    vm('big', {
      memoryKiB: 8 * GiB,
      disks: [{ target: 'vda', kind: 'local', virtualSizeBytes: GB, allocatedBytes: 3e9 }],
    }),
  ];
  const plan = planDrain('src', vms, [source, host('b')], { linkBytesPerSecond: 1e9 });
  t.deepEqual(
    plan.decisions.map((d) => d.vm),
    ['big', 'a-small', 'b-small'],
  );
  t.deepEqual(plan.totals, { vms: 3, placed: 3, blocked: 0, bytesToCopy: 13e9, etaSeconds: 13 });
});

test('planDrain refuses an unknown source and VMs of other hosts', (t) => {
  const error = t.throws(() => planDrain('nope', [], [source]));
  t.true(error instanceof RehomeError);
  t.is(error?.message, 'host nope is not in the inventory');
  t.throws(() => planDrain('src', [vm('a', { host: 'other' })], [source]), { message: /a \(on other\)/ });
});

test('placeOne never picks the VM own host, even when it is active', (t) => {
  const hosts = [host('src', { memoryKiB: 1024 * GiB }), host('b')];
  t.is(placed(placeOne(vm('a'), hosts)).target, 'b');
});

function randomFleet(seed: number): { hosts: HostFacts[]; vms: VmFacts[] } {
  let a = seed;
  const random = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const cpus = [host('x').cpu, AMD];
  const hosts = Array.from({ length: 40 }, (_, h) =>
    host(`h${h}`, {
      state: h < 4 ? 'draining' : pick(['active', 'active', 'active', 'cordoned']),
      labels: { zone: pick(['a', 'b']) },
      cpu: pick(cpus),
      cores: pick([8, 16]),
      memoryKiB: pick([32, 64]) * GiB,
      imageDirFreeBytes: pick([100, 300]) * GB,
      bridges: pick([['br0'], ['br0', 'br1']]),
      guests: [{ name: `g${h}`, vcpus: 2, memoryKiB: pick([0, 8]) * GiB, antiAffinity: [pick(['x', 'y'])] }],
    }),
  );
  const vms = Array.from({ length: 150 }, (_, v) =>
    vm(`v${v}`, {
      host: `h${v % 4}`,
      memoryKiB: pick([1, 2, 4, 8, 16]) * GiB,
      vcpus: pick([1, 2, 4]),
      cpu: { mode: pick(['host-model', 'host-passthrough']) },
      nics: [{ mac: `m${v}`, type: 'bridge', source: pick(['br0', 'br0', 'br1']) }],
      ...(random() < 0.3 ? { antiAffinity: [pick(['x', 'y', 'z'])] } : {}),
    }),
  );
  return { hosts, vms };
}

test('the fast engine makes the same decisions as the reference engine', (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { hosts, vms } = randomFleet(seed);
    for (const strategy of ['spread', 'pack'] as const) {
      const options = { strategy, labelRules: [{ key: 'zone', sameAsSource: true as const }] };
      const fast = planPlacements(vms, hosts, options);
      const reference = planPlacements(vms, hosts, { ...options, engine: 'reference' });
      t.deepEqual(fast, reference, `seed ${seed}, ${strategy}`);
      t.true(fast.totals.placed > 20 && fast.totals.blocked > 0, `seed ${seed} exercises both outcomes`);
    }
  }
});
