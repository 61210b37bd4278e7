import { RehomeError } from '../../errors.js';
import type { LinkCallbacks } from '../../notify/links-server.js';
import type { Runtime } from '../runtime.js';
import type { ProgressSink } from '../types.js';
import { rebootNow } from './cutover.js';
import { reschedule } from './reschedule.js';

export interface LinkActions extends LinkCallbacks {
  /** Waits for cutovers started by links (before the server's process exits). */
  settle(): Promise<void>;
}

/**
 * What the owners' links do, in the serving process. "Reboot now" is `rehome reboot`: it answers once the VM's lock
 * is held (the cutover then runs on, and the owner gets 202 at once); "reschedule" is `rehome reschedule`.
 */
export function linkActions(rt: Runtime, progress: ProgressSink): LinkActions {
  const running = new Set<Promise<unknown>>();
  return {
    async onReboot(migrationId) {
      const record = await rt.store.getMigration(migrationId);
      if (record?.phase !== 'armed') {
        throw new RehomeError(
          `migration ${migrationId} is ${record?.phase ?? 'unknown'}, not armed`,
          'migration-failed',
        );
      }
      let locked: () => void = () => {};
      const lockHeld = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const task = rebootNow(rt, { vm: record.vmUuid, reason: 'owner', onLocked: () => locked() }, progress);
      const tracked = task
        .catch(async (err: Error) => {
          await rt.store
            .appendAudit({
              migrationId,
              vm: record.vmUuid,
              step: 'link.reboot-failed',
              outcome: 'error',
              detail: { error: err.message },
            })
            .catch(() => undefined);
        })
        .finally(() => running.delete(tracked));
      running.add(tracked);
      // Fails the request only when the reboot could not even start (e.g. another process holds the VM).
      await Promise.race([lockHeld, task.then(() => undefined)]);
    },
    async onReschedule(migrationId, deadline) {
      const record = await rt.store.getMigration(migrationId);
      if (!record) throw new RehomeError(`no migration ${migrationId}`, 'not-found');
      await reschedule(rt, { vm: record.vmUuid, deadline }, progress);
    },
    async settle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
