/**
 * Lab helpers for the drain test and the demo: guests of a given memory size, per-host capacity in the operator's
 * rehome config, and the block jobs libvirt/QEMU run on a host.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteArgv } from '../../src/host/quote.js';
import { blankGuestDisk } from './build.js';
import { leaseFor, macForName, stageGuest } from './guest.js';
import { type LabGuest, labSh, virsh } from './lab.js';
import { operatorFiles } from './operator.js';
import { hostRoot } from './paths.js';

/** Like defineGuest, with the guest's memory set; `start: false` only defines it (shut off). */
export async function defineSizedGuest(
  name: string,
  host: string,
  memoryMiB: number,
  options: { start?: boolean; disk?: string } = {},
): Promise<LabGuest> {
  const mac = macForName(name);
  const ip = await leaseFor(name, mac);
  const xmlInHost = await stageGuest(host, name, mac, options.disk ?? (await blankGuestDisk('256M')));
  const file = path.join(hostRoot(host), xmlInHost);
  const xml = await readFile(file, 'utf8');
  const sized = xml.replace(/<memory unit='MiB'>\d+<\/memory>/, `<memory unit='MiB'>${memoryMiB}</memory>`);
  if (sized === xml) throw new Error('the lab guest XML has no <memory> line to size');
  await writeFile(file, sized);
  await virsh(host, ['define', xmlInHost]);
  if (options.start !== false) await virsh(host, ['start', name]);
  return { name, host, mac, ip };
}

/** Host memory as libvirt reports it (KiB), through rehome's own inventory. */
export async function hostsMemoryKiB(hosts: readonly string[]): Promise<Record<string, number>> {
  const { stdout } = await labSh(['rehome', 'inventory', ...hosts, '--json'], { timeoutMs: 120_000 });
  const inventory = JSON.parse(stdout) as { hosts: { name: string; memoryKiB: number }[] };
  return Object.fromEntries(
    hosts.map((host) => {
      const found = inventory.hosts.find((entry) => entry.name === host);
      if (!found?.memoryKiB) throw new Error(`no inventory for ${host}`);
      return [host, found.memoryKiB];
    }),
  );
}

/**
 * Room for `guestMiB` of guests on each host, as a share of its memory: placement.hosts.<host>.memoryOvercommit =
 * guestMiB / host memory, with nothing reserved. A share rather than "memory minus reserved", because the machine's
 * memory can change between this call and a plan (virtio-mem, balloon): a share then moves every host's room by
 * the same factor, and spread placement, which compares the fractions left free, picks the same targets.
 */
export async function limitGuestMemory(capacities: Record<string, number>): Promise<void> {
  const memory = await hostsMemoryKiB(Object.keys(capacities));
  const lines = ['placement:', '  hosts:'];
  for (const [host, guestMiB] of Object.entries(capacities)) {
    const share = (guestMiB * 1024) / (memory[host] as number);
    lines.push(`    ${host}:`, '      reservedMemoryMiB: 0', `      memoryOvercommit: ${share}`);
  }
  await appendFile(operatorFiles().rehomeConfig, `${lines.join('\n')}\n`);
}

export interface BlockJob {
  domain: string;
  device: string;
  ready: boolean;
  offset: number;
  len: number;
  /** The job's speed limit in bytes per second, 0 for none. */
  speed: number;
}

/** Every block job QEMU runs on the host's running domains (query-block-jobs per domain, in one ssh call). */
export async function blockJobs(host: string): Promise<BlockJob[]> {
  const script = [
    'for d in $(virsh list --name); do',
    `  printf '%s\\t%s\\n' "$d" "$(virsh qemu-monitor-command "$d" '{"execute":"query-block-jobs"}')"`,
    'done',
  ].join('\n');
  const { stdout } = await labSh(['ssh', host, quoteArgv(['sh', '-c', script])], { timeoutMs: 20_000 });
  const jobs: BlockJob[] = [];
  for (const line of stdout.split('\n')) {
    const [domain, json] = line.split('\t');
    if (!domain || !json) continue;
    let reply: { return?: Omit<BlockJob, 'domain'>[] };
    try {
      reply = JSON.parse(json);
    } catch {
      continue; // the domain stopped between list and query
    }
    for (const job of reply.return ?? []) jobs.push({ domain, ...job });
  }
  return jobs;
}

/** Polls the host's block jobs until stopped; keeps the most jobs seen at once still in their initial copy. */
export function watchInitialCopies(host: string) {
  let stopped = false;
  const samples: BlockJob[][] = [];
  const loop = (async () => {
    while (!stopped) {
      samples.push(await blockJobs(host).catch(() => []));
      await sleep(100); // each query is a libvirt job on the domain: leave the drain's own readings room
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const copying = samples.map((jobs) => jobs.filter((job) => !job.ready));
      return {
        samples: samples.length,
        maxCopying: Math.max(0, ...copying.map((jobs) => jobs.length)),
        domainsSeenCopying: [...new Set(copying.flat().map((job) => job.domain))].sort(),
        maxJobs: Math.max(0, ...samples.map((jobs) => jobs.length)),
      };
    },
  };
}
