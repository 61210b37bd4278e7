import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import { inHost } from './hosts.js';
import { deleteNetworks, labNamespaces } from './network.js';
import { HOST_NS_PREFIX, labPaths } from './paths.js';
import { forgetPids, isOurs, recordedProcesses } from './pids.js';
import { type Progress, runMaybe, silent, sleep } from './run.js';

export interface LabLeftovers {
  namespaces: string[];
  processes: { pid: number; comm: string; why: string }[];
  mounts: string[];
  links: string[];
}

export function isClean(leftovers: LabLeftovers): boolean {
  return Object.values(leftovers).every((list) => list.length === 0);
}

async function namespacePids(ns: string): Promise<number[]> {
  const { stdout } = await runMaybe(['ip', 'netns', 'pids', ns]);
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** Our own process and its ancestors (the CLI or test runner must not count as a leftover). */
async function selfAndAncestors(): Promise<Set<number>> {
  const chain = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !chain.has(pid)) {
    chain.add(pid);
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    pid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return chain;
}

/** Every process that belongs to this lab: in a lab namespace, in a lab host's mounts, or naming the lab dir. */
export async function labProcesses(): Promise<LabLeftovers['processes']> {
  const root = labPaths().root;
  const exclude = await selfAndAncestors();
  const found = new Map<number, { pid: number; comm: string; why: string }>();
  const add = async (pid: number, why: string) => {
    if (exclude.has(pid) || found.has(pid)) return;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm) found.set(pid, { pid, comm, why });
  };
  for (const ns of await labNamespaces())
    for (const pid of await namespacePids(ns)) await add(pid, `in netns ${ns}`);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`${root}/`)) {
      await add(pid, 'names the lab dir');
      continue;
    }
    const mountNs = await readlink(`/proc/${pid}/ns/mnt`).catch(() => '');
    if (mountNs && mountNs !== (await readlink('/proc/self/ns/mnt').catch(() => ''))) {
      const mountinfo = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
      if (mountinfo.includes(`${root}/hosts/`)) await add(pid, 'in a lab host mount namespace');
    }
  }
  return [...found.values()];
}

export async function leftovers(): Promise<LabLeftovers> {
  const root = labPaths().root;
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((line) => {
    const mountPoint = line.split(' ')[1] ?? '';
    return mountPoint.startsWith(`${root}/`) || /^\/run\/netns\/rh-/.test(mountPoint);
  });
  const { stdout } = await runMaybe(['ip', '-o', 'link', 'show']);
  const links = stdout
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((name) => /^(veth-lab-|labbr$)/.test(name));
  return { namespaces: await labNamespaces(), processes: await labProcesses(), mounts, links };
}

/** A zombie counts as gone: its parent (a holder, or a slow PID 1) reaps it later. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(10);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {}
}

async function killAndWait(pids: number[], graceMs: number): Promise<void> {
  for (const pid of pids.filter(alive)) signal(pid, 'SIGTERM');
  await waitGone(pids, graceMs);
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
  await waitGone(pids, 5000);
}

/**
 * Tears the lab down in the order that lets an immediate `up` succeed: domains, then our processes by pid file,
 * then whatever still runs in a lab namespace, then the switch ports (veths), then the namespaces. Idempotent, and
 * it needs no state: a crashed run is found through `ip netns` and the process table.
 */
export async function labDown(progress: Progress = silent): Promise<void> {
  const namespaces = await labNamespaces();
  for (const ns of namespaces.filter((name) => name.startsWith(HOST_NS_PREFIX))) {
    const host = ns.slice('rh-'.length);
    const list = await inHost(host, ['virsh', 'list', '--name']).catch(() => undefined);
    for (const domain of list?.stdout.split('\n').filter(Boolean) ?? []) {
      progress(`destroying ${domain} on ${host}`);
      await inHost(host, ['virsh', 'destroy', domain]);
    }
  }
  const recorded = [];
  for (const entry of await recordedProcesses()) if (await isOurs(entry)) recorded.push(entry);
  if (recorded.length) progress(`stopping ${recorded.length} recorded processes`);
  // Daemons first, while their holder still reaps them; holders exit by themselves once empty.
  const isHolder = (entry: { label: string }) => entry.label.endsWith('.holder');
  await killAndWait(
    recorded.filter((entry) => !isHolder(entry)).map((entry) => entry.pid),
    2000,
  );
  const holders = recorded.filter(isHolder).map((entry) => entry.pid);
  await waitGone(holders, 1000);
  await killAndWait(holders, 500);
  const stray = (await labProcesses()).map((p) => p.pid);
  if (stray.length) progress(`killing ${stray.length} remaining lab processes`);
  await killAndWait(stray, 500);
  if (namespaces.length) progress(`deleting ${namespaces.join(', ')}`);
  await deleteNetworks(namespaces);
  const { mounts } = await leftovers();
  for (const line of mounts) await runMaybe(['umount', '-l', line.split(' ')[1] ?? '']);
  // Holders are orphans of PID 1 once `up` exits, and this machine's PID 1 reaps only every ~2 s.
  const zombies = recorded.map((entry) => entry.pid).filter((pid) => existsSync(`/proc/${pid}`));
  if (zombies.length) progress(`waiting for PID 1 to reap ${zombies.length} exited processes`);
  const deadline = Date.now() + 5000;
  while (zombies.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) await sleep(50);
  await forgetPids();
  const paths = labPaths();
  for (const dir of [paths.hosts, paths.switchDir, paths.pki, paths.operatorHome, paths.state]) {
    await rm(dir, { recursive: true, force: true });
  }
}
