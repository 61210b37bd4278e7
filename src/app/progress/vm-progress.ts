import type { ProgressSink } from '../../migration/index.js';
import { formatProgress, formatStep } from '../format/migration.js';
import { ProgressLines, type ProgressMode } from './lines.js';

/** Progress lines on stderr with timestamps, or nothing (under --json). For the long-running and one-pass commands. */
export function stderrProgress(quiet: boolean): ProgressSink {
  if (quiet) return () => {};
  return (event) => process.stderr.write(`${formatProgress(event)}\n`);
}

/**
 * The progress of one VM's long operation (`rehome migrate`) as one line that follows its steps: listr2 on a TTY,
 * timestamped lines otherwise, nothing under --json. The line fails with the error if `work` throws.
 */
export async function withVmProgress<T>(
  mode: ProgressMode,
  vm: string,
  work: (progress: ProgressSink) => Promise<T>,
  done: (result: T) => string,
): Promise<T> {
  if (mode === 'silent') return work(() => {});
  const lines = new ProgressLines(mode, [{ key: vm, title: `${vm}: starting` }]);
  try {
    const result = await work((event) => lines.title(vm, formatStep(event)));
    lines.succeed(vm, done(result));
    return result;
  } catch (err) {
    lines.fail(vm, (err as Error).message);
    throw err;
  } finally {
    await lines.close();
  }
}
