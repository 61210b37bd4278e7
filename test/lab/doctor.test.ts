/**
 * `rehome doctor` on real lab hosts: a healthy lab passes every check; then each check is broken once on lab-a (and
 * only there), doctor reports that check failing with its exit code, and the host is repaired before the next one.
 * Breakages stay inside lab-a's own mount namespace or files (bind mounts, its sshd config, its cert dir).
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { CheckResult, DoctorReport } from '../../src/doctor/types.js';
import { rehome } from './helpers-migration.js';
import { inHost } from './hosts.js';
import { labDown, labUp } from './lab.js';
import { operatorFiles } from './operator.js';
import { hostRoot, LAB_CERT_DIR, labPaths, repoDir } from './paths.js';
import { run, sleep } from './run.js';

const HOST = 'lab-a';
const certDir = () => path.join(hostRoot(HOST), LAB_CERT_DIR);

test.before('lab up, with the fleet CA named in the config', async () => {
  await labUp({ hosts: 2 });
  const file = operatorFiles().rehomeConfig;
  const config = await readFile(file, 'utf8');
  const caFile = path.join(labPaths().pki, 'ca-cert.pem');
  await writeFile(file, config.replace(/^tls:\n/m, `tls:\n  caFile: ${caFile}\n`));
});

test.after.always('lab down', async () => {
  await labDown();
});

async function doctor(...hosts: string[]): Promise<{ exitCode: number; report: DoctorReport }> {
  const result = await rehome(['doctor', ...hosts, '--json'], { reject: false, timeoutMs: 60_000 });
  return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as DoctorReport };
}

function checkOf(report: DoctorReport, name: CheckResult['check']): CheckResult | undefined {
  return report.hosts.find((host) => host.host === HOST)?.checks.find((check) => check.check === name);
}

/** Breaks one thing on lab-a, runs doctor on it, repairs; the repair runs however the check went. */
async function broken(
  t: ExecutionContext,
  check: CheckResult['check'],
  exitCode: number,
  detail: RegExp,
  breakIt: () => Promise<unknown>,
  repair: () => Promise<unknown>,
): Promise<void> {
  await breakIt();
  try {
    const { exitCode: code, report } = await doctor(HOST);
    const found = checkOf(report, check);
    t.is(found?.status, 'fail', `${check}: ${JSON.stringify(found)}`);
    t.regex(found?.detail ?? '', detail, check);
    t.truthy(found?.fix, `${check} says how to fix it`);
    t.is(code, exitCode, `${check}: exit code`);
  } finally {
    await repair();
  }
}

/** A bind mount inside lab-a's mount namespace, undone by the returned function. */
async function bindOver(source: string, target: string): Promise<() => Promise<unknown>> {
  const mounted = await inHost(HOST, ['mount', '--bind', source, target]);
  if (mounted.exitCode !== 0) throw new Error(`mount ${source} on ${target}: ${mounted.stderr}`);
  return () => inHost(HOST, ['umount', target]);
}

async function swapFile(file: string, replacement: string): Promise<() => Promise<void>> {
  const original = await readFile(file);
  await writeFile(file, await readFile(replacement));
  return () => writeFile(file, original);
}

async function reloadSshd(): Promise<void> {
  const pid = Number((await readFile(path.join(hostRoot(HOST), 'run', 'sshd.pid'), 'utf8')).trim());
  process.kill(pid, 'SIGHUP');
  await sleep(500); // sshd re-executes itself with the same arguments and reads its config again
}

test.serial('a healthy lab passes every check', async (t) => {
  const { exitCode, report } = await doctor();
  t.is(exitCode, 0, JSON.stringify(report, null, 2));
  t.deepEqual(
    report.hosts.map((host) => host.host),
    ['lab-a', 'lab-b'],
  );
  for (const host of report.hosts)
    for (const check of host.checks)
      t.not(check.status, 'fail', `${host.host} ${check.check}: ${check.detail}`);
  t.is(report.fleetCa.source, 'config');
});

test.serial('each check, broken once on lab-a, is reported with its fix', async (t) => {
  const files = operatorFiles();
  const knownHosts = await readFile(files.knownHosts, 'utf8');
  await broken(
    t,
    'host-key',
    5,
    /not known/,
    () => writeFile(files.knownHosts, knownHosts.replace(/^lab-a,.*\n/m, '')),
    () => writeFile(files.knownHosts, knownHosts),
  );

  const sshdConfig = path.join(hostRoot(HOST), 'etc/ssh/sshd_config');
  const sshd = await readFile(sshdConfig, 'utf8');
  await broken(
    t,
    'stream-local',
    12,
    /sshd refused to forward/,
    async () => {
      await writeFile(sshdConfig, `${sshd}AllowStreamLocalForwarding no\n`);
      await reloadSshd();
    },
    async () => {
      await writeFile(sshdConfig, sshd);
      await reloadSshd();
    },
  );

  let undo = async (): Promise<unknown> => undefined;
  await broken(
    t,
    'versions',
    12,
    /libvirtd is not listening/,
    async () => {
      undo = await bindOver('/dev/null', '/run/libvirt/libvirt-sock');
    },
    () => undo(),
  );
  await broken(
    t,
    'qemu-tools',
    12,
    /qemu-nbd not found/,
    async () => {
      undo = await bindOver('/dev/null', '/usr/bin/qemu-nbd');
    },
    () => undo(),
  );

  const serverCert = path.join(certDir(), 'server-cert.pem');
  await broken(
    t,
    'tls-files',
    12,
    /missing in .*: server-cert\.pem/,
    () => rename(serverCert, `${serverCert}.away`),
    () => rename(`${serverCert}.away`, serverCert),
  );

  // Certificates of another CA (make-pki.sh in a fresh directory makes a new CA), another host's, one expiring soon.
  const other = path.join(labPaths().root, 'doctor-other-pki');
  await run(['sh', path.join(repoDir, 'test/lab/make-pki.sh'), other, 'lab-a=10.203.0.11']);
  let restore = async (): Promise<unknown> => undefined;
  await broken(
    t,
    'tls-chain',
    12,
    /server-cert\.pem is not signed by the fleet CA/,
    async () => {
      restore = await swapFile(serverCert, path.join(other, 'lab-a', 'server-cert.pem'));
    },
    () => restore(),
  );
  await broken(
    t,
    'tls-names',
    12,
    /server-cert\.pem names lab-b/,
    async () => {
      restore = await swapFile(serverCert, path.join(labPaths().pki, 'lab-b', 'server-cert.pem'));
    },
    () => restore(),
  );
  const soon = path.join(other, 'soon');
  await writeFile(
    `${soon}.info`,
    'cn = lab-a\ndns_name = lab-a\nip_address = 10.203.0.11\ntls_www_server\nsigning_key\nexpiration_days = 10\n',
  );
  await run(['certtool', '--generate-privkey', '--key-type', 'ecdsa', '--outfile', `${soon}-key.pem`]);
  await run([
    'certtool',
    '--generate-certificate',
    '--load-privkey',
    `${soon}-key.pem`,
    '--load-ca-certificate',
    path.join(labPaths().pki, 'ca-cert.pem'),
    '--load-ca-privkey',
    path.join(labPaths().pki, 'ca-key.pem'),
    '--template',
    `${soon}.info`,
    '--outfile',
    `${soon}-cert.pem`,
  ]);
  await broken(
    t,
    'tls-expiry',
    12,
    /server-cert\.pem expires .*, in (9|10) days/,
    async () => {
      restore = await swapFile(serverCert, `${soon}-cert.pem`);
    },
    () => restore(),
  );

  await broken(
    t,
    'image-dir',
    12,
    /GiB free .*under 1\.0 GiB/,
    async () => {
      const mounted = await inHost(HOST, [
        'mount',
        '-t',
        'tmpfs',
        '-o',
        'size=1m',
        'tmpfs',
        '/var/lib/libvirt/images',
      ]);
      if (mounted.exitCode !== 0) throw new Error(mounted.stderr);
    },
    () => inHost(HOST, ['umount', '/var/lib/libvirt/images']),
  );

  // A clock 10 minutes slow: `date` on lab-a answers from a script (the probe runs `date +%s.%N`).
  const fakeDate = path.join(hostRoot(HOST), 'fake-date');
  await broken(
    t,
    'clock',
    12,
    /behind by 6\d\d\.\d+ s/,
    async () => {
      const now = Math.floor(Date.now() / 1000);
      await writeFile(fakeDate, `#!/bin/sh\necho "${now - 600}.000000000"\n`);
      await chmod(fakeDate, 0o755);
      undo = await bindOver(fakeDate, '/usr/bin/date');
    },
    () => undo(),
  );

  const after = await doctor(HOST);
  t.is(after.exitCode, 0, `lab-a is whole again: ${JSON.stringify(after.report)}`);
});
