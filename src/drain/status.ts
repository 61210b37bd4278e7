import type { DrainRecord, DrainVmOutcome, Store } from '../store/types.js';
import { attemptsOf, describeVerdict, rearmVerdict } from './rearm.js';

export interface DrainVmStatus {
  vm: string;
  uuid: string;
  target: string | null;
  /** The drain's view: pending, preparing, armed, failed, blocked. */
  outcome: DrainVmOutcome;
  /** The migration's phase (armed, cutover, done, rolled-back, …), when one was started. */
  phase: string | null;
  migrationId: string | null;
  detail: string | null;
  /**
   * For a VM still on the host whose move was rolled back: whether it waits to be armed again (and until when) or
   * stays, with the reason. Null when it is on its way or moved.
   */
  waiting: string | null;
}

export interface DrainStatus {
  host: string;
  /** cordoned, draining or active, from the store. */
  hostState: string;
  drain: Omit<DrainRecord, 'vms'> | null;
  vms: DrainVmStatus[];
  /** VMs whose migration is done. */
  moved: number;
  /** VMs still to move: the drain's VMs not done yet. */
  remaining: number;
  /**
   * True when every VM of the latest drain runs on its target (migration done) and none was blocked or failed. From
   * the records only: a VM started on the host after the drain began is not known here (`rehome inventory` sees it).
   */
  empty: boolean;
}

/** The latest drain of `host`, each VM with its migration's current phase. For `rehome status --host HOST`. */
export async function drainStatus(store: Store, host: string, now: Date = new Date()): Promise<DrainStatus> {
  const hostState = (await store.getHostState(host))?.state ?? 'active';
  const drain = (await store.listDrains({ host })).at(-1);
  if (!drain) return { host, hostState, drain: null, vms: [], moved: 0, remaining: 0, empty: false };
  const vms: DrainVmStatus[] = [];
  for (const vm of drain.vms) {
    const migration = vm.migrationId ? await store.getMigration(vm.migrationId) : undefined;
    vms.push({
      vm: vm.vmName,
      uuid: vm.vmUuid,
      target: migration?.targetHost ?? vm.targetHost,
      outcome: vm.outcome,
      phase: migration?.phase ?? null,
      migrationId: vm.migrationId,
      detail: migration?.lastError ?? vm.detail,
      waiting: describeVerdict(rearmVerdict(vm, await attemptsOf(store, drain, vm), now)),
    });
  }
  const { vms: _, ...record } = drain;
  const moved = vms.filter((vm) => vm.phase === 'done').length;
  return {
    host,
    hostState,
    drain: record,
    vms,
    moved,
    remaining: vms.length - moved,
    empty: moved === vms.length,
  };
}
