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

/** The link was used by another request between its check and this action's start. */
class LinkAlreadyUsedError extends Error {
  constructor() {
    super('the link was used by another request');
    this.name = 'LinkAlreadyUsedError';
  }
}

/**
 * What the owners' links do, in the serving process. "Reboot now" is `rehome reboot`: it answers once the VM's lock
 * is held (the cutover then runs on, and the owner gets 202 at once); "reschedule" is `rehome reschedule`. Each claims
 * the link's token only with the VM's lock held and its phase right: a VM that is busy (watch cutting it over, a
 * `migrate` running) answers "in progress" and leaves the link usable.
 */
export function linkActions(rt: Runtime, progress: ProgressSink): LinkActions {
  const running = new Set<Promise<unknown>>();
  return {
    async onReboot(migrationId, claim) {
      const record = await rt.store.getMigration(migrationId);
      if (record?.phase !== 'armed') {
        // A cutover (or a move back to mirroring) is under way: not for this link to start another.
        throw new RehomeError(
          `migration ${migrationId} is ${record?.phase ?? 'unknown'}, not armed`,
          'locked',
          [],
          {
            subject: { code: 'in-progress' },
          },
        );
      }
      let locked: () => void = () => {};
      const lockHeld = new Promise<void>((resolve) => {
        locked = resolve;
      });
      let started = false;
      const onLocked = async () => {
        if (!(await claim())) throw new LinkAlreadyUsedError();
        started = true;
        locked();
      };
      const task = rebootNow(rt, { vm: record.vmUuid, reason: 'owner', onLocked }, progress);
      const tracked = task
        .catch(async (err: Error) => {
          // Failures before the reboot started are the request's answer; after, only the audit hears of them.
          if (!started) return;
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
    async onReschedule(migrationId, deadline, claim) {
      const record = await rt.store.getMigration(migrationId);
      if (!record) throw new RehomeError(`no migration ${migrationId}`, 'not-found');
      const onLocked = async () => {
        if (!(await claim())) throw new LinkAlreadyUsedError();
      };
      await reschedule(rt, { vm: record.vmUuid, deadline, onLocked }, progress).catch((err: Error) => {
        if (!(err instanceof LinkAlreadyUsedError)) throw err;
      });
    },
    async settle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
