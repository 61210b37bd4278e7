import { chooseTarget } from '../inventory/choose-target.js';
import { type MigrateOptions, type MigrateResult, migrate, type Runtime } from '../migration/index.js';
import type { ProgressMode } from './progress/lines.js';
import { withVmProgress } from './progress/vm-progress.js';

/** `rehome migrate`: without `to`, placement picks the target over the runtime's connections. */
export function migrateVm(
  rt: Runtime,
  request: Omit<MigrateOptions, 'chooseTarget'>,
  mode: ProgressMode,
): Promise<MigrateResult> {
  const options: MigrateOptions = request.to
    ? request
    : { ...request, chooseTarget: (vm) => chooseTarget(rt, vm) };
  return withVmProgress(
    mode,
    request.vm,
    (progress) => migrate(rt, options, progress),
    (armed) => `${armed.vm}: armed on ${armed.target}`,
  );
}
