/** A lab session for a benchmark part: lab up, a background `rehome watch`, and always down again. */
import { type Background, mirrorSteps, rehomeJson, startRehome } from '../../test/lab/helpers-migration.js';
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
  async arm(vm: string, target: string, source = 'lab-a'): Promise<void> {
    await rehomeJson(['migrate', vm, '--to', target]);
    await this.process.waitForLog(new RegExp(`listening to ${source}\\b`), 30_000);
    await sleep(2500);
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }

  log(): Promise<string> {
    return this.process.log();
  }
}

/** blockcopy call → every job ready, in ms: the audit log's `start-mirror` + `wait-ready` of the VM's last migration. */
export async function mirrorStepsMs(vm: string): Promise<number> {
  return (await mirrorSteps(vm)).ms;
}
