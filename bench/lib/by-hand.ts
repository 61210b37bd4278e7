/**
 * The by-hand baseline of bench/cutover: the move an expert makes with virsh and qemu-nbd, with every connection
 * opened ahead of time (one `virsh` shell per host and one `sh` on the target, over ssh from the operator namespace):
 *   before: qemu-img create + qemu-nbd (TLS, only the source's certificate) on the target; `virsh blockcopy` into it
 *           until it is in its mirroring phase; the target definition (disk repointed) written on the target;
 *   at the reboot: `virsh event --event reboot` returns → suspend → blockjob --abort → destroy on the source;
 *           kill qemu-nbd and wait for it on the target; define + start on the target.
 * No guard, no journal, no checks: the floor that rehome's engine is measured against.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { quoteArgv } from '../../src/host/quote.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import { nbdDestinationXml } from '../../src/sync/block-copy.js';
import { parseListeningPorts, pickFreePort, qemuNbdArgv } from '../../src/sync/nbd-export.js';
import { certificateDn } from '../../src/sync/tls-identity.js';
import { type LabGuest, labSh, virsh } from '../../test/lab/lab.js';
import { operatorArgv } from '../../test/lab/operator.js';
import { hostAddress, LAB_CERT_DIR } from '../../test/lab/paths.js';
import { type TimedReboot, timedReboot } from './guests.js';

/** A long-lived remote program fed line by line, whose output is read line by line. */
class RemoteSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';
  private readonly waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  constructor(host: string, argv: readonly string[]) {
    const [command = 'ip', ...rest] = operatorArgv(['ssh', host, quoteArgv(['stdbuf', '-oL', ...argv])]);
    this.child = spawn(command, rest, { stdio: 'pipe' });
    this.child.stdout.on('data', (chunk: Buffer) => this.take(chunk.toString()));
    this.child.stderr.on('data', (chunk: Buffer) => this.take(chunk.toString()));
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first output line from now on that matches. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${pattern} in ${timeoutMs} ms; output:\n${this.output}`)),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }

  private take(text: string): void {
    this.output += text;
    for (const line of text.split('\n')) {
      const index = this.waiters.findIndex((waiter) => waiter.pattern.test(line));
      if (index >= 0) this.waiters.splice(index, 1)[0]?.resolve(line);
    }
  }
}

/** Runs argv on a lab host over ssh from the operator namespace; its stdout. */
export async function onHost(host: string, argv: readonly string[], input?: string): Promise<string> {
  const result = await labSh(['ssh', host, quoteArgv(argv)], input === undefined ? {} : { input });
  return result.stdout;
}

/**
 * Moves `guest` from `from` to `to` by hand at its own reboot, timed like rehome's moves. The guest must run on
 * `from` with one disk, vda, a qcow2 file.
 */
export async function byHandMove(guest: LabGuest, from: string, to: string): Promise<TimedReboot> {
  const name = guest.name;
  const inactive = (await virsh(from, ['dumpxml', '--inactive', name])).stdout;
  const disk = DomainXml.parse(inactive).disks.find((d) => d.targetDev === 'vda');
  if (!disk?.path) throw new Error(`${name} has no file disk vda on ${from}`);
  const info = JSON.parse(await onHost(from, ['qemu-img', 'info', '-U', '--output=json', disk.path])) as {
    'virtual-size': number;
  };
  const imagePath = `/var/lib/libvirt/images/${name}-by-hand.qcow2`;
  const exportName = `${name}-by-hand`;
  const pidFile = `/run/${exportName}.pid`;
  const port = pickFreePort(parseListeningPorts(await onHost(to, ['ss', '-Htln'])));
  const clientPem = await onHost(from, ['cat', `${LAB_CERT_DIR}/client-cert.pem`]);
  await onHost(to, ['qemu-img', 'create', '-q', '-f', 'qcow2', imagePath, String(info['virtual-size'])]);
  const spec = {
    host: to,
    disk: 'vda',
    imagePath,
    virtualSizeBytes: info['virtual-size'],
    exportName,
    bindAddress: hostAddress(to),
    certDir: LAB_CERT_DIR,
    allowedClientDn: certificateDn(clientPem, 'client-cert.pem'),
    runDir: '/run',
  };
  await onHost(to, qemuNbdArgv(spec, port, pidFile));
  const pid = (await onHost(to, ['cat', pidFile])).trim();
  const destination = `/var/tmp/${exportName}-dest.xml`;
  await onHost(from, ['tee', destination], nbdDestinationXml({ exportName, address: hostAddress(to), port }));
  const definition = DomainXml.parse(inactive);
  definition.repointDisk('vda', imagePath, { format: 'qcow2', as: 'file' });
  definition.dropHostSpecific();
  const definitionPath = `/var/tmp/${exportName}-domain.xml`;
  await onHost(to, ['tee', definitionPath], definition.toString());

  const source = new RemoteSession(from, ['virsh']);
  const target = new RemoteSession(to, ['virsh']);
  const targetShell = new RemoteSession(to, ['sh']);
  try {
    source.send(`blockcopy ${name} vda --xml ${destination} --transient-job --wait`);
    await source.waitFor(/mirroring phase/i, 120_000);
    source.send(`event --domain ${name} --event reboot`);
    source.send(`suspend ${name}`);
    source.send(`blockjob ${name} vda --abort`);
    source.send(`destroy ${name}`);
    source.send('echo SOURCE-STOPPED');
    const sourceStopped = source.waitFor(/^SOURCE-STOPPED/, 180_000);
    // virsh registers for the event as it reads the line; give it a moment before the guest reboots.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const driven = (async () => {
      await sourceStopped;
      targetShell.send(`kill -TERM ${pid}; tail --pid=${pid} -f /dev/null; echo EXPORT-CLOSED`);
      await targetShell.waitFor(/^EXPORT-CLOSED/);
      target.send(`define ${definitionPath}`);
      target.send(`start ${name}`);
      target.send('echo TARGET-STARTED');
      await target.waitFor(/^TARGET-STARTED/);
    })();
    const [times] = await Promise.all([timedReboot(guest, from, to), driven]);
    return times;
  } finally {
    source.close();
    target.close();
    targetShell.close();
  }
}

/** What byHandMove left on the target besides the domain: its image and the two XML files. */
export async function removeByHandFiles(name: string, hosts: readonly string[]): Promise<void> {
  for (const host of hosts) {
    await labSh(
      [
        'ssh',
        host,
        quoteArgv([
          'rm',
          '-f',
          `/var/lib/libvirt/images/${name}-by-hand.qcow2`,
          `/var/tmp/${name}-by-hand-dest.xml`,
          `/var/tmp/${name}-by-hand-domain.xml`,
        ]),
      ],
      { reject: false },
    );
  }
}
