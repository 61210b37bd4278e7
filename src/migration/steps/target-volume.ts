/** Volumes rehome creates on the target through libvirt's storage API, to receive a copy (pool volumes and LVs). */
import { poolTypeOf } from '../../disks/facts.js';
import type { CopyInto } from '../../disks/policy.js';
import { isNoStorageVol, LibvirtError, LibvirtErrorCode } from '../../libvirt/errors.js';
import {
  type ClaimedExport,
  closeExport,
  removeImage,
  removeUnfinishedExport,
} from '../../sync/nbd-export.js';
import { type RemoteShell, run } from '../../sync/remote.js';
import type { NbdExport } from '../../sync/types.js';
import type { MigrationContext } from '../engine/context.js';

export type TargetVolume = { pool: string; name: string };
type VolumeInto = Extract<CopyInto, { kind: 'volume' }>;

function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;');
}

/**
 * The new volume's XML: the guest disk's size; sparse in a dir pool (allocation 0), fully allocated in a logical one
 * (libvirt would make a thin snapshot LV of a smaller allocation); no format for LVs.
 */
export function volumeXml(into: VolumeInto, poolType: string, capacityBytes: number): string {
  const logical = poolType === 'logical';
  return (
    `<volume><name>${escapeXml(into.name)}</name>` +
    `<capacity unit='bytes'>${capacityBytes}</capacity>` +
    (logical ? '' : `<allocation unit='bytes'>0</allocation>`) +
    (logical ? '' : `<target><format type='${escapeXml(into.format)}'/></target>`) +
    '</volume>'
  );
}

/** Why the target cannot receive this volume (its pool is missing, the name is taken); undefined when it can. */
export async function volumeBlocker(ctx: MigrationContext, into: VolumeInto): Promise<string | undefined> {
  const client = await ctx.targetClient();
  let pool: Awaited<ReturnType<typeof client.lookupStoragePoolByName>>;
  try {
    pool = await client.lookupStoragePoolByName(into.pool);
  } catch (err) {
    if (err instanceof LibvirtError && err.code === LibvirtErrorCode.noStoragePool) {
      return `the target has no storage pool ${into.pool}`;
    }
    throw err;
  }
  try {
    await client.lookupStorageVolByName(pool, into.name);
    return `volume ${into.name} already exists in pool ${into.pool} on ${ctx.record.targetHost}: a name already taken is a blocker, never an overwrite`;
  } catch (err) {
    if (isNoStorageVol(err)) return undefined;
    throw err;
  }
}

/** Creates the volume (refusing an existing one) and returns its path on the target. */
export async function createTargetVolume(
  ctx: MigrationContext,
  into: VolumeInto,
  capacityBytes: number,
): Promise<string> {
  const blocker = await volumeBlocker(ctx, into);
  if (blocker) throw new Error(blocker);
  const client = await ctx.targetClient();
  const pool = await client.lookupStoragePoolByName(into.pool);
  const poolType = poolTypeOf(await client.getStoragePoolXml(pool)) ?? 'dir';
  const vol = await client.createStorageVolXml(pool, volumeXml(into, poolType, capacityBytes));
  return client.getStorageVolPath(vol);
}

/** Deletes a volume rehome created (idempotent). */
export async function deleteTargetVolume(ctx: MigrationContext, volume: TargetVolume): Promise<void> {
  const client = await ctx.targetClient();
  try {
    const pool = await client.lookupStoragePoolByName(volume.pool);
    await client.deleteStorageVol(await client.lookupStorageVolByName(pool, volume.name));
  } catch (err) {
    if (isNoStorageVol(err)) return;
    throw err;
  }
}

/** The image behind an export goes: a volume through libvirt, a file with rm (only after its export closed). */
export async function discardImage(
  ctx: MigrationContext,
  shell: RemoteShell,
  nbd: Pick<NbdExport, 'imagePath' | 'volume'>,
): Promise<void> {
  if (nbd.volume) await deleteTargetVolume(ctx, nbd.volume);
  else await removeImage(shell, nbd);
}

/** What an interrupted prepare-target left of a claimed export: its qemu-nbd, and its file or volume. */
export async function discardUnfinished(
  ctx: MigrationContext,
  shell: RemoteShell,
  claimed: ClaimedExport & { volume?: TargetVolume },
): Promise<void> {
  if (!claimed.volume) {
    await removeUnfinishedExport(shell, claimed);
    return;
  }
  const pidFile = await run(shell, ['cat', claimed.pidFile]);
  const pid = pidFile.code === 0 ? Number(pidFile.stdout.trim()) : 0;
  await closeExport(shell, { ...claimed, pid });
  await deleteTargetVolume(ctx, claimed.volume);
}
