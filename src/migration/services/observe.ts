import { observeExport } from '../../sync/nbd-export.js';
import type { MigrationContext } from '../engine/context.js';
import { type DomainPresence, domainPresence } from '../engine/presence.js';
import { mirroredDisks } from '../types.js';

/** What recovery decides from: the real state of both hosts, not the journal. */
export interface Observed {
  source: DomainPresence;
  target: DomainPresence;
  /** Every local disk has its block job on the source (false when there are none). */
  jobs: boolean;
  /** Every export's qemu-nbd process is alive (false when there are none). */
  exportsAlive: boolean;
}

export async function observe(ctx: MigrationContext): Promise<Observed> {
  const { record } = ctx;
  const [sourceClient, targetClient] = await Promise.all([
    ctx.hosts.libvirt(record.sourceHost),
    ctx.hosts.libvirt(record.targetHost),
  ]);
  const [source, target] = await Promise.all([
    domainPresence(sourceClient, ctx.domain),
    domainPresence(targetClient, ctx.domain),
  ]);
  let jobs = false;
  const mirrored = mirroredDisks(ctx.job);
  if ((source === 'running' || source === 'paused') && mirrored.length > 0) {
    jobs = true;
    for (const disk of mirrored) {
      if (!(await sourceClient.getBlockJobInfo(ctx.domain, disk.target))) jobs = false;
    }
  }
  let exportsAlive = ctx.job.exports.length > 0;
  if (exportsAlive) {
    const shell = await ctx.hosts.ssh(record.targetHost);
    for (const nbd of ctx.job.exports) {
      if ((await observeExport(shell, nbd)) !== 'alive') exportsAlive = false;
    }
  }
  return { source, target, jobs, exportsAlive };
}
