import { chooseTarget } from '../inventory/choose-target.js';
import {
  type MigrateOptions,
  type MigrateResult,
  migrate,
  type Runtime,
  type WaitMovedResult,
} from '../migration/index.js';
import type { ProgressMode } from './progress/lines.js';
import { withVmProgress } from './progress/vm-progress.js';
import { thenWait, type WaitRequest } from './wait.js';

/**
 * `rehome migrate`: without `to`, placement picks the target over the runtime's connections. With `wait`, once
 * armed, it follows the migration until the VM has moved (or the wait times out).
 */
export async function migrateVm(
  rt: Runtime,
  request: Omit<MigrateOptions, 'chooseTarget'>,
  mode: ProgressMode,
  wait?: WaitRequest<MigrateResult>,
): Promise<MigrateResult & { wait?: WaitMovedResult }> {
  const options: MigrateOptions = request.to
    ? request
    : { ...request, chooseTarget: (vm) => chooseTarget(rt, vm) };
  const armed = await withVmProgress(
    mode,
    request.vm,
    (progress) => migrate(rt, options, progress),
    (result) => `${result.vm}: armed on ${result.target}`,
  );
  return thenWait(rt, armed, [armed.id], wait);
}
