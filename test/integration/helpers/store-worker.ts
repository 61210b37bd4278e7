/**
 * A stand-in for a rehome process on another machine, for the PostgreSQL concurrency tests: opens the store at
 * argv[2] in schema argv[3] as host argv[4], then answers one JSON line per command line on stdin.
 */
import { createInterface } from 'node:readline';
import { type Lock, openPostgresStore } from '../../../src/store/index.js';

const [url, schema, host] = process.argv.slice(2) as [string, string, string];
const store = await openPostgresStore(url, { schema, localHost: host });
const locks = new Map<string, Lock>();
const say = (reply: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(reply)}\n`);
const owner = { pid: process.pid, host, purpose: 'replica' };

async function vmOf(id: string): Promise<string> {
  return (await store.getMigration(id))?.vmUuid ?? '';
}

async function handle(command: Record<string, unknown>): Promise<Record<string, unknown>> {
  switch (command.op) {
    case 'lock': {
      const lock = await store.acquireLock(command.vmKey as string, owner, command.ttlMs as number);
      locks.set(lock.vmKey, lock);
      return { pid: process.pid, tookOverFrom: lock.tookOverFrom?.pid };
    }
    case 'lock-all': {
      const held: string[] = [];
      for (const vmKey of command.vmKeys as string[]) {
        const lock = await store.acquireLock(vmKey, owner, command.ttlMs as number).catch(() => undefined);
        if (lock) {
          locks.set(vmKey, lock);
          held.push(vmKey);
        }
      }
      return { held };
    }
    case 'phase': {
      const id = command.id as string;
      const fence = locks.get(await vmOf(id))?.fence;
      const moved = await store.updatePhase(id, command.from as never, command.to as never, {}, fence);
      return { phase: moved.phase };
    }
    case 'phase-all': {
      // Every migration, with this replica's fence for it when it holds one, else with a fence of a lock it holds on
      // another VM (or a made-up one): those must be refused.
      const moved: string[] = [];
      const anyFence = [...locks.values()][0]?.fence ?? { token: 'none held' };
      await Promise.all(
        (command.ids as string[]).map(async (id) => {
          const fence = locks.get(await vmOf(id))?.fence ?? anyFence;
          const ok = await store
            .updatePhase(id, command.from as never, command.to as never, {}, fence)
            .then(() => true)
            .catch(() => false);
          if (ok) moved.push(id);
        }),
      );
      return { moved };
    }
    case 'refresh':
      for (const lock of locks.values()) await lock.refresh();
      return {};
    case 'release':
      for (const lock of locks.values()) await lock.release();
      return {};
    default:
      throw new Error(`unknown op ${String(command.op)}`);
  }
}

say({ ok: true, ready: true, pid: process.pid });
createInterface({ input: process.stdin }).on('line', (line) => {
  handle(JSON.parse(line) as Record<string, unknown>).then(
    (reply) => say({ ok: true, ...reply }),
    (err: Error & { holder?: { pid: number } }) =>
      say({ ok: false, name: err.name, message: err.message, holderPid: err.holder?.pid }),
  );
});
