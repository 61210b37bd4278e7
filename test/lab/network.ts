import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  hostAddress,
  hostNamespace,
  hostVeth,
  LAB_BRIDGE,
  labPaths,
  OPERATOR_ADDRESS,
  OPERATOR_NS,
} from './paths.js';
import { readPidFile, recordPid } from './pids.js';
import { run, runMaybe, spawnDetached, waitFor } from './run.js';

/** The operator namespace: the lab switch (a bridge) with the operator's address. No default route. */
export async function createSwitch(): Promise<void> {
  await run(['ip', 'netns', 'add', OPERATOR_NS]);
  await run(['ip', '-n', OPERATOR_NS, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', OPERATOR_NS, 'link', 'add', LAB_BRIDGE, 'type', 'bridge', 'stp_state', '0']);
  await run(['ip', '-n', OPERATOR_NS, 'addr', 'add', `${OPERATOR_ADDRESS}/24`, 'dev', LAB_BRIDGE]);
  await run(['ip', '-n', OPERATOR_NS, 'link', 'set', LAB_BRIDGE, 'up']);
}

/** A host's network namespace: eth0 (a veth into the switch) enslaved to br0, which holds the host's address. */
export async function createHostNetwork(name: string): Promise<void> {
  const ns = hostNamespace(name);
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await run([
    'ip',
    'link',
    'add',
    hostVeth(name),
    'netns',
    OPERATOR_NS,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    ns,
  ]);
  await run(['ip', '-n', OPERATOR_NS, 'link', 'set', hostVeth(name), 'master', LAB_BRIDGE, 'up']);
  await run(['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0']);
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'master', 'br0', 'up']);
  await run(['ip', '-n', ns, 'addr', 'add', `${hostAddress(name)}/24`, 'dev', 'br0']);
  await run(['ip', '-n', ns, 'link', 'set', 'br0', 'up']);
}

function dhcpHostsFile(): string {
  return path.join(labPaths().switchDir, 'dhcp-hosts');
}

/** dnsmasq in the operator namespace, bound to the switch, handing out static leases by MAC only. */
export async function startDnsmasq(holder: string): Promise<void> {
  const dir = labPaths().switchDir;
  await mkdir(dir, { recursive: true });
  await writeFile(dhcpHostsFile(), '');
  const pidFile = path.join(dir, 'dnsmasq.pid');
  // In the foreground under a holder, so that it is reaped at once when the lab stops it.
  const holderPid = await spawnDetached(path.join(dir, 'dnsmasq.out'), [
    'ip',
    'netns',
    'exec',
    OPERATOR_NS,
    holder,
    'dnsmasq',
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    `--interface=${LAB_BRIDGE}`,
    '--bind-interfaces',
    '--port=0',
    '--user=root',
    '--dhcp-authoritative',
    `--dhcp-range=${OPERATOR_ADDRESS.replace(/\.1$/, '.0')},static,255.255.255.0,infinite`,
    `--dhcp-hostsfile=${dhcpHostsFile()}`,
    `--dhcp-leasefile=${path.join(dir, 'dnsmasq.leases')}`,
    `--pid-file=${pidFile}`,
    `--log-facility=${path.join(dir, 'dnsmasq.log')}`,
    '--log-dhcp',
  ]);
  const pid = await waitFor('dnsmasq pid file', () => readPidFile(pidFile), 5000, 20);
  await recordPid('switch.holder', holderPid);
  await recordPid('switch.dnsmasq', pid);
}

export interface DhcpHost {
  mac: string;
  ip: string;
  name: string;
}

export async function dhcpHosts(): Promise<DhcpHost[]> {
  const text = await readFile(dhcpHostsFile(), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mac = '', ip = '', name = ''] = line.split(',');
      return { mac, ip, name };
    });
}

/** Adds a static lease and tells dnsmasq to re-read its hosts file. */
export async function addDhcpHost(entry: DhcpHost): Promise<void> {
  const line = `${entry.mac},${entry.ip},${entry.name}\n`;
  await writeFile(dhcpHostsFile(), line, { flag: 'a' });
  const pid = await readPidFile(path.join(labPaths().switchDir, 'dnsmasq.pid'));
  if (!pid) throw new Error('the lab dnsmasq is not running: run `npm run lab -- up`');
  process.kill(pid, 'SIGHUP');
}

/** Deletes what `ip netns` lists for the lab, switch ports first (an immediate re-create otherwise fails). */
export async function deleteNetworks(namespaces: string[]): Promise<void> {
  for (const ns of namespaces.filter((name) => name !== OPERATOR_NS)) {
    const name = ns.slice('rh-'.length);
    await runMaybe(['ip', '-n', OPERATOR_NS, 'link', 'del', hostVeth(name)]);
    await runMaybe(['ip', '-n', ns, 'link', 'del', 'eth0']);
  }
  for (const ns of namespaces) await runMaybe(['ip', 'netns', 'del', ns]);
}

export async function labNamespaces(): Promise<string[]> {
  const { stdout } = await runMaybe(['ip', 'netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name === OPERATOR_NS || name.startsWith('rh-lab-'));
}
