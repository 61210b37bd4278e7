import test from 'ava';
import type { RehomeError } from '../../src/errors.js';
import { interfaceWithLink, tapsLeft } from '../../src/migration/steps/nic-xml.js';
import { nbdDestinationXml } from '../../src/sync/block-copy.js';
import {
  closeExport,
  createExport,
  isOurQemuNbd,
  parseListeningPorts,
  pickFreePort,
  qemuNbdArgv,
  removeUnfinishedExport,
} from '../../src/sync/nbd-export.js';
import { noDelayListenerArgv } from '../../src/sync/nodelay-listener.js';
import type { RemoteShell } from '../../src/sync/remote.js';
import type { CreateExportSpec } from '../../src/sync/types.js';

test('listening ports from ss -Htln, and the first free one in the range', (t) => {
  const ss = [
    'LISTEN 0      128          0.0.0.0:22        0.0.0.0:*',
    'LISTEN 0      4        10.203.0.12:10809     0.0.0.0:*',
    'LISTEN 0      128             [::]:22           [::]:*',
  ].join('\n');
  const used = parseListeningPorts(ss);
  t.deepEqual([...used].sort(), [10809, 22]);
  t.is(pickFreePort(used), 10810);
  t.is(pickFreePort(used, [10810]), 10811);
});

const exportSpec: CreateExportSpec = {
  host: 'b',
  disk: 'vda',
  bindAddress: '10.0.0.2',
  imagePath: '/img/x.qcow2',
  virtualSizeBytes: 1,
  exportName: 'e',
  certDir: '/pki',
  allowedClientDn: 'O=rehome,CN=a',
  runDir: '/run/rehome',
};

test('qemu-nbd argv: TLS with client certificates, on a TCP_NODELAY listener at the address, one argv element each', (t) => {
  const argv = qemuNbdArgv(exportSpec, 10809, '/run/rehome/e.pid');
  t.true(argv.includes('tls-creds-x509,id=tls0,endpoint=server,dir=/pki,verify-peer=on'));
  const qemuNbd = argv.indexOf('qemu-nbd');
  t.deepEqual(argv.slice(0, qemuNbd), noDelayListenerArgv('10.0.0.2', 10809, []));
  t.false(argv.includes('-b') || argv.includes('-p'), 'qemu-nbd listens on the socket it is given');
  t.is(argv.at(-1), '/img/x.qcow2');
});

test("qemu-nbd argv: only the source's certificate, one client at a time", (t) => {
  const argv = qemuNbdArgv(exportSpec, 10809, '/run/rehome/e.pid');
  t.true(argv.includes('--shared=1'));
  t.false(argv.some((arg) => /^--shared=(?!1$)/.test(arg)));
  const authz = argv.find((arg) => arg.startsWith('{'));
  t.deepEqual(JSON.parse(authz ?? '{}'), {
    'qom-type': 'authz-simple',
    id: 'auth0',
    identity: 'O=rehome,CN=a',
  });
  t.deepEqual(argv.slice(argv.indexOf('--tls-authz'), argv.indexOf('--tls-authz') + 2), [
    '--tls-authz',
    'auth0',
  ]);
});

test('a tls.certDir with a comma is refused: it would break the option string', (t) => {
  const error = t.throws(() => qemuNbdArgv({ ...exportSpec, certDir: '/pki,verify-peer=off' }, 10809, '/p'));
  t.is((error as RehomeError).kind, 'config');
  t.regex(error?.message ?? '', /comma/);
});

/** A shell that records the options of every command and answers like a host where the export is alive. */
function recordingShell(): { shell: RemoteShell; calls: { argv: readonly string[]; timeoutMs?: number }[] } {
  const calls: { argv: readonly string[]; timeoutMs?: number }[] = [];
  let killed = false;
  const shell: RemoteShell = {
    name: 'b',
    async exec(argv, options = {}) {
      calls.push({ argv, timeoutMs: options.timeoutMs });
      if (argv[0] === 'kill') killed = true;
      if (argv[0] === 'cat' && argv[1]?.startsWith('/proc/') && !killed)
        return { stdout: '42 (qemu-nbd) S 1\n/usr/bin/qemu-nbd\0-x\0e\0', stderr: '', code: 0 };
      if (argv[0] === 'cat' && argv[1]?.endsWith('.pid')) return { stdout: '42\n', stderr: '', code: 0 };
      if (argv[0] === 'test') return { stdout: '', stderr: '', code: 1 };
      if (argv[0] === 'ss') return { stdout: '', stderr: '', code: 0 };
      return { stdout: '', stderr: '', code: argv[0] === 'cat' ? 1 : 0 };
    },
  };
  return { shell, calls };
}

test('every remote command of the export code runs with a timeout', async (t) => {
  const { shell, calls } = recordingShell();
  await createExport(shell, exportSpec);
  await closeExport(shell, { host: 'b', pid: 42, exportName: 'e', pidFile: '/run/rehome/e.pid' });
  await removeUnfinishedExport(shell, {
    disk: 'vda',
    host: 'b',
    imagePath: '/img/x.qcow2',
    exportName: 'e',
    pidFile: '/run/rehome/e.pid',
  });
  const commands = new Set(calls.map((c) => c.argv[0]));
  for (const command of ['test', 'mkdir', 'qemu-img', 'ss', 'perl', 'cat', 'kill', 'tail', 'rm'])
    t.true(commands.has(command), `${command} was run`);
  const unbounded = calls.filter((c) => !(typeof c.timeoutMs === 'number' && c.timeoutMs > 0));
  t.deepEqual(unbounded, []);
});

test('a reused pid is not taken for our export', (t) => {
  t.true(isOurQemuNbd(['/usr/bin/qemu-nbd', '-x', 'rehome-1-vda', '/img'], 'rehome-1-vda'));
  t.false(isOurQemuNbd(['/usr/bin/qemu-nbd', '-x', 'rehome-2-vda', '/img'], 'rehome-1-vda'));
  t.false(isOurQemuNbd(['/bin/sleep', 'rehome-1-vda'], 'rehome-1-vda'));
});

test('the block copy destination is NBD with TLS, XML-escaped', (t) => {
  t.is(
    nbdDestinationXml({ exportName: "a'b", address: '10.0.0.2', port: 10809 }),
    "<disk type='network'><driver name='qemu' type='raw'/><source protocol='nbd' name='a&apos;b' tls='yes'><host name='10.0.0.2' port='10809'/></source></disk>",
  );
});

test('link down by MAC keeps the rest of the live interface', (t) => {
  const live = `<domain><devices><interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><source bridge='br0'/><target dev='vnet3'/><model type='virtio'/></interface><interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br1'/></interface></devices></domain>`;
  const xml = interfaceWithLink(live, '52:54:00:AA:BB:CC', 'down') ?? '';
  t.regex(xml, /<source bridge="br0"\/>|<source bridge='br0'\/>/);
  t.regex(xml, /<link state="down"\/>/);
  t.notRegex(xml, /br1/);
  t.is(interfaceWithLink(live, '52:54:00:99:99:99', 'down'), undefined);
});

test('a link already in the state asked for gives nothing to send (a link without a state is up)', (t) => {
  const live = `<domain><devices><interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><link state='down'/></interface><interface type='bridge'><mac address='52:54:00:00:00:01'/></interface></devices></domain>`;
  t.is(interfaceWithLink(live, '52:54:00:aa:bb:cc', 'down'), undefined);
  t.regex(interfaceWithLink(live, '52:54:00:aa:bb:cc', 'up') ?? '', /<link state="up"\/>/);
  t.is(interfaceWithLink(live, '52:54:00:00:00:01', 'up'), undefined);
  t.regex(interfaceWithLink(live, '52:54:00:00:00:01', 'down') ?? '', /<link state="down"\/>/);
});

test('taps of the guest are found by their fe: MAC', (t) => {
  const ipLink =
    '7: vnet0: <BROADCAST> mtu 1500 qdisc noop\\    link/ether fe:54:00:aa:bb:cc brd ff:ff:ff:ff:ff:ff\n8: vnet1: <BROADCAST>\\    link/ether fe:54:00:00:00:09 brd ff:ff:ff:ff:ff:ff';
  t.deepEqual(tapsLeft(ipLink, ['52:54:00:aa:bb:cc']), ['vnet0']);
  t.deepEqual(tapsLeft(ipLink, ['52:54:00:12:34:56']), []);
});
