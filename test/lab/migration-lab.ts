/**
 * The lab of one migration test file: hosts up before the first test, guests booted on lab-a on demand, and after
 * every test, passed or failed, nothing of it left that could fail the next one: its background rehome processes
 * stopped, any migration still active cancelled (so no VM stays locked), its guests destroyed (so they stop taking
 * CPU from the tests after it). The lab goes down after the last test, however the file ends.
 */
import type { ExecutionContext, TestFn } from 'ava';
import { dataDisk } from './data-disk.js';
import { type Background, cancelActiveMigrations, startRehome } from './helpers-migration.js';
import { appendOperatorConfig } from './helpers-notify.js';
import { defineGuest, type LabGuest, labDown, labUp, virsh, waitForAgent, whereRuns } from './lab.js';

export interface MigrationLabOptions {
  /** Lab hosts (lab-a, lab-b, …); 2 if left out. */
  hosts?: number;
  /** YAML sections added to the operator's rehome config once the lab is up. */
  config?: string;
}

export interface MigrationLab {
  /** Defines and starts a guest on lab-a, and waits until its agent answers. */
  bootedGuest(name: string): Promise<LabGuest>;
  /** The same, its disk holding DATA_MIB of real data (the agent's counter lives on the same filesystem). */
  bootedDataGuest(name: string): Promise<LabGuest>;
  /** `rehome ARGS` in the background, stopped when the test ends. */
  startRehome(args: readonly string[], env?: Record<string, string>): Promise<Background>;
  /** A guest started some other way (e.g. the Debian one), destroyed after the test like the others. */
  adopt(guest: LabGuest): void;
}

export function useMigrationLab(test: TestFn, options: MigrationLabOptions = {}): MigrationLab {
  const backgrounds: Background[] = [];
  const guests: LabGuest[] = [];

  test.before('lab up', async () => {
    await labUp({ hosts: options.hosts ?? 2 });
    if (options.config) await appendOperatorConfig(options.config);
  });
  test.afterEach.always('leave nothing running for the next test', async (t) => {
    await stopAll(t, backgrounds.splice(0));
    await attempt(t, 'cancel active migrations', async () => {
      for (const line of await cancelActiveMigrations()) t.log(`clean-up: ${line}`);
    });
    await attempt(t, 'destroy the guests', () => destroyGuests(guests.splice(0)));
  });
  test.after.always('lab down', async (t) => {
    await stopAll(t, backgrounds.splice(0));
    await labDown();
  });

  return {
    async bootedGuest(name) {
      const guest = await defineGuest(name, { host: 'lab-a' });
      guests.push(guest);
      await waitForAgent(guest.ip, { timeoutMs: 120_000 });
      return guest;
    },
    async bootedDataGuest(name) {
      const guest = await defineGuest(name, { host: 'lab-a', disk: await dataDisk() });
      guests.push(guest);
      await waitForAgent(guest.ip, { timeoutMs: 120_000 });
      return guest;
    },
    adopt(guest) {
      guests.push(guest);
    },
    async startRehome(args, env = {}) {
      const background = await startRehome(args, env);
      backgrounds.push(background);
      return background;
    },
  };
}

async function stopAll(t: ExecutionContext, backgrounds: Background[]): Promise<void> {
  await Promise.all(
    backgrounds.map((background) => attempt(t, `stop pid ${background.pid}`, () => background.stop())),
  );
}

async function destroyGuests(guests: LabGuest[]): Promise<void> {
  for (const guest of guests) {
    for (const host of await whereRuns(guest.name))
      await virsh(host, ['destroy', guest.name], { reject: false });
  }
}

/** Clean-up goes on past a failed step; the step's error goes to the test's log. */
async function attempt(t: ExecutionContext, what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (err) {
    t.log(`clean-up: could not ${what}: ${(err as Error).message}`);
  }
}
