import { readFile } from 'node:fs/promises';
import { consoleLogFromRoot } from './guest.js';

/** What the agent printed on one host's console: "BOOT boot=B resume=N" and "ACK boot=B n=N" lines. */
export interface ConsoleRecord {
  host: string;
  boots: { boot: number; resume: number }[];
  acks: { boot: number; n: number }[];
}

export function parseConsole(host: string, text: string): ConsoleRecord {
  const record: ConsoleRecord = { host, boots: [], acks: [] };
  // A kernel line may cut into an agent line; only whole lines (ending in a newline) count.
  for (const match of text.matchAll(/(?:BOOT boot=(\d+) resume=(\d+)|ACK boot=(\d+) n=(\d+))\r?\n/g)) {
    if (match[1]) record.boots.push({ boot: Number(match[1]), resume: Number(match[2]) });
    else record.acks.push({ boot: Number(match[3]), n: Number(match[4]) });
  }
  return record;
}

/** A guest's console log on each of `hosts` that has one. */
async function consoleTexts(name: string, hosts: string[]): Promise<{ host: string; text: string }[]> {
  const texts: { host: string; text: string }[] = [];
  for (const host of hosts) {
    const text = await readFile(consoleLogFromRoot(host, name), 'latin1').catch(() => undefined);
    if (text !== undefined) texts.push({ host, text });
  }
  return texts;
}

/** The last `lines` lines of a guest's console log on each host that has one, for a failing test's log. */
export async function consoleTails(name: string, hosts: string[], lines: number): Promise<string> {
  const tails = (await consoleTexts(name, hosts)).map(({ host, text }) => {
    const all = text.trimEnd().split('\n');
    // The agent's ACK lines drown the rest: what came before the tail is shown without them.
    const before = all.slice(0, -lines).filter((line) => !line.startsWith('ACK '));
    const earlier =
      before.length > 0
        ? `(before, ACK lines left out)\n${before.slice(-lines).join('\n')}\n(last lines)\n`
        : '';
    return `${host}:\n${earlier}${all.slice(-lines).join('\n')}`;
  });
  return tails.join('\n') || 'no console log on any host';
}

export async function readConsoles(name: string, hosts: string[]): Promise<ConsoleRecord[]> {
  return (await consoleTexts(name, hosts)).map(({ host, text }) => parseConsole(host, text));
}

export interface BootTransition {
  /** The boot that started after the reboot. */
  boot: number;
  /** Last counter acknowledged on the console during the previous boot, on any host. */
  lastAckedBefore: number;
  /** Last counter the guest found on its disk when this boot started. */
  resumedFrom: number;
  bootedOn: string;
  ok: boolean;
}

export interface NothingLostReport {
  ok: boolean;
  transitions: BootTransition[];
  problems: string[];
}

/**
 * The external "nothing lost" check: for every reboot recorded in the console logs (of all hosts, since a guest may
 * have moved), the counter the guest finds on its disk must be at least the last one it acknowledged before.
 */
export function judgeNothingLost(records: ConsoleRecord[]): NothingLostReport {
  const lastAck = new Map<number, number>();
  for (const record of records) {
    for (const ack of record.acks) lastAck.set(ack.boot, Math.max(lastAck.get(ack.boot) ?? 0, ack.n));
  }
  const problems: string[] = [];
  const transitions: BootTransition[] = [];
  const boots = records.flatMap((record) => record.boots.map((boot) => ({ ...boot, host: record.host })));
  if (boots.length === 0) problems.push('no BOOT line on any host console: the agent never started');
  for (const { boot, resume, host } of boots.sort((x, y) => x.boot - y.boot)) {
    if (boot === 1) continue;
    const before = lastAck.get(boot - 1);
    if (before === undefined) {
      problems.push(
        `boot ${boot} on ${host}: no acknowledged counter of boot ${boot - 1} in any console log`,
      );
      continue;
    }
    const ok = resume >= before;
    if (!ok)
      problems.push(`boot ${boot} on ${host}: disk had ${resume}, but ${before} was acknowledged before`);
    transitions.push({ boot, lastAckedBefore: before, resumedFrom: resume, bootedOn: host, ok });
  }
  return { ok: problems.length === 0, transitions, problems };
}
