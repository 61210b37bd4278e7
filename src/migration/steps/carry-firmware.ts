import { posix } from 'node:path';
import { DomainXml } from '../../libvirt/domain-xml.js';
import { carryTree } from '../../sync/carry-files.js';
import { mustExec } from '../../sync/remote.js';
import type { MigrationContext } from '../engine/context.js';
import { isActive, sourcePresence, targetPresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { type SourceQemu, untilLibvirtStoppedSource } from './source-qemu.js';
import type { MarkMilestone } from './timeline.js';

/** Where libvirt keeps an emulated TPM's state (swtpm's directory), per domain UUID. */
export const SWTPM_STATE_DIR = '/var/lib/libvirt/swtpm';

/** The firmware state of the guest on its source: the NVRAM file and the vTPM state directory, when it has them. */
export function firmwareStatePaths(inactiveXml: string, uuid: string): { nvram?: string; roots: string[] } {
  const firmware = DomainXml.parse(inactiveXml).firmware;
  const roots: string[] = [];
  if (firmware.nvram) roots.push(firmware.nvram);
  if (firmware.tpm) roots.push(posix.join(SWTPM_STATE_DIR, uuid));
  return { ...(firmware.nvram ? { nvram: firmware.nvram } : {}), roots };
}

/**
 * The UEFI variable store and the vTPM state go to the target, at the same paths, with their owners and modes, each
 * file checked (size and sha256). Only once libvirt has stopped the source (its QEMU and its swtpm gone): the files are
 * then final.
 * define-target points the definition at the carried NVRAM. The undo removes the target's copies only; the source's
 * are never written.
 */
export function carryFirmware(mark: MarkMilestone, qemu: SourceQemu): Step {
  return {
    name: 'carry-firmware',
    async check(ctx) {
      if (!ctx.job.inactiveXml) return blocked('no inactive XML was kept when arming');
      const { roots } = firmwareStatePaths(ctx.job.inactiveXml, ctx.record.vmUuid);
      if (roots.length === 0) return skip('no NVRAM nor vTPM state');
      if (ctx.job.firmware?.carried) return skip('carried');
      const target = await targetPresence(ctx);
      if (isActive(target)) return blocked(`the VM is ${target} on the target`);
      // This run's destroy may still be in libvirt's hands (which answers nothing about the domain meanwhile, or that
      // it is shutting down): run waits for it, then looks.
      if (qemu.libvirtStopped) return ok;
      const source = await sourcePresence(ctx);
      if (source !== 'shutoff' && source !== 'missing')
        return blocked(`the VM is ${source} on the source: its firmware state is not final`);
      return ok;
    },
    async run(ctx) {
      await untilLibvirtStoppedSource(ctx, qemu);
      const { nvram, roots } = firmwareStatePaths(ctx.job.inactiveXml as string, ctx.record.vmUuid);
      // Journaled first, so that an undo after a crash knows what this step may have written on the target.
      await ctx.patchJob({ firmware: { roots, ...(nvram ? { nvram } : {}) } });
      const entries = await carryTree(
        await ctx.hosts.ssh(ctx.record.sourceHost),
        await ctx.hosts.ssh(ctx.record.targetHost),
        roots,
      );
      const files = entries.flatMap((entry) =>
        entry.type === 'file'
          ? [{ path: entry.path, size: entry.size ?? 0, sha256: entry.sha256 ?? '' }]
          : [],
      );
      await ctx.patchJob({ firmware: { roots, ...(nvram ? { nvram } : {}), carried: files } });
      await mark(ctx, 'firmwareCarried');
      return { files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0) };
    },
    async undo(ctx) {
      const roots = ctx.job.firmware?.roots ?? [];
      if (roots.length === 0) return;
      const target = await targetPresence(ctx);
      if (isActive(target)) throw new Error(`the VM is ${target} on ${ctx.record.targetHost}`);
      await removeOnTarget(ctx, roots);
      await ctx.patchJob({ firmware: undefined });
    },
  };
}

/** Only ever on the target: the carried copies, or what a half-done carry left. */
async function removeOnTarget(ctx: MigrationContext, roots: readonly string[]): Promise<void> {
  if (ctx.record.targetHost === ctx.record.sourceHost) throw new Error('the target is the source host');
  const shell = await ctx.hosts.ssh(ctx.record.targetHost);
  await mustExec(shell, ['rm', '-rf', '--', ...roots]);
}
