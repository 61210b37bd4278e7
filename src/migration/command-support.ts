import { formatProgress } from './format.js';
import type { ProgressSink } from './types.js';

/** Progress lines on stderr with timestamps, or nothing (under --json). */
export function stderrProgress(quiet: boolean): ProgressSink {
  if (quiet) return () => {};
  return (event) => process.stderr.write(`${formatProgress(event)}\n`);
}
