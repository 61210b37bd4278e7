import { setTimeout as sleep } from 'node:timers/promises';
import { targetPresence } from '../engine/presence.js';
import { ok, type Step } from '../engine/step.js';

/** The guest keeps running on the target for half a second. */
export const verify: Step = {
  name: 'verify',
  enter: 'verifying',
  async check() {
    return ok;
  },
  async run(ctx) {
    for (let i = 0; i < 5; i++) {
      const presence = await targetPresence(ctx);
      if (presence !== 'running') throw new Error(`the VM is ${presence} on ${ctx.record.targetHost}`);
      await sleep(100);
    }
    return {};
  },
};
