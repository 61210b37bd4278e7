import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { labPaths } from './paths.js';

/** A process the lab started, as recorded in <lab>/pids/<label>: "PID COMM". */
export interface LabProcess {
  label: string;
  pid: number;
  comm: string;
}

export async function recordPid(label: string, pid: number): Promise<void> {
  const dir = labPaths().pids;
  await mkdir(dir, { recursive: true });
  const comm = await processComm(pid);
  if (comm === undefined) throw new Error(`${label}: process ${pid} is not running`);
  await writeFile(path.join(dir, label), `${pid} ${comm}\n`);
}

export async function recordedProcesses(): Promise<LabProcess[]> {
  const dir = labPaths().pids;
  const labels = await readdir(dir).catch(() => [] as string[]);
  const processes: LabProcess[] = [];
  for (const label of labels) {
    const [pid, comm] = (await readFile(path.join(dir, label), 'utf8')).trim().split(' ');
    if (Number(pid) > 1 && comm) processes.push({ label, pid: Number(pid), comm });
  }
  return processes;
}

export async function forgetPids(): Promise<void> {
  await rm(labPaths().pids, { recursive: true, force: true });
}

export async function processComm(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** True when pid still runs the program recorded for it (a reused pid is not ours). */
export async function isOurs(processInfo: LabProcess): Promise<boolean> {
  return (await processComm(processInfo.pid)) === processInfo.comm;
}

export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}
