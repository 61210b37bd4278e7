import type { LibvirtClient } from '../libvirt/client.js';
import type { LibvirtEvent } from '../libvirt/protocol/events.js';
import type { DomainRef } from '../libvirt/protocol/types.js';

/** What listening for QEMU's job errors needs of a libvirt client (a fake in unit tests). */
export type JobErrorClient = Pick<
  LibvirtClient,
  'onEvent' | 'registerQemuMonitorEvent' | 'deregisterQemuMonitorEvent'
>;

export interface JobErrors {
  /** QEMU's reason for the end of the disk's copy job ("No space left on device"); waits up to `waitMs` for it. */
  reasonFor(disk: string, waitMs?: number): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** The disk of a copy job's QMP device name: libvirt names the job `copy-<disk>-<node>`. */
export function copyJobDisk(device: string): string | undefined {
  return /^copy-([^-]+)-/.exec(device)?.[1];
}

/**
 * Listens to the domain's QMP BLOCK_JOB_COMPLETED events. libvirt's own block-job event says only "failed"; QEMU's
 * event carries the error text (a full target directory reads "No space left on device"), which is what the operator
 * needs to hear. The event may arrive just after the job is seen gone, so a reason is waited for briefly.
 */
export async function listenForJobErrors(client: JobErrorClient, domain: DomainRef): Promise<JobErrors> {
  const reasons = new Map<string, string>();
  const waiters = new Set<() => void>();
  const off = client.onEvent((event: LibvirtEvent) => {
    if (event.kind !== 'qemu-monitor' || event.domain.uuid !== domain.uuid) return;
    if (event.event !== 'BLOCK_JOB_COMPLETED' || !event.details) return;
    try {
      const details = JSON.parse(event.details) as { device?: unknown; error?: unknown };
      if (typeof details.device !== 'string' || typeof details.error !== 'string') return;
      reasons.set(copyJobDisk(details.device) ?? details.device, details.error);
      for (const wake of [...waiters]) wake();
    } catch {
      // Not JSON: no reason to report, and nothing to fail over.
    }
  });
  let callbackId: number;
  try {
    callbackId = await client.registerQemuMonitorEvent(domain, 'BLOCK_JOB_COMPLETED');
  } catch (err) {
    off();
    throw err;
  }
  return {
    async reasonFor(disk, waitMs = 1000) {
      if (!reasons.has(disk)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, waitMs);
          function done() {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
          function check() {
            if (reasons.has(disk)) done();
          }
          waiters.add(check);
        });
      }
      return reasons.get(disk);
    },
    async stop() {
      off();
      // Not awaited: a connection that hangs must not hold up the step's own outcome.
      void client.deregisterQemuMonitorEvent(callbackId).catch(() => undefined);
    },
  };
}
