import test from 'ava';
import { drainHost } from '../../src/drain/drain.js';
import { drainStatus } from '../../src/drain/status.js';
import type { ArmedVm, DrainPlanEntry, DrainPlanReport, PrepareAndArm } from '../../src/drain/types.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/types.js';

const MiB = 1024 * 1024;

function placed(vm: string, target: string, memoryMiB: number): DrainPlanEntry {
  return {
    vm,
    uuid: `uuid-${vm}`,
    source: 'src',
    memoryKiB: memoryMiB * 1024,
    vcpus: 1,
    bytesToCopy: 64 * MiB,
    etaSeconds: 1,
    status: 'placed',
    target,
    reason: `${target}: fits`,
    warnings: [],
    score: { memory: 0.5, vcpu: 0.5, disk: 0.5 },
  };
}

function blocked(vm: string): DrainPlanEntry {
  return {
    vm,
    uuid: `uuid-${vm}`,
    source: 'src',
    memoryKiB: 1024,
    vcpus: 1,
    bytesToCopy: 0,
    etaSeconds: 0,
    status: 'blocked',
    blockers: [{ kind: 'passthrough', reason: '1 passthrough device (hostdev) tied to the source host' }],
  };
}

function report(decisions: DrainPlanEntry[]): DrainPlanReport {
  const placedCount = decisions.filter((d) => d.status === 'placed').length;
  return {
    host: 'src',
    strategy: 'spread',
    linkSpeed: { mibPerSec: 219, source: 'measured-in-design' },
    hostStates: [{ host: 'src', state: 'draining' }],
    unreachable: [],
    decisions,
    totals: {
      vms: decisions.length,
      placed: placedCount,
      blocked: decisions.length - placedCount,
      bytesToCopy: 0,
    },
    blocked: placedCount < decisions.length,
  };
}

/** A fake engine that records how many calls overlap, and finishes them in a scrambled order. */
function fakeEngine(options: { failFor?: string[]; delays?: Record<string, number> } = {}) {
  let running = 0;
  const calls: { vm: string; target: string; bandwidth?: number; deadline: string | null }[] = [];
  const stats = { maxRunning: 0 };
  const prepareAndArm: PrepareAndArm = async (vm, target, opts) => {
    calls.push({
      vm: vm.name,
      target,
      deadline: opts.deadline,
      ...(opts.bandwidthBytesPerSec ? { bandwidth: opts.bandwidthBytesPerSec } : {}),
    });
    running++;
    stats.maxRunning = Math.max(stats.maxRunning, running);
    try {
      opts.onProgress?.('wait-ready', '1 MiB / 64 MiB');
      await new Promise((resolve) => setTimeout(resolve, options.delays?.[vm.name] ?? 5));
      if (options.failFor?.includes(vm.name)) throw new Error(`mirror of ${vm.name} broke`);
      return { migrationId: `mig-${vm.name}`, phase: 'armed' } satisfies ArmedVm;
    } finally {
      running--;
    }
  };
  return { prepareAndArm, calls, stats };
}

function memoryStore(): Store {
  return openSqliteStore(':memory:');
}

const request = { host: 'src', deadline: '2030-01-01T00:00:00.000Z', concurrency: 2, skipBlocked: false };

test('never more than N prepare-and-arm calls at once; every placed VM armed, started in plan order', async (t) => {
  const store = memoryStore();
  t.teardown(() => store.close());
  const vms = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'];
  // Scrambled durations so that slots free up out of order.
  const delays = { v1: 40, v2: 5, v3: 30, v4: 1, v5: 20, v6: 10, v7: 2 };
  for (const concurrency of [1, 2, 3]) {
    const engine = fakeEngine({ delays });
    const plan = report(vms.map((vm, i) => placed(vm, i % 2 ? 'b' : 'c', 100 - i)));
    const result = await drainHost(
      { store, plan: async () => plan, confirm: async () => true, prepareAndArm: engine.prepareAndArm },
      { ...request, concurrency, bandwidthBytesPerSec: 8 * MiB },
    );
    if ('cancelled' in result) return t.fail('cancelled');
    t.is(engine.stats.maxRunning, concurrency, `concurrency ${concurrency}`);
    t.deepEqual(
      engine.calls.map((c) => c.vm),
      vms,
      'started in plan order',
    );
    t.true(engine.calls.every((c) => c.bandwidth === 8 * MiB && c.deadline === request.deadline));
    t.deepEqual(
      engine.calls.map((c) => c.target),
      plan.decisions.map((d) => (d.status === 'placed' ? d.target : '')),
    );
    t.is(result.drain.status, 'armed');
    t.deepEqual(
      result.drain.vms.map((vm) => [vm.vmName, vm.outcome, vm.migrationId]),
      vms.map((vm) => [vm, 'armed', `mig-${vm}`]),
    );
  }
  t.is((await store.getHostState('src'))?.state, 'draining', 'the host stays draining');
});

test('blocked VMs: refused and the host state put back, unless skip-blocked', async (t) => {
  const store = memoryStore();
  t.teardown(() => store.close());
  await store.setHostState('src', 'cordoned');
  const plan = report([placed('big', 'b', 512), blocked('gpu'), placed('small', 'c', 128)]);
  const refused = fakeEngine();
  const deps = { store, plan: async () => plan, confirm: async () => true };
  const error = await t.throwsAsync(drainHost({ ...deps, prepareAndArm: refused.prepareAndArm }, request));
  t.is((error as Error & { kind: string }).kind, 'blocked');
  t.regex(error?.message ?? '', /gpu: 1 passthrough device/);
  t.deepEqual(refused.calls, [], 'nothing prepared');
  t.is((await store.getHostState('src'))?.state, 'cordoned', 'cordoned as before');
  t.deepEqual(await store.listDrains(), [], 'no drain recorded');

  const skipping = fakeEngine();
  const result = await drainHost(
    { ...deps, prepareAndArm: skipping.prepareAndArm },
    { ...request, skipBlocked: true },
  );
  if ('cancelled' in result) return t.fail('cancelled');
  t.deepEqual(
    skipping.calls.map((c) => c.vm),
    ['big', 'small'],
  );
  t.deepEqual(
    result.drain.vms.map((vm) => [vm.vmName, vm.outcome]),
    [
      ['big', 'armed'],
      ['gpu', 'blocked'],
      ['small', 'armed'],
    ],
  );
  t.is(result.drain.status, 'partial');
  t.is(result.previousState, 'cordoned');
  t.is((await store.getHostState('src'))?.state, 'draining');
});

test('no confirmation: nothing prepared, nothing recorded, the host active again', async (t) => {
  const store = memoryStore();
  t.teardown(() => store.close());
  const engine = fakeEngine();
  let stateWhenAsked: string | undefined;
  const result = await drainHost(
    {
      store,
      plan: async () => report([placed('v1', 'b', 64)]),
      confirm: async () => {
        stateWhenAsked = (await store.getHostState('src'))?.state;
        return false;
      },
      prepareAndArm: engine.prepareAndArm,
    },
    request,
  );
  t.true('cancelled' in result);
  t.is(stateWhenAsked, 'draining', 'the host was draining while the plan was made and shown');
  t.deepEqual(engine.calls, []);
  t.is(await store.getHostState('src'), undefined);
  t.deepEqual(await store.listDrains(), []);
});

test('a VM that fails to prepare is recorded failed; the others still go; callbacks tell each phase', async (t) => {
  const store = memoryStore();
  t.teardown(() => store.close());
  const engine = fakeEngine({ failFor: ['v2'] });
  const events: string[] = [];
  const result = await drainHost(
    {
      store,
      plan: async () => report([placed('v1', 'b', 300), placed('v2', 'c', 200), placed('v3', 'b', 100)]),
      confirm: async () => true,
      prepareAndArm: engine.prepareAndArm,
    },
    { ...request, concurrency: 1 },
    { onVm: (e) => events.push(`${e.vm}:${e.outcome}${e.step ? `:${e.step}` : ''}`) },
  );
  if ('cancelled' in result) return t.fail('cancelled');
  t.deepEqual(
    result.drain.vms.map((vm) => [vm.vmName, vm.outcome]),
    [
      ['v1', 'armed'],
      ['v2', 'failed'],
      ['v3', 'armed'],
    ],
  );
  t.is(result.drain.status, 'partial');
  t.regex(result.drain.lastError ?? '', /v2: mirror of v2 broke/);
  t.deepEqual(events, [
    'v1:preparing',
    'v1:preparing:wait-ready',
    'v1:armed',
    'v2:preparing',
    'v2:preparing:wait-ready',
    'v2:failed',
    'v3:preparing',
    'v3:preparing:wait-ready',
    'v3:armed',
  ]);
});

test('drainStatus follows each VM to its migration phase and says when the host is empty', async (t) => {
  const store = memoryStore();
  t.teardown(() => store.close());
  const migrations = new Map<string, string>();
  const prepareAndArm: PrepareAndArm = async (vm, target) => {
    const record = await store.createMigration({
      vmName: vm.name,
      vmUuid: vm.uuid,
      sourceHost: 'src',
      targetHost: target,
    });
    for (const [from, to] of [
      ['planned', 'preparing'],
      ['preparing', 'mirroring'],
      ['mirroring', 'armed'],
    ] as const)
      await store.updatePhase(record.id, from, to);
    migrations.set(vm.name, record.id);
    return { migrationId: record.id, phase: 'armed' };
  };
  t.deepEqual(await drainStatus(store, 'src'), {
    host: 'src',
    hostState: 'active',
    drain: null,
    vms: [],
    moved: 0,
    remaining: 0,
    empty: false,
  });
  await drainHost(
    {
      store,
      plan: async () => report([placed('v1', 'b', 2), placed('v2', 'c', 1)]),
      confirm: async () => true,
      prepareAndArm,
    },
    request,
  );
  const armed = await drainStatus(store, 'src');
  t.is(armed.hostState, 'draining');
  t.deepEqual(
    armed.vms.map((vm) => [vm.vm, vm.target, vm.phase]),
    [
      ['v1', 'b', 'armed'],
      ['v2', 'c', 'armed'],
    ],
  );
  t.false(armed.empty);
  const walk = ['armed', 'cutover', 'switching', 'verifying', 'done'] as const;
  for (const name of ['v1', 'v2']) {
    for (let i = 1; i < walk.length; i++)
      await store.updatePhase(migrations.get(name) as string, walk[i - 1] as 'armed', walk[i] as 'cutover');
    const now = await drainStatus(store, 'src');
    t.is(now.empty, name === 'v2', `empty after ${name}`);
  }
  t.deepEqual(
    (await drainStatus(store, 'src')).vms.map((vm) => vm.phase),
    ['done', 'done'],
  );
});
