/**
 * The namespace lab's API, for tests and for the lab CLI (test/lab/cli.ts).
 * One machine plays a fleet: an operator namespace (rh-op) holds the switch and dnsmasq, and each host (rh-lab-a, …)
 * is a network + mount namespace running its own virtlogd, libvirtd and sshd under a subreaper.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { quoteArgv } from '../../src/host/quote.js';
import { blankGuestDisk, buildGuestImage, buildHolder } from './build.js';
import { judgeNothingLost, type NothingLostReport, readConsoles } from './console.js';
import {
  consoleLogFromRoot,
  GUEST_NAME_PATTERN,
  leaseFor,
  MAC_PATTERN,
  macForName,
  stageGuest,
} from './guest.js';
import { provisionHost, startHost, warmCapabilities } from './hosts.js';
import { createHostNetwork, createSwitch, dhcpHosts, startDnsmasq } from './network.js';
import { makeOperatorKey, operatorArgv, writeOperatorHome } from './operator.js';
import { AGENT_PORT, hostAddress, hostName, labPaths, labSourceDir, MAX_HOSTS } from './paths.js';
import { type Progress, type RunResult, run, runMaybe, silent, waitFor } from './run.js';
import { labDown as tearDown } from './teardown.js';

export type { NothingLostReport } from './console.js';
export { consoleLogFromRoot, macForName } from './guest.js';
export { isClean, type LabLeftovers, leftovers } from './teardown.js';

interface LabState {
  hosts: string[];
}

export async function labState(): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(labPaths().state, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

async function requireLab(): Promise<LabState> {
  const state = await labState();
  if (!state) throw new Error('the lab is not up: run `npm run lab -- up`');
  return state;
}

export async function labDown(options: { progress?: Progress } = {}): Promise<void> {
  await tearDown(options.progress ?? silent);
}

export async function labUp(options: { hosts?: number; progress?: Progress } = {}): Promise<LabState> {
  const count = options.hosts ?? 3;
  const progress = options.progress ?? silent;
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new Error(`--hosts must be an integer from 1 to ${MAX_HOSTS}, got ${count}`);
  }
  await tearDown(progress);
  const paths = labPaths();
  await mkdir(paths.root, { recursive: true });
  const hosts = Array.from({ length: count }, (_, index) => hostName(index));

  const holder = await buildHolder(progress);
  const guestImage = await buildGuestImage(progress);
  progress('making the fleet CA and host certificates');
  await run([
    'sh',
    path.join(labSourceDir, 'make-pki.sh'),
    paths.pki,
    ...hosts.map((h) => `${h}=${hostAddress(h)}`),
  ]);
  const operatorPublicKey = await makeOperatorKey();

  progress('creating the switch (rh-op) and dnsmasq');
  await createSwitch();
  await startDnsmasq(holder);

  const capabilityCache = path.join(paths.cache, 'qemu-capabilities');
  const seed = await readFile(path.join(capabilityCache, '.complete'), 'utf8').then(
    () => capabilityCache,
    () => undefined,
  );
  const [first = hostName(0), ...others] = hosts;
  progress(`starting ${first}${seed ? '' : ' (no cached QEMU capabilities: libvirtd probes QEMU)'}`);
  await createHostNetwork(first);
  await provisionHost(first, { holder, guestImage, operatorPublicKey, capabilityCache: seed });
  await startHost(first, holder);
  const probed = await warmCapabilities(first);
  await rm(capabilityCache, { recursive: true, force: true });
  await cp(probed, capabilityCache, { recursive: true });
  await writeFile(path.join(capabilityCache, '.complete'), '');

  if (others.length) progress(`starting ${others.join(', ')}`);
  await Promise.all(
    others.map(async (host) => {
      await createHostNetwork(host);
      await provisionHost(host, { holder, guestImage, operatorPublicKey, capabilityCache });
      await startHost(host, holder);
    }),
  );
  await writeOperatorHome(hosts);
  const state = { hosts };
  await writeFile(paths.state, `${JSON.stringify(state, null, 2)}\n`);
  progress('checking ssh to every host (host keys checked)');
  await Promise.all(hosts.map((host) => labSh(['ssh', host, 'true'])));
  return state;
}

/** Runs argv as the lab operator (rh-op namespace, operator HOME, ssh config, known_hosts, rehome on PATH). */
export async function labSh(
  argv: readonly string[],
  options: { input?: string; reject?: boolean; timeoutMs?: number } = {},
): Promise<RunResult> {
  const runner = options.reject === false ? runMaybe : run;
  return runner(operatorArgv(argv), {
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeout: options.timeoutMs ?? 60_000,
  });
}

/** virsh on a lab host, over ssh from the operator namespace. */
export async function virsh(host: string, argv: readonly string[], options: { reject?: boolean } = {}) {
  return labSh(['ssh', host, quoteArgv(['virsh', ...argv])], options);
}

export interface LabGuest {
  name: string;
  host: string;
  mac: string;
  ip: string;
}

/** Defines and starts a guest on a host; returns at once (see waitForAgent). */
export async function defineGuest(
  name: string,
  /** `disk`: an image to copy as the guest's disk (e.g. dataDisk()), instead of a blank one of `diskSize`. */
  options: { host: string; diskSize?: string; disk?: string; mac?: string; progress?: Progress },
): Promise<LabGuest> {
  const state = await requireLab();
  if (!GUEST_NAME_PATTERN.test(name)) throw new Error(`bad guest name ${JSON.stringify(name)} (a-z, 0-9, -)`);
  if (!state.hosts.includes(options.host)) {
    throw new Error(`no lab host ${options.host}; the hosts are ${state.hosts.join(', ')}`);
  }
  const mac = (options.mac ?? macForName(name)).toLowerCase();
  if (!MAC_PATTERN.test(mac)) throw new Error(`bad MAC ${mac}: use 52:54:00:xx:xx:xx`);
  const existing = await whereDefined(name, state.hosts);
  if (existing.length) throw new Error(`guest ${name} already exists on ${existing.join(', ')}`);
  const disk = options.disk ?? (await blankGuestDisk(options.diskSize ?? '256M', options.progress));
  const ip = await leaseFor(name, mac);
  const xml = await stageGuest(options.host, name, mac, disk);
  await virsh(options.host, ['define', xml]);
  await virsh(options.host, ['start', name]);
  return { name, host: options.host, mac, ip };
}

export interface AgentStatus {
  boot: number;
  counter: number;
}

async function agentCall(ip: string, command: string): Promise<string> {
  const { stdout } = await labSh(['busybox', 'nc', '-w', '3', ip, String(AGENT_PORT)], {
    input: `${command}\n`,
    timeoutMs: 10_000,
  });
  return stdout.trim();
}

export async function agentQuery(ip: string): Promise<AgentStatus> {
  const answer = await agentCall(ip, 'status');
  const match = /boot=(\d+) counter=(\d+)/.exec(answer);
  if (!match) throw new Error(`agent at ${ip} answered ${JSON.stringify(answer)}`);
  return { boot: Number(match[1]), counter: Number(match[2]) };
}

export async function agentReboot(ip: string): Promise<void> {
  const answer = await agentCall(ip, 'reboot');
  if (!answer.startsWith('rebooting'))
    throw new Error(`agent at ${ip} refused to reboot: ${JSON.stringify(answer)}`);
}

/** Waits until the agent answers (optionally with at least the given boot count). */
export async function waitForAgent(ip: string, options: { minBoot?: number; timeoutMs?: number } = {}) {
  return waitFor(
    `the agent at ${ip}`,
    async () => {
      const status = await agentQuery(ip).catch(() => undefined);
      return status && status.boot >= (options.minBoot ?? 1) ? status : undefined;
    },
    options.timeoutMs ?? 120_000,
    200,
  );
}

export async function ping(ip: string): Promise<boolean> {
  return (await labSh(['busybox', 'ping', '-c', '1', '-W', '2', ip], { reject: false })).exitCode === 0;
}

/** The guest's address, by MAC or by name, from the lab's static leases. */
export async function guestIp(macOrName: string): Promise<string> {
  const key = macOrName.toLowerCase();
  const entry = (await dhcpHosts()).find((h) => h.mac === key || h.name === macOrName);
  if (!entry) throw new Error(`no lab guest with name or MAC ${macOrName}`);
  return entry.ip;
}

async function whereDefined(name: string, hosts: string[]): Promise<string[]> {
  const found = await Promise.all(
    hosts.map(async (host) =>
      (await virsh(host, ['domstate', name], { reject: false })).exitCode === 0 ? host : '',
    ),
  );
  return found.filter(Boolean);
}

/** Hosts whose libvirt says the domain is running: libvirt's word, not the guest's. */
export async function whereRuns(name: string): Promise<string[]> {
  const { hosts } = await requireLab();
  const states = await Promise.all(
    hosts.map(async (host) => ({
      host,
      state: (await virsh(host, ['domstate', name], { reject: false })).stdout.trim(),
    })),
  );
  return states.filter((entry) => entry.state === 'running').map((entry) => entry.host);
}

/** The external check that a reboot lost no acknowledged write, from the console logs on every host. */
export async function checkNothingLost(name: string): Promise<NothingLostReport> {
  const { hosts } = await requireLab();
  return judgeNothingLost(await readConsoles(name, hosts));
}

export async function readConsoleLog(host: string, name: string): Promise<string> {
  return readFile(consoleLogFromRoot(host, name), 'latin1');
}
