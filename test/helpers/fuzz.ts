/**
 * Property-based tests with fast-check, sized for `npm test` (a few seconds in all) and longer on demand:
 *   REHOME_FUZZ_RUNS=20000 npx ava test/unit/fuzz-*.test.ts     more cases per property
 *   REHOME_FUZZ_SEED=1234 npx ava test/unit/fuzz-*.test.ts      replay a failure (its seed is in the failure)
 */
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';

const RUNS = Number(process.env.REHOME_FUZZ_RUNS) || undefined;
const SEED = process.env.REHOME_FUZZ_SEED ? Number(process.env.REHOME_FUZZ_SEED) : undefined;

/**
 * Checks a property with `runs` cases (REHOME_FUZZ_RUNS scales every property to at least that many). A failure
 * fails the test with the shrunk counterexample, the seed and path, and how to replay it.
 */
export function checkProperty(
  t: ExecutionContext,
  property: fc.IPropertyWithHooks<unknown> | fc.IProperty<unknown>,
  runs: number,
): void {
  const details = fc.check(property as fc.IProperty<unknown>, {
    numRuns: Math.max(runs, RUNS ?? 0),
    ...(SEED !== undefined ? { seed: SEED } : {}),
  });
  if (details.failed) {
    t.fail(
      `${fc.defaultReportMessage(details)}\nReplay: REHOME_FUZZ_SEED=${details.seed} (path ${details.counterexamplePath})`,
    );
    return;
  }
  t.pass(`${details.numRuns} cases, seed ${details.seed}`);
}

/** Runs `fn`; true if it returned, false if it threw one of `allowed`; any other exception fails the property. */
export function returnsOrThrows(fn: () => unknown, ...allowed: (new (...args: never[]) => Error)[]): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (allowed.some((type) => err instanceof type)) return false;
    throw err;
  }
}
