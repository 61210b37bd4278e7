import { RehomeError } from '../errors.js';
import type { DrainRecord, DrainStatusName, HostStateName, Store } from '../store/types.js';
import { forEachLimited } from './pool.js';
import type { DrainCallbacks, DrainPlanReport, DrainResult, PrepareAndArm } from './types.js';

export interface DrainRequest {
  host: string;
  /** ISO-8601 UTC. */
  deadline: string | null;
  /** At most this many VMs in their initial copy at once. */
  concurrency: number;
  bandwidthBytesPerSec?: number;
  /** Drain the VMs that have a target and leave the blocked ones where they are. */
  skipBlocked: boolean;
}

export interface DrainDeps {
  store: Store;
  /** The plan for the host, made after the host is marked draining. */
  plan: (host: string) => Promise<DrainPlanReport>;
  /** Asked once the plan is known; false stops the drain before anything moves. */
  confirm: (plan: DrainPlanReport) => Promise<boolean>;
  prepareAndArm: PrepareAndArm;
}

/**
 * Empties a host, one step after another:
 * 1. mark the host draining (nothing new lands on it);
 * 2. plan; refuse if VMs are blocked (unless skipBlocked), or if the operator says no: the host's state is then put
 *    back as it was and nothing else was touched;
 * 3. record the drain, then prepare and arm each placed VM in plan order, at most `concurrency` at once. A VM that
 *    fails is recorded as failed (the engine has rolled it back) and the others go on.
 * The host stays draining afterwards: `rehome hosts uncordon` ends that.
 */
export async function drainHost(
  deps: DrainDeps,
  request: DrainRequest,
  callbacks: DrainCallbacks = {},
): Promise<DrainResult | { cancelled: true; plan: DrainPlanReport }> {
  const { store } = deps;
  const marked = await store.setHostState(request.host, 'draining', 'drain');
  const previousState = marked.before;
  let plan: DrainPlanReport;
  try {
    plan = await deps.plan(request.host);
    if (plan.blocked && !request.skipBlocked) throw blockedError(plan);
    if (!(await deps.confirm(plan))) {
      await restore(store, request.host, previousState);
      return { cancelled: true, plan };
    }
  } catch (err) {
    await restore(store, request.host, previousState);
    throw err;
  }
  const drain = await store.createDrain({
    host: request.host,
    deadline: request.deadline,
    concurrency: request.concurrency,
    bandwidthBytesPerSec: request.bandwidthBytesPerSec ?? null,
    vms: plan.decisions.map((decision) =>
      decision.status === 'placed'
        ? {
            vmUuid: decision.uuid,
            vmName: decision.vm,
            targetHost: decision.target,
            outcome: 'pending' as const,
          }
        : {
            vmUuid: decision.uuid,
            vmName: decision.vm,
            targetHost: null,
            outcome: 'blocked' as const,
            detail: decision.blockers.map((b) => b.reason).join('; '),
          },
    ),
  });
  callbacks.onStart?.(
    plan.decisions.map((d) => ({ vm: d.vm, target: d.status === 'placed' ? d.target : null })),
  );
  for (const decision of plan.decisions) {
    if (decision.status === 'blocked')
      callbacks.onVm?.({ vm: decision.vm, target: null, outcome: 'blocked' });
  }
  const placed = plan.decisions.flatMap((decision) => (decision.status === 'placed' ? [decision] : []));
  await forEachLimited(placed, request.concurrency, async (decision) => {
    const event = { vm: decision.vm, target: decision.target };
    await store.updateDrainVm(drain.id, decision.uuid, { outcome: 'preparing' });
    callbacks.onVm?.({ ...event, outcome: 'preparing' });
    try {
      const armed = await deps.prepareAndArm({ name: decision.vm, uuid: decision.uuid }, decision.target, {
        deadline: request.deadline,
        ...(request.bandwidthBytesPerSec ? { bandwidthBytesPerSec: request.bandwidthBytesPerSec } : {}),
        onProgress: (step, message) =>
          callbacks.onVm?.({ ...event, outcome: 'preparing', step, ...(message ? { message } : {}) }),
      });
      await store.updateDrainVm(drain.id, decision.uuid, {
        outcome: 'armed',
        migrationId: armed.migrationId,
      });
      callbacks.onVm?.({ ...event, outcome: 'armed' });
    } catch (err) {
      const message = (err as Error).message;
      await store.updateDrainVm(drain.id, decision.uuid, { outcome: 'failed', detail: message });
      callbacks.onVm?.({ ...event, outcome: 'failed', message });
    }
  });
  const finished = await finish(store, drain.id);
  return { drain: finished, plan, previousState };
}

async function finish(store: Store, id: string): Promise<DrainRecord> {
  const drain = (await store.getDrain(id)) as DrainRecord;
  const outcomes = drain.vms.map((vm) => vm.outcome);
  const status: DrainStatusName = outcomes.every((o) => o === 'armed')
    ? 'armed'
    : outcomes.some((o) => o === 'armed')
      ? 'partial'
      : 'failed';
  const failed = drain.vms.filter((vm) => vm.outcome === 'failed').map((vm) => `${vm.vmName}: ${vm.detail}`);
  return store.updateDrain(id, {
    status,
    finishedAt: new Date().toISOString(),
    lastError: failed.length > 0 ? failed.join('; ') : null,
  });
}

async function restore(store: Store, host: string, state: HostStateName | 'active'): Promise<void> {
  await store.setHostState(host, state, state === 'active' ? null : 'restored after a refused drain');
}

export function blockedError(plan: DrainPlanReport): RehomeError {
  const blocked = plan.decisions.flatMap((d) =>
    d.status === 'blocked' ? [`${d.vm}: ${d.blockers.map((b) => b.reason).join('; ')}`] : [],
  );
  return new RehomeError(
    `${blocked.length} VM${blocked.length === 1 ? '' : 's'} on ${plan.host} cannot be moved:\n  ${blocked.join('\n  ')}`,
    'blocked',
    [],
    { subject: { code: 'drain-blocked', host: plan.host } },
  );
}
