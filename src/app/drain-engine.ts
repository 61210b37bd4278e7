import type { PrepareAndArm } from '../drain/types.js';
import { migrate, type Runtime } from '../migration/index.js';

/** The migration engine's prepare-and-arm (what `rehome migrate VM --to HOST` runs), as the drain calls it. */
export function enginePrepareAndArm(rt: Runtime): PrepareAndArm {
  return async (vm, target, options) => {
    const result = await migrate(
      rt,
      {
        vm: vm.name,
        to: target,
        ...(options.deadline ? { deadline: options.deadline } : {}),
        ...(options.bandwidthBytesPerSec ? { bandwidthBytesPerSec: options.bandwidthBytesPerSec } : {}),
      },
      (event) => {
        if (event.status === 'start' || event.status === 'info')
          options.onProgress?.(event.step, event.message);
      },
    );
    return { migrationId: result.id, phase: result.phase };
  };
}
