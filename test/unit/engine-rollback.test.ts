import test from 'ava';
import { Lab } from '../fake/engine-harness.js';
import { assertMoved, assertNeverTwoCopies, assertRolledBack } from '../fake/invariants.js';
import { libvirtError } from '../fake/libvirt-errors.js';
import { CUTOVER_STEP_NAMES, LibvirtErrorCode, POINT_OF_NO_RETURN, runCutover } from '../fake/src-imports.js';

/**
 * One hypervisor call of the cutover fails (every call in turn). Whether the target started decides the outcome: while
 * it has not (up to and including the point of no return), everything rolls back and the guest runs on the source;
 * once it has (a failure after it, or in source-stopped beside it), the migration is left failed with the guest
 * running on the target.
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
      if (outcome !== 'done') {
        // Every failure, in a step's check or its run, is journaled with its step: the point of no return decides.
        t.not(step, undefined, 'the failure was not journaled');
        const targetStarted = (await lab.auditSteps()).includes(`${POINT_OF_NO_RETURN}:ok`);
        // Only source-stopped runs beside start-target: anywhere else, the target started only if it failed after it.
        if (step !== 'source-stopped')
          t.is(targetStarted, CUTOVER_STEP_NAMES.indexOf(step ?? '') > noReturn, `failed in ${step}`);
        t.is(outcome, targetStarted ? 'failed' : 'rolled-back', `failed in ${step}`);
      }
      switch (outcome) {
        case 'done':
          return assertMoved(t, lab, record);
        case 'rolled-back':
          t.is(record.phase, 'rolled-back');
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

test('the second of two NICs fails to go down: after the rollback both links are up', async (t) => {
  const lab = new Lab(t, { networkNic: true });
  await lab.arm();
  lab.fake.failNext('updateDevice', undefined, { host: 'src', after: 1 });
  const process = lab.process('cutover');
  t.is(await runCutover(await lab.context(process)), 'rolled-back');
  t.is(await failedStep(lab), 'links-down');
  const record = await lab.migration();
  t.deepEqual([...(lab.fake.host('src').domainByUuid(lab.guest.uuid)?.links.values() ?? [])], ['up', 'up']);
  assertRolledBack(t, lab, record);
});

test('an error thrown by a check is journaled with its step, and the cutover rolls back from there', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const process = lab.process('cutover');
  const ctx = await lab.context(process);
  // destroy-source's check is the first to ask the source for its block jobs.
  lab.fake.failNext('getBlockJobInfo', undefined, { host: 'src', after: 2 });
  t.is(await runCutover(ctx), 'rolled-back');
  t.is(await failedStep(lab), 'destroy-source');
  t.true((await lab.auditSteps()).includes('destroy-source:error'));
  t.regex((await lab.migration()).lastError ?? '', /^Step destroy-source failed: .*injected failure/);
  assertRolledBack(t, lab, await lab.migration());
});
