import test from 'ava';
import { CUTOVER_STEP_NAMES } from '../../src/migration/steps/cutover.js';
import { assertGuestOn, domUuid, exportLeftovers, phaseOf, rehomeJson } from './helpers-migration.js';
import { agentQuery, whereRuns } from './lab.js';
import { useMigrationLab } from './migration-lab.js';

const lab = useMigrationLab(test);

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
      // The guest was paused at its reset with an intact or converged mirror in every step: recovery finishes the move.
      t.is(phase, 'done', `phase ${phase} (${entry?.reason})`);
      const host = phase === 'done' ? 'lab-b' : 'lab-a';
      await assertGuestOn(t, guest, host, before.boot + 1);
      const other = host === 'lab-a' ? 'lab-b' : 'lab-a';
      t.is(await domUuid(other, guest.name), undefined, `nothing defined on ${other}`);
      t.is((await exportLeftovers('lab-b', guest.name)).nbd, '', 'no export process left');
    },
  );
}
