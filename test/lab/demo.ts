/**
 * The README demo: three hosts, four guests on lab-a, lab-a drained while `rehome watch` runs; the guests reboot
 * themselves at random moments and come back on lab-b and lab-c, as the plan said. Tears the lab down in any case.
 * Run: npm run demo (it holds the machine's lab lock, /tmp/rehome-lab.lock, while it runs).
 */
import type { DrainPlanReport } from '../../src/drain/types.js';
import { defineSizedGuest, limitGuestMemory } from './drain-fleet.js';
import { type Background, domMacs, rehome, startRehome, waitForPhase } from './helpers-migration.js';
import {
  agentReboot,
  checkNothingLost,
  guestIp,
  type LabGuest,
  labDown,
  labUp,
  waitForAgent,
  whereRuns,
} from './lab.js';
import { sleep } from './run.js';

const SIZES: Record<string, number> = { web: 320, db: 288, cache: 256, queue: 224 };
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  say('Bringing the lab up: lab-a, lab-b, lab-c; four guests on lab-a.');
  await labUp({ hosts: 3 });
  const guests: LabGuest[] = [];
  for (const [name, memoryMiB] of Object.entries(SIZES))
    guests.push(await defineSizedGuest(name, 'lab-a', memoryMiB));
  await limitGuestMemory({ 'lab-b': 600, 'lab-c': 700 });
  const before = new Map<string, number>();
  for (const guest of guests)
    before.set(guest.name, (await waitForAgent(guest.ip, { timeoutMs: 180_000 })).boot);

  const planRun = await rehome(['plan', 'drain', 'lab-a', '--json']);
  const plan = JSON.parse(planRun.stdout) as DrainPlanReport;
  say((await rehome(['plan', 'drain', 'lab-a'])).stdout);

  let watch: Background | undefined;
  try {
    say((await rehome(['drain', 'lab-a', '--deadline', '+1d', '--yes', '--concurrency', '2'])).stdout);
    watch = await startRehome(['watch']);
    await watch.waitForLog(/listening to lab-a/);
    await Promise.all(
      guests.map(async (guest) => {
        await sleep(Math.floor(Math.random() * 20_000));
        say(`${guest.name} reboots itself`);
        await agentReboot(guest.ip);
        await waitForPhase(guest.name, ['done', 'rolled-back', 'failed'], 300_000);
      }),
    );
    say('\nWhere each guest runs now:');
    let ok = true;
    for (const decision of plan.decisions) {
      if (decision.status !== 'placed') continue;
      const guest = guests.find((g) => g.name === decision.vm) as LabGuest;
      const status = await waitForAgent(guest.ip, { minBoot: (before.get(guest.name) ?? 0) + 1 });
      const hosts = await whereRuns(guest.name);
      const macs = await domMacs(decision.target, guest.name).catch((): string[] => []);
      const lost = await checkNothingLost(guest.name);
      const same = hosts.length === 1 && hosts[0] === decision.target;
      const sameNet = macs.includes(guest.mac) && (await guestIp(guest.mac)) === guest.ip;
      ok &&= same && sameNet && lost.ok;
      say(
        `  ${guest.name.padEnd(6)} on ${hosts.join(',') || 'nowhere'} (planned ${decision.target})  ` +
          `MAC ${guest.mac} IP ${guest.ip} ${sameNet ? 'same' : 'CHANGED'}  boot ${status.boot}  ` +
          `${lost.ok ? 'nothing lost' : `LOST: ${lost.problems.join('; ')}`}`,
      );
    }
    say(ok ? '\nDemo passed: lab-a is empty.' : '\nDemo FAILED (see above).');
    if (!ok) process.exitCode = 1;
  } finally {
    await watch?.stop();
  }
}

main()
  .catch((err) => {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => labDown());
