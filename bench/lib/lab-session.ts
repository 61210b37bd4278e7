/** A lab session for a benchmark part: lab up, a background `rehome watch`, and always down again. */
import { type Background, rehomeJson, startRehome } from '../../test/lab/helpers-migration.js';
import { labDown, labUp } from '../../test/lab/lab.js';
import { sleep } from '../../test/lab/run.js';

export const log = (line: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);

export async function withLab<T>(hosts: number, body: () => Promise<T>): Promise<T> {
  log(`lab up (${hosts} hosts)`);
  await labUp({ hosts });
  try {
    return await body();
  } finally {
    log('lab down');
    await labDown();
  }
}

/** `rehome watch` in the operator namespace, for the guest-reboot cutovers. */
export class WatchProcess {
  private constructor(private readonly process: Background) {}

  static async start(): Promise<WatchProcess> {
    return new WatchProcess(await startRehome(['watch']));
  }

  /**
   * Arms `vm` and waits until the watcher has it: it subscribes to the host once, and re-reads the armed list every
   * 2 s, so a reboot sooner after arming would be (rightly) left to boot in place.
   */
  async arm(vm: string, target: string, extra: readonly string[] = []): Promise<void> {
    await rehomeJson(['migrate', vm, '--to', target, ...extra]);
    await this.process.waitForLog(/listening to lab-a/, 30_000);
    await sleep(2500);
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }

  log(): Promise<string> {
    return this.process.log();
  }
}

interface AuditJson {
  migrations: {
    history?: { step: string; outcome: string; detail: { ms?: number; startedAt?: string } }[];
  }[];
}

/**
 * The VM's last migration's copy, from its audit log: `start-mirror` (blockcopy call) until `wait-ready` ended (every
 * job ready). `ms` is the two steps' own times; `from` and `to` are wall-clock (ms since the epoch).
 */
export async function mirrorSteps(vm: string): Promise<{ ms: number; from: number; to: number }> {
  const history = (await rehomeJson<AuditJson>(['status', vm])).migrations.at(-1)?.history ?? [];
  const step = (name: string) => {
    const entry = history.filter((e) => e.step === name && e.outcome === 'ok').at(-1);
    const { ms, startedAt } = entry?.detail ?? {};
    if (ms === undefined || startedAt === undefined)
      throw new Error(`no timed ${name} step in the audit log`);
    return { ms, from: Date.parse(startedAt) };
  };
  const start = step('start-mirror');
  const ready = step('wait-ready');
  return { ms: start.ms + ready.ms, from: start.from, to: ready.from + ready.ms };
}

/** blockcopy call → every job ready, in ms: the audit log's `start-mirror` + `wait-ready` of the VM's last migration. */
export async function mirrorStepsMs(vm: string): Promise<number> {
  return (await mirrorSteps(vm)).ms;
}
