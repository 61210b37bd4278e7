/**
 * `rehome inventory` against the namespace lab: three hosts, domains of several shapes, a hostile domain name, an
 * unknown host key, lifecycle events, and a host whose libvirtd was killed. The CLI runs as the operator (labSh).
 * Set REHOME_CAPTURE_FIXTURES=1 to (re)write the captured domain XMLs under test/fixtures/domain-xml/.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import test from 'ava';
import { execa } from 'execa';
import type { InventoryResult } from '../../commands/inventory.js';
import type { HostFactsReport, HostInventory } from '../../src/inventory/types.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import { LifecycleEvent } from '../../src/libvirt/protocol/constants.js';
import { defineLabDomain, HOSTILE_NAME, type LabDomainSpec, NBD_SERVER } from './inventory-domains.js';
import { defineGuest, isClean, labDown, labSh, labUp, leftovers, virsh } from './lab.js';
import { operatorArgv, operatorFiles } from './operator.js';
import { repoDir } from './paths.js';
import { isOurs, recordedProcesses } from './pids.js';
import { sleep, waitFor } from './run.js';

const MiB = 1024 * 1024;
const fixtureDir = path.join(repoDir, 'test/fixtures/domain-xml');

const twoDisks: LabDomainSpec = {
  name: 'inv-two-disks',
  stem: 'inv-two-disks',
  owner: 'alice@example.com',
  bridge: 'br0',
  vcpus: 2,
  memoryMiB: 96,
  disks: [
    { target: 'vda', file: { name: 'inv-two-disks-a.qcow2', format: 'qcow2', sizeBytes: 64 * MiB } },
    { target: 'vdb', file: { name: 'inv-two-disks-b.raw', format: 'raw', sizeBytes: 32 * MiB } },
  ],
};
const nbdDisk: LabDomainSpec = {
  name: 'inv-nbd',
  stem: 'inv-nbd',
  disks: [
    { target: 'vda', file: { name: 'inv-nbd-boot.qcow2', format: 'qcow2', sizeBytes: 16 * MiB } },
    { target: 'vdb', nbd: NBD_SERVER },
  ],
};
const hostile: LabDomainSpec = {
  name: HOSTILE_NAME,
  stem: 'inv-hostile',
  owner: `$(touch rehome-pwned) 'bob'`,
  disks: [{ target: 'vda', file: { name: 'inv-hostile.qcow2', format: 'qcow2', sizeBytes: 8 * MiB } }],
};
const eventsProbe: LabDomainSpec = { name: 'inv-events', stem: 'inv-events', disks: [] };

async function inventory(
  args: string[],
): Promise<{ exitCode: number; result: InventoryResult; stderr: string }> {
  const { exitCode, stdout, stderr } = await labSh(['rehome', 'inventory', '--json', ...args], {
    reject: false,
    timeoutMs: 120_000,
  });
  let result: InventoryResult;
  try {
    result = JSON.parse(stdout) as InventoryResult;
  } catch {
    throw new Error(`rehome inventory printed no JSON (exit ${exitCode}): ${stdout}\n${stderr}`);
  }
  return { exitCode, result, stderr };
}

function okHost(hosts: HostInventory[], name: string): HostFactsReport {
  const host = hosts.find((entry) => entry.name === name);
  if (!host?.ok) throw new Error(`${name} was not read: ${JSON.stringify(host)}`);
  return host;
}

test.before(async () => {
  await labUp({ hosts: 3 });
  await defineLabDomain('lab-a', twoDisks);
  await defineLabDomain('lab-b', nbdDisk);
  await defineLabDomain('lab-b', eventsProbe);
  await defineLabDomain('lab-c', hostile);
  await defineGuest('inv-run', { host: 'lab-a' });
});

test.after.always('tear the lab down', async () => {
  await labDown();
});

test.serial('inventory of three hosts reports every host and domain right', async (t) => {
  const { exitCode, result, stderr } = await inventory([]);
  t.is(exitCode, 0, stderr);
  t.deepEqual(
    result.hosts.map((host) => host.name),
    ['lab-a', 'lab-b', 'lab-c'],
  );
  for (const name of ['lab-a', 'lab-b', 'lab-c']) {
    const host = okHost(result.hosts, name);
    t.is(host.hostname, name);
    t.true(host.cores > 0);
    t.true(host.memoryKiB > host.freeMemoryKiB && host.freeMemoryKiB > 0);
    t.true(host.bridges.includes('br0'), host.bridges.join(','));
    t.truthy(host.cpu.arch);
    const { stdout: df } = await labSh([
      'ssh',
      name,
      'df',
      '-B1',
      '--output=avail',
      '/var/lib/libvirt/images',
    ]);
    const free = Number(df.trim().split('\n').at(-1));
    t.true(
      Math.abs((host.imageDirFreeBytes ?? 0) - free) < 256 * MiB,
      `${host.imageDirFreeBytes} vs ${free}`,
    );
    const { stdout: version } = await virsh(name, ['version']);
    t.true(version.includes(`libvirt ${host.libvirtVersion.text}`), version);
    t.true(version.includes(`QEMU ${host.qemuVersion.text}`), version);
    const { stdout: nets } = await virsh(name, ['net-list', '--all', '--name']);
    t.deepEqual(
      host.networks.map((network) => network.name),
      nets.split('\n').filter(Boolean).sort(),
    );
  }

  const a = okHost(result.hosts, 'lab-a');
  t.deepEqual(
    a.domains.map((domain) => domain.name),
    ['inv-run', 'inv-two-disks'],
  );
  const two = a.domains.find((domain) => domain.name === 'inv-two-disks');
  t.is(two?.state, 'shutoff');
  t.is(two?.owner, 'alice@example.com');
  t.deepEqual(two?.vcpus, { current: 2, max: 2 });
  t.is(two?.memoryKiB.max, 96 * 1024);
  t.is(two?.cpu.model, 'qemu64');
  t.deepEqual(
    two?.disks.map((disk) => [disk.target, disk.class, disk.virtualSizeBytes]),
    [
      ['vda', 'local', 64 * MiB],
      ['vdb', 'local', 32 * MiB],
    ],
  );
  for (const disk of two?.disks ?? []) t.true((disk.allocatedBytes ?? -1) >= 0);
  t.is(two?.nics[0]?.source.bridge, 'br0');
  const running = a.domains.find((domain) => domain.name === 'inv-run');
  t.is(running?.state, 'running');
  t.is(running?.disks[0]?.class, 'local');
  t.true((running?.disks[0]?.virtualSizeBytes ?? 0) > 0);

  const b = okHost(result.hosts, 'lab-b');
  const nbd = b.domains.find((domain) => domain.name === 'inv-nbd');
  t.deepEqual(
    nbd?.disks.map((disk) => [disk.target, disk.class, disk.source]),
    [
      ['vda', 'local', '/var/lib/libvirt/images/inv-nbd-boot.qcow2'],
      ['vdb', 'network', `nbd://${NBD_SERVER.address}:${NBD_SERVER.port}/${NBD_SERVER.export}`],
    ],
  );
  t.is(nbd?.disks[1]?.virtualSizeBytes, undefined);

  const c = okHost(result.hosts, 'lab-c');
  t.deepEqual(
    c.domains.map((domain) => [domain.name, domain.owner, domain.state]),
    [[HOSTILE_NAME, `$(touch rehome-pwned) 'bob'`, 'shutoff']],
  );
});

test.serial('the human output names the hostile domain literally, and nothing ran it', async (t) => {
  const { stdout, exitCode } = await labSh(['rehome', 'inventory'], { timeoutMs: 120_000 });
  t.is(exitCode, 0);
  t.regex(stdout, /^HOST\s+STATUS\s+CPU/m);
  t.true(stdout.includes(HOSTILE_NAME));
  t.regex(stdout, /inv-two-disks\s+shutoff\s+2\s+96 MiB/);
  // The name also went through virsh over ssh (quoted argv) in this test run.
  const { stdout: state } = await virsh('lab-c', ['domstate', HOSTILE_NAME]);
  t.is(state.trim(), 'shut off');
  for (const host of ['lab-a', 'lab-b', 'lab-c']) {
    const { stdout: found } = await labSh([
      'ssh',
      host,
      'find / /root /tmp /var/lib/libvirt /run /etc/libvirt -xdev -maxdepth 3 -name rehome-pwned 2>/dev/null; true',
    ]);
    t.is(found.trim(), '', `rehome-pwned on ${host}`);
  }
  const { stdout: cwd } = await labSh(['pwd']);
  t.false(existsSync(path.join(cwd.trim(), 'rehome-pwned')), 'rehome-pwned in the operator cwd');
  t.false(existsSync(path.join(operatorFiles().home, 'rehome-pwned')), 'rehome-pwned in the operator HOME');
});

test.serial(
  'live dumpxml outputs (running and --inactive) round-trip exactly; fixtures are captures of them',
  async (t) => {
    const captures: { file: string; host: string; name: string; inactive: boolean }[] = [
      { file: 'lab-two-disks-inactive.xml', host: 'lab-a', name: twoDisks.name, inactive: true },
      { file: 'lab-running-inactive.xml', host: 'lab-a', name: 'inv-run', inactive: true },
      { file: 'lab-running.xml', host: 'lab-a', name: 'inv-run', inactive: false },
      { file: 'lab-nbd-inactive.xml', host: 'lab-b', name: nbdDisk.name, inactive: true },
      { file: 'lab-hostile-name-inactive.xml', host: 'lab-c', name: HOSTILE_NAME, inactive: true },
    ];
    for (const capture of captures) {
      const { stdout } = await virsh(capture.host, [
        'dumpxml',
        ...(capture.inactive ? ['--inactive'] : []),
        '--',
        capture.name,
      ]);
      const xml = DomainXml.parse(stdout);
      t.is(xml.toString(), stdout, `${capture.file} round-trips`);
      t.is(xml.name, capture.name);
      if (process.env.REHOME_CAPTURE_FIXTURES === '1') {
        await writeFile(path.join(fixtureDir, capture.file), stdout);
      } else {
        const fixture = await readFile(path.join(fixtureDir, capture.file), 'utf8');
        t.is(DomainXml.parse(fixture).name, capture.name, `${capture.file} is a capture of ${capture.name}`);
      }
    }
  },
);

test.serial('lifecycle events arrive for a started and a stopped domain', async (t) => {
  const [command = 'ip', ...args] = operatorArgv([
    'node',
    '--import',
    'tsx',
    '--no-warnings',
    'test/lab/inventory-events.ts',
    'lab-b',
  ]);
  const child = execa(command, args, { cwd: repoDir, stdin: 'pipe', reject: false });
  const events: { domain?: string; event?: number; ready?: boolean }[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => events.push(JSON.parse(line)));
  try {
    await waitFor(
      'the event listener to be ready',
      async () => (events.some((e) => e.ready) ? true : undefined),
      30_000,
    );
    await virsh('lab-b', ['start', eventsProbe.name]);
    await sleep(300);
    await virsh('lab-b', ['destroy', eventsProbe.name]);
    const mine = () =>
      events.filter((event) => event.domain === eventsProbe.name).map((event) => event.event);
    await waitFor(
      'started and stopped events',
      async () => (mine().includes(LifecycleEvent.stopped) ? true : undefined),
      15_000,
    );
    t.deepEqual(
      mine().filter((event) => event === LifecycleEvent.started || event === LifecycleEvent.stopped),
      [LifecycleEvent.started, LifecycleEvent.stopped],
    );
  } finally {
    child.stdin?.end();
    await child;
  }
});

test.serial(
  'an unknown host key is refused, then accepted and recorded with the explicit flag',
  async (t) => {
    const knownHosts = operatorFiles().knownHosts;
    const original = await readFile(knownHosts, 'utf8');
    const withoutB = original
      .split('\n')
      .filter((line) => !line.startsWith('lab-b,'))
      .join('\n');
    t.not(withoutB, original, 'the lab-b line was found');
    await writeFile(knownHosts, withoutB);

    const refused = await inventory(['lab-a', 'lab-b']);
    t.is(refused.exitCode, 5, 'a refused host key is exit 5, as everywhere');
    t.true(okHost(refused.result.hosts, 'lab-a').domains.length > 0, 'lab-a is still reported');
    const b = refused.result.hosts.find((host) => host.name === 'lab-b');
    t.false(b?.ok);
    if (b && !b.ok) {
      t.is(b.error.kind, 'host-key');
      t.regex(b.error.message, /not known \(ssh-ed25519 SHA256:/);
    }
    t.is(await readFile(knownHosts, 'utf8'), withoutB, 'nothing recorded without the flag');

    const accepted = await inventory(['lab-b', '--accept-unknown-host-keys']);
    t.is(accepted.exitCode, 0, accepted.stderr);
    t.is(accepted.result.hostKeysRecorded.length, 1);
    t.true(okHost(accepted.result.hosts, 'lab-b').domains.length > 0);
    t.not(await readFile(knownHosts, 'utf8'), withoutB, 'known_hosts gained an entry');
    // Recorded so that OpenSSH (StrictHostKeyChecking yes) and rehome without the flag both trust it now.
    t.is((await labSh(['ssh', 'lab-b', 'true'], { reject: false })).exitCode, 0);
    t.is((await inventory(['lab-b'])).exitCode, 0);
  },
);

test.serial('a host whose libvirtd is stopped is an error for that host only', async (t) => {
  const entry = (await recordedProcesses()).find((process) => process.label === 'lab-c.libvirtd');
  if (!entry || !(await isOurs(entry))) throw new Error('no recorded libvirtd for lab-c');
  process.kill(entry.pid, 'SIGTERM');
  await waitFor('libvirtd of lab-c to exit', async () => ((await isOurs(entry)) ? undefined : true), 10_000);

  const { exitCode, result } = await inventory([]);
  t.is(exitCode, 4);
  okHost(result.hosts, 'lab-a');
  okHost(result.hosts, 'lab-b');
  const c = result.hosts.find((host) => host.name === 'lab-c');
  t.false(c?.ok);
  if (c && !c.ok) {
    t.is(c.error.kind, 'unreachable');
    t.regex(c.error.message, /libvirt-sock/);
    t.true(c.error.hints.some((line) => line.includes('libvirtd')));
  }
});

test.serial('lab down cleans up, with one libvirtd already gone', async (t) => {
  await labDown();
  const left = await leftovers();
  t.true(isClean(left), JSON.stringify(left));
});
