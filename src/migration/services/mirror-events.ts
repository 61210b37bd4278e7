import { BlockJobStatus } from '../../libvirt/protocol/constants.js';
import type { LibvirtEvent } from '../../libvirt/protocol/events.js';
import type { MigrationRecord } from '../../store/types.js';
import { type MigrationJob, mirroredDisks } from '../types.js';

/**
 * The armed migration whose mirror this block-job event says has ended without rehome ending it (QEMU failed or
 * cancelled the copy: the target's export died, the target host went away). Undefined for any other event. watch
 * then re-establishes the mirror at once, instead of at the next reconcile pass; the reconcile that does it observes
 * before acting, so an event that arrives while a cutover ends the job itself changes nothing.
 */
export function lostMirrorOf(
  event: LibvirtEvent,
  armed: ReadonlyMap<string, MigrationRecord>,
): { record: MigrationRecord; disk: string; status: 'failed' | 'cancelled' } | undefined {
  if (event.kind !== 'block-job') return undefined;
  const status =
    event.status === BlockJobStatus.failed
      ? 'failed'
      : event.status === BlockJobStatus.canceled
        ? 'cancelled'
        : undefined;
  if (!status) return undefined;
  const record = armed.get(event.domain.uuid);
  if (!record) return undefined;
  const disks = mirroredDisks({ disks: [], ...(record.job as Partial<MigrationJob>) } as MigrationJob);
  if (!disks.some((disk) => disk.target === event.disk)) return undefined;
  return { record, disk: event.disk, status };
}
