/**
 * Steps run side by side (`concurrently`): the cutover's switch stage, where a step may wait for a step of another
 * branch (Step.after). The runner must run the branches at once, let every branch end before it reports a failure (a
 * rollback must not start while a branch still acts), report the first failure in the order written, and a rollback
 * must undo every branch's steps, last written first.
 */
import test, { type ExecutionContext } from 'ava';
import { Lab } from '../fake/engine-harness.js';
import {
  concurrently,
  flattenSteps,
  runSteps,
  type Step,
  StepFailedError,
  undoSteps,
} from '../fake/src-imports.js';

function step(name: string, run: () => Promise<void> = async () => {}, undone?: string[]): Step {
  return {
    name,
    check: async () => ({ kind: 'ok' }),
    run: async () => {
      await run();
      return {};
    },
    ...(undone ? { undo: async () => void undone.push(name) } : {}),
  };
}

async function armedContext(t: ExecutionContext) {
  const lab = new Lab(t);
  await lab.arm();
  return { lab, ctx: await lab.context(lab.process('cutover')) };
}

test('branches run at the same time: a step waiting for another branch finishes', async (t) => {
  const { ctx } = await armedContext(t);
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const order: string[] = [];
  const waits = step('waits', async () => {
    await released;
    order.push('waits');
  });
  const releases = step('releases', async () => {
    order.push('releases');
    release();
  });
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('run one after the other')), 5000),
  );
  await Promise.race([runSteps(ctx, [concurrently('both', undefined, [waits], [releases])]), timeout]);
  t.deepEqual(order, ['releases', 'waits']);
});

test('a failing branch: the others run to their end first, and the first failure in written order is thrown', async (t) => {
  const { lab, ctx } = await armedContext(t);
  const ran: string[] = [];
  const slow = (name: string) =>
    step(name, async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      ran.push(name);
    });
  const fails = (name: string) =>
    step(name, async () => {
      throw new Error(`${name} broke`);
    });
  const error = await t.throwsAsync(
    runSteps(ctx, [
      concurrently(
        'stage',
        undefined,
        [slow('a1'), fails('a2'), slow('a3')],
        [slow('b1'), slow('b2')],
        [fails('c1')],
      ),
      slow('after'),
    ]),
    { instanceOf: StepFailedError },
  );
  t.is((error as StepFailedError).step, 'a2');
  t.deepEqual(ran.sort(), ['a1', 'b1', 'b2'], 'b ran to its end; a3 and the step after the stage never ran');
  const audit = await lab.auditSteps();
  t.true(audit.includes('a2:error') && audit.includes('c1:error') && audit.includes('b2:ok'));
});

test('a rollback undoes every branch, last written first', async (t) => {
  const { ctx } = await armedContext(t);
  const undone: string[] = [];
  const steps = [
    step('first', undefined, undone),
    concurrently(
      'stage',
      undefined,
      [step('a1', undefined, undone), step('a2', undefined, undone)],
      [step('b1', undefined, undone)],
    ),
    step('last', undefined, undone),
  ];
  t.deepEqual(
    flattenSteps(steps).map((s) => s.name),
    ['first', 'a1', 'a2', 'b1', 'last'],
  );
  await undoSteps(ctx, steps, 'cancelling', 'test');
  t.deepEqual(undone, ['last', 'b1', 'a2', 'a1', 'first']);
});

test('a step marked after waits for that step of another branch, whatever the timing', async (t) => {
  const { ctx } = await armedContext(t);
  const order: string[] = [];
  const slow = step('slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('slow');
  });
  const waiting: Step = { ...step('waiting', async () => void order.push('waiting')), after: ['slow'] };
  await runSteps(ctx, [concurrently('stage', undefined, [slow], [waiting])]);
  t.deepEqual(order, ['slow', 'waiting']);
});

test('a step marked after does not run when the step it waits for fails, and is journaled as refused', async (t) => {
  const { lab, ctx } = await armedContext(t);
  const ran: string[] = [];
  const breaks = step('breaks', async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new Error('broke');
  });
  const never = step('never');
  const waiting: Step = { ...step('waiting', async () => void ran.push('waiting')), after: ['never'] };
  const error = await t.throwsAsync(
    runSteps(ctx, [concurrently('stage', undefined, [breaks, never], [step('b1'), waiting])]),
    { instanceOf: StepFailedError },
  );
  t.is((error as StepFailedError).step, 'breaks');
  t.deepEqual(ran, []);
  const audit = await lab.auditSteps();
  t.true(audit.includes('b1:ok'), audit.join(' '));
  t.true(audit.includes('waiting:error'), audit.join(' '));
});

test('a stage whose step waits for a step no other branch has is refused when it is built', (t) => {
  const waiting: Step = { ...step('waiting'), after: ['nowhere'] };
  t.throws(() => concurrently('stage', undefined, [step('a')], [waiting]), { message: /nowhere/ });
  const own: Step = { ...step('own'), after: ['a'] };
  t.throws(() => concurrently('stage', undefined, [step('a'), own], [step('b')]), { message: /waits for a/ });
});
