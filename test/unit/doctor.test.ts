/** `rehome doctor`'s checks against a fake host: each check passes on a healthy host, and each one fails once. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { formatDoctor } from '../../src/app/format/doctor.js';
import { type DoctorPorts, type DoctorSsh, runDoctor } from '../../src/doctor/doctor.js';
import { fleetCa, parseCert } from '../../src/doctor/tls.js';
import type { CheckResult, DoctorCheckName, DoctorReport } from '../../src/doctor/types.js';
import { RehomeError } from '../../src/errors.js';

const pem = (name: string) =>
  readFileSync(new URL(`../fixtures/doctor/${name}-cert.pem`, import.meta.url), 'utf8');
const NOW = Date.parse('2026-12-01T12:00:00Z');
const GiB = 1024 ** 3;
const CERT_DIR = '/etc/pki/qemu';

/** A healthy host; each field can be broken on its own. */
interface FakeHost {
  connect?: Error;
  socket?: Error;
  /** Whether libvirtd's socket exists (`test -S`); true unless set. */
  socketThere?: boolean;
  versions?: { lib: [number, number, number]; qemu: [number, number, number] };
  which: string;
  listing: string;
  files: Record<string, string>;
  df: { code: number; stdout: string; stderr: string };
  /** The host's clock minus this machine's, in ms. */
  skewMs: number;
}

function healthy(): FakeHost {
  return {
    which: '/usr/bin/qemu-nbd\n/usr/bin/qemu-img\n/usr/bin/perl\n',
    listing: 'ca-cert.pem\nclient-cert.pem\nclient-key.pem\nserver-cert.pem\nserver-key.pem\n',
    files: {
      'ca-cert.pem': pem('fleet'),
      'server-cert.pem': pem('hv1-server'),
      'client-cert.pem': pem('hv1-client'),
    },
    df: {
      code: 0,
      stdout: `Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/vda1 ${100 * GiB} ${60 * GiB} ${40 * GiB} 60% /\n`,
      stderr: '',
    },
    skewMs: 30,
  };
}

function ports(hosts: Record<string, FakeHost>): DoctorPorts {
  let now = NOW;
  const ssh = (name: string): DoctorSsh => {
    const host = hosts[name] as FakeHost;
    return {
      resolved: { hostname: name === 'hv1' ? '10.0.0.1' : '10.0.0.2', port: 22 },
      async exec(argv) {
        now += 10; // each command takes 10 ms here
        const [command, ...rest] = argv;
        const ok = (stdout: string) => ({ stdout, stderr: '', code: 0 });
        if (command === 'which') return ok(host.which);
        if (command === 'ls') return ok(host.listing);
        if (command === 'grep') {
          // grep -a -H '' -- PATHS: each line after its path; a missing file on stderr, and exit 2.
          const paths = rest.slice(rest.indexOf('--') + 1);
          const text = (path: string) => host.files[path.replace(`${CERT_DIR}/`, '')];
          const stdout = paths.flatMap((path) =>
            (text(path) ?? '').split('\n').flatMap((line) => (line ? [`${path}:${line}\n`] : [])),
          );
          const missing = paths.filter((path) => text(path) === undefined);
          const stderr = missing.map((path) => `grep: ${path}: No such file or directory\n`).join('');
          return { stdout: stdout.join(''), stderr, code: missing.length ? 2 : 0 };
        }
        if (command === 'df') return host.df;
        if (command === 'date') return ok(`${((now - 5 + host.skewMs) / 1000).toFixed(9)}\n`);
        if (command === 'test') return { stdout: '', stderr: '', code: host.socketThere === false ? 1 : 0 };
        throw new Error(`unexpected command ${argv.join(' ')}`);
      },
      async openUnixSocket() {
        if (host.socket) throw host.socket;
        return { destroy() {} };
      },
    };
  };
  return {
    async ssh(name) {
      const host = hosts[name] as FakeHost;
      if (host.connect) throw host.connect;
      return ssh(name);
    },
    async libvirt(name) {
      const versions = hosts[name]?.versions ?? { lib: [9, 0, 0], qemu: [7, 2, 0] };
      const triple = ([major, minor, micro]: [number, number, number]) => ({ major, minor, micro });
      return {
        getLibVersion: async () => triple(versions.lib),
        getHypervisorVersion: async () => triple(versions.qemu),
      };
    },
    now: () => now,
  };
}

const settings = { certDir: CERT_DIR, minFreeBytes: GiB, libvirtSocket: '/run/libvirt/libvirt-sock' };
const hv1 = { name: 'hv1', address: 'root@hv1', imageDir: '/var/lib/libvirt/images' };

async function doctorOn(host: FakeHost, extra: Partial<typeof settings & { caPem: string }> = {}) {
  return runDoctor([hv1], ports({ hv1: host }), { ...settings, ...extra });
}

function check(report: DoctorReport, name: DoctorCheckName): CheckResult {
  const found = report.hosts[0]?.checks.find((entry) => entry.check === name);
  if (!found) throw new Error(`no ${name} check`);
  return found;
}

test('a healthy host passes every check, in the documented order', async (t) => {
  const report = await doctorOn(healthy());
  t.true(report.ok);
  t.deepEqual(
    report.hosts[0]?.checks.map((entry) => `${entry.check}:${entry.status}`),
    [
      'host-key:ok',
      'ssh:ok',
      'stream-local:ok',
      'versions:ok',
      'qemu-tools:ok',
      'tls-files:ok',
      'tls-chain:ok',
      'tls-names:ok',
      'tls-expiry:ok',
      'image-dir:ok',
      'clock:ok',
    ],
  );
  t.is(check(report, 'versions').detail, 'libvirt 9.0.0, QEMU 7.2.0');
  t.regex(check(report, 'image-dir').detail, /40\.0 GiB free of 100\.0 GiB/);
  t.regex(check(report, 'tls-expiry').detail, /2036-01-01/);
  t.is(report.fleetCa.source, 'majority');
});

const breakages: [string, (host: FakeHost) => void, DoctorCheckName, 'fail' | 'warn', RegExp][] = [
  [
    'unknown host key',
    (h) => {
      h.connect = new RehomeError('Host key for hv1 is not known (ssh-ed25519 SHA256:x)', 'host-key', [
        'ssh-keyscan hv1',
      ]);
    },
    'host-key',
    'fail',
    /not known/,
  ],
  [
    'unreachable',
    (h) => {
      h.connect = new RehomeError('connect ECONNREFUSED 10.0.0.1:22', 'unreachable');
    },
    'ssh',
    'fail',
    /ECONNREFUSED/,
  ],
  [
    'stream-local forwarding refused',
    (h) => {
      // What OpenSSH answers to a refused stream-local forward: the same as to a socket nobody listens on.
      h.socket = new Error('(SSH) Channel open failure: open failed');
    },
    'stream-local',
    'fail',
    /refused to forward/,
  ],
  [
    'libvirtd down',
    (h) => {
      h.socket = new Error('(SSH) Channel open failure: open failed');
      h.socketThere = false;
    },
    'versions',
    'fail',
    /not listening/,
  ],
  [
    'old versions',
    (h) => {
      h.versions = { lib: [8, 0, 0], qemu: [6, 2, 0] };
    },
    'versions',
    'warn',
    /libvirt older than 9\.0\.0, QEMU older than 7\.2\.0/,
  ],
  [
    'qemu-nbd missing',
    (h) => {
      h.which = '/usr/bin/qemu-img\n/usr/bin/perl\n';
    },
    'qemu-tools',
    'fail',
    /qemu-nbd not found/,
  ],
  [
    'perl missing (the export listens through it)',
    (h) => {
      h.which = '/usr/bin/qemu-nbd\n/usr/bin/qemu-img\n';
    },
    'qemu-tools',
    'fail',
    /^perl not found/,
  ],
  [
    'a TLS file missing',
    (h) => {
      h.listing = 'ca-cert.pem\nclient-cert.pem\nclient-key.pem\nserver-key.pem\n';
    },
    'tls-files',
    'fail',
    /missing in \/etc\/pki\/qemu: server-cert\.pem/,
  ],
  [
    'a listed certificate that cannot be read (a dangling link)',
    (h) => {
      delete h.files['server-cert.pem'];
    },
    'tls-chain',
    'fail',
    /^server-cert\.pem: grep: \/etc\/pki\/qemu\/server-cert\.pem: No such file or directory$/,
  ],
  [
    'a certificate of another CA',
    (h) => {
      h.files['server-cert.pem'] = pem('rogue-server');
    },
    'tls-chain',
    'fail',
    /server-cert\.pem is not signed by the fleet CA/,
  ],
  [
    'another host’s certificate',
    (h) => {
      h.files['server-cert.pem'] = pem('hv2-server');
    },
    'tls-names',
    'fail',
    /server-cert\.pem names hv2, 10\.0\.0\.2, hv2, not hv1/,
  ],
  [
    'a certificate expiring within 30 days',
    (h) => {
      h.files['server-cert.pem'] = pem('hv1-soon');
    },
    'tls-expiry',
    'fail',
    /server-cert\.pem expires 2026-12-20T00:00:00\.000Z, in 18 days/,
  ],
  [
    'a full image directory',
    (h) => {
      h.df.stdout = h.df.stdout.replace(String(40 * GiB), String(GiB / 2));
    },
    'image-dir',
    'fail',
    /0\.5 GiB free of 100\.0 GiB, under 1\.0 GiB/,
  ],
  [
    'no image directory',
    (h) => {
      h.df = { code: 1, stdout: '', stderr: 'df: /var/lib/libvirt/images: No such file or directory' };
    },
    'image-dir',
    'fail',
    /No such file/,
  ],
  [
    'a clock 10 s ahead',
    (h) => {
      h.skewMs = 10_000;
    },
    'clock',
    'fail',
    /ahead by 10\.0\d\d s .*more than 2 s/,
  ],
];

for (const [what, breakIt, name, status, detail] of breakages) {
  test(`doctor reports ${what} as ${name} ${status}, with a fix`, async (t) => {
    const host = healthy();
    breakIt(host);
    const report = await doctorOn(host, { caPem: pem('fleet') });
    const found = check(report, name);
    t.is(found.status, status, found.detail);
    t.regex(found.detail, detail);
    t.truthy(found.fix);
    t.is(report.ok, status !== 'fail');
    const others =
      report.hosts[0]?.checks.filter((entry) => entry.check !== name && entry.status === 'fail') ?? [];
    t.deepEqual(others, [], 'nothing else fails (what cannot be checked is skipped)');
  });
}

test('without tls.certDir the TLS checks fail once and say how to set it', async (t) => {
  const report = await runDoctor([hv1], ports({ hv1: healthy() }), { ...settings, certDir: undefined });
  t.like(check(report, 'tls-files'), {
    status: 'fail',
    detail: 'tls.certDir is not set in the rehome config',
  });
  t.is(check(report, 'tls-chain').status, 'skip');
});

test('the fleet CA is the one most hosts hold; a tie is none, and tls.caFile decides', (t) => {
  const fleet = parseCert(pem('fleet'));
  const other = parseCert(pem('other'));
  t.is(fleetCa([fleet, fleet, other]).source, 'majority');
  t.is(fleetCa([fleet, other]).source, 'none');
  const configured = parseCert(pem('other'));
  if (configured instanceof Error) throw configured;
  t.like(fleetCa([fleet, fleet], configured), { source: 'config' });
});

test('the table shows each host, each check and the fixes; --json is the report itself', async (t) => {
  const host = healthy();
  host.which = '/usr/bin/qemu-img\n/usr/bin/perl\n';
  const text = formatDoctor(await doctorOn(host));
  t.regex(text, /^hv1: NOT READY\nCHECK +STATUS +DETAIL\nhost-key +ok +known/m);
  t.regex(text, /qemu-tools +FAIL +qemu-nbd not found on PATH/);
  t.regex(text, /To fix:\n {2}hv1 qemu-tools: Install qemu-utils/);
  t.regex(text, /1 of 1 hosts failed a check: hv1\./);
});
