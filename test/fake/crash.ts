import type { FakeProcessRuntime, Lab } from './engine-harness.js';
import { type MigrationRecord, migrate, rebootNow, reconcile } from './src-imports.js';

/**
 * A crashed process's pending work never settles, so the lease refresher that holdingLock starts (a setInterval) is
 * never cleared and would keep the test worker alive. Unref'd, it still runs while a test runs but no longer blocks
 * the exit. Nothing in these tests waits on an interval.
 */
const keepingAlive = globalThis.setInterval;
globalThis.setInterval = ((...args: Parameters<typeof setInterval>) =>
  keepingAlive(...args).unref()) as unknown as typeof setInterval;

/** `rehome migrate vm1 --to dst`, then `rehome reboot vm1`, in one process: the whole life of a move. */
export async function migrateAndReboot(process: FakeProcessRuntime): Promise<void> {
  const sink = (event: (typeof process.events)[number]) => process.events.push(event);
  await migrate(process.rt, { vm: 'vm1', to: 'dst' }, sink);
  await rebootNow(process.rt, { vm: 'vm1' }, sink);
}

/** Runs `flow` until it ends or its process crashes (its calls then hang for good). */
export function untilEndOrCrash(
  process: FakeProcessRuntime,
  flow: Promise<unknown>,
): Promise<'ended' | 'crashed'> {
  return new Promise((resolve) => {
    process.session.whenCrashed(() => resolve('crashed'));
    flow.then(
      () => resolve('ended'),
      () => resolve('ended'),
    );
  });
}

/** What cron does after a crash: `rehome reconcile` passes in new processes, until one changes nothing. */
export async function reconcileUntilQuiet(lab: Lab, maxPasses = 4): Promise<MigrationRecord | undefined> {
  for (let pass = 0; pass < maxPasses; pass++) {
    const process = lab.process(`reconcile-${pass}`);
    const entries = await reconcile(process.rt, (event) => process.events.push(event));
    if (entries.every((entry) => entry.action === 'none')) break;
  }
  return lab.migration().catch(() => undefined);
}
