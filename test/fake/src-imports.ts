/**
 * The one file under test/ that names paths in src/ for the fake and the engine tests. When src/ moves, repoint here.
 */
export type { ExecOptions, ExecResult } from '../../src/host/ssh-connection.js';
export type { LibvirtClient } from '../../src/libvirt/client.js';
export { DomainXml } from '../../src/libvirt/domain-xml.js';
export { ConnectionClosedError, LibvirtError, LibvirtErrorCode } from '../../src/libvirt/errors.js';
export {
  DomainEventId,
  DomainState,
  LifecycleEvent,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  UndefineFlags,
} from '../../src/libvirt/protocol/constants.js';
export type { LibvirtEvent } from '../../src/libvirt/protocol/events.js';
export type { DomainRef, NetworkRef } from '../../src/libvirt/protocol/types.js';
export { MigrationContext } from '../../src/migration/engine/context.js';
export { runSteps, StepBlockedError, StepFailedError, undoSteps } from '../../src/migration/engine/runner.js';
export { concurrently, flattenSteps, type Step } from '../../src/migration/engine/step.js';
export type { Runtime } from '../../src/migration/runtime.js';
export { allSteps, cancel, rebootNow, runCutover, undoSetFor } from '../../src/migration/services/cutover.js';
export { contextFor } from '../../src/migration/services/locate.js';
export { LOCK_TTL_MS, withLock } from '../../src/migration/services/lock.js';
export { migrate } from '../../src/migration/services/migrate.js';
export { observe } from '../../src/migration/services/observe.js';
export { reconcile, reconcileOne } from '../../src/migration/services/reconcile.js';
export { decideRecovery } from '../../src/migration/services/recovery.js';
export { Watcher } from '../../src/migration/services/watch.js';
export { type WatchEvent, watchEventFromProgress } from '../../src/migration/services/watch-events.js';
export { defaultSettings } from '../../src/migration/settings.js';
export { CUTOVER_STEP_NAMES, cutoverSteps, POINT_OF_NO_RETURN } from '../../src/migration/steps/cutover.js';
export { PREPARE_STEPS } from '../../src/migration/steps/prepare.js';
export { isQemuOf, LIBVIRT_QEMU_STATE_DIR } from '../../src/migration/steps/source-qemu.js';
export type { HostsPort, MigrationJob, ProgressEvent } from '../../src/migration/types.js';
export { LockedError, LockLostError, PhaseConflictError } from '../../src/store/errors.js';
export type { Phase } from '../../src/store/phases.js';
export { openSqliteStore } from '../../src/store/sqlite/open.js';
export type { AuditEntry, Lock, MigrationRecord, Store } from '../../src/store/types.js';
export { jobSpeedUnder } from '../../src/sync/mirror-budget.js';
export { noDelayListenerArgv } from '../../src/sync/nodelay-listener.js';
export type { RemoteShell } from '../../src/sync/remote.js';
export { liveArgv } from '../../src/sync/remote-process.js';
export { tempDbPath } from '../integration/helpers/temp-store.js';
