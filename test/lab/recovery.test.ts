import test from 'ava';
import { flattenSteps } from '../../src/migration/engine/step.js';
import { CUTOVER_STEP_NAMES, cutoverSteps } from '../../src/migration/steps/cutover.js';
import { assertGuestOn, domUuid, exportLeftovers, phaseOf, rehomeJson } from './helpers-migration.js';
import { agentQuery, whereRuns } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { sleep } from './run.js';

const lab = useMigrationLab(test);

/**
 * The steps that may run while converge does: the other branches of its stage, each up to its first step that waits
 * for converge (Step.after). Holding one of them does not hold converge.
 */
function stepsBesideConverge(): string[] {
  const stage = cutoverSteps().find((step) => flattenSteps([step]).some((s) => s.name === 'converge'));
  return (stage?.branches ?? [])
    .filter((branch) => !branch.some((step) => step.name === 'converge'))
    .flatMap((branch) => {
      const waits = branch.findIndex((step) => step.after?.includes('converge'));
      return (waits < 0 ? branch : branch.slice(0, waits)).map((step) => step.name);
    });
}
const BESIDE_CONVERGE = stepsBesideConverge();

/**
 * How long after the hold the kill comes, from REHOME_KILL_DELAY_MS (0: at once). Beside converge, a delay lets
 * converge end its mirror first: `REHOME_STEPS=links-down REHOME_KILL_DELAY_MS=170` tried the rollback case here (at 300
 * converge had also journaled: done).
 */
const killDelayMs = Number(process.env.REHOME_KILL_DELAY_MS ?? 0);

/** Steps to kill in, from REHOME_STEPS (comma-separated) or all of them. */
const steps = process.env.REHOME_STEPS ? process.env.REHOME_STEPS.split(',') : CUTOVER_STEP_NAMES;

for (const [index, step] of steps.entries()) {
  test.serial(
    `kill -9 of rehome before ${step}: reconcile completes or rolls back, one copy, nothing lost`,
    async (t) => {
      const guest = await lab.bootedGuest(`rc${index}`);
      await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
      const before = await agentQuery(guest.ip);
      const reboot = await lab.startRehome(['reboot', guest.name], { REHOME_FAULT_HOLD_BEFORE: step });
      await reboot.waitForLog(new RegExp(`holding before ${step}`), 60_000);
      await sleep(killDelayMs);
      reboot.kill9();
      await reboot.exited;
      t.true((await whereRuns(guest.name)).length <= 1, 'never two copies, even mid-cutover');
      const result = await rehomeJson<{ entries: { action: string; phaseAfter: string; reason: string }[] }>(
        ['reconcile'],
        {
          reject: false,
        },
      );
      const entry = result.entries.find((e) => e.phaseAfter !== 'done' || e.action !== 'none');
      t.log(`${step}: ${JSON.stringify(result.entries.filter((e) => e.action !== 'none'))}`);
      const phase = await phaseOf(guest.name);
      if (BESIDE_CONVERGE.includes(step)) {
        // Held alone, this step's branch stops while converge goes on, and the kill lands wherever converge is: its
        // mirror still running (finish the move) or just ended but not yet journaled (the copy cannot be trusted:
        // back to the source). Either is right, if it follows from what reconcile saw.
        const endedUnrecorded = /block jobs gone, .*journal: not converged/.test(entry?.reason ?? '');
        t.is(phase, endedUnrecorded ? 'rolled-back' : 'done', `phase ${phase} (${entry?.reason})`);
      } else {
        // Elsewhere the guest was paused at its reset with an intact or converged mirror: recovery finishes the move.
        t.is(phase, 'done', `phase ${phase} (${entry?.reason})`);
      }
      const host = phase === 'done' ? 'lab-b' : 'lab-a';
      await assertGuestOn(t, guest, host, before.boot + 1);
      const other = host === 'lab-a' ? 'lab-b' : 'lab-a';
      t.is(await domUuid(other, guest.name), undefined, `nothing defined on ${other}`);
      t.is((await exportLeftovers('lab-b', guest.name)).nbd, '', 'no export process left');
    },
  );
}
