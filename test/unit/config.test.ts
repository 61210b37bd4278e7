import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { configPath, loadConfig, parseConfigText, saveConfig } from '../../src/config/config-file.js';
import { addHost, parseLabels, removeHost } from '../../src/config/hosts.js';
import { RehomeError } from '../../src/errors.js';

const labConfig = `# rehome config written by the lab
hosts:
  - name: lab-a
    address: lab-a            # ssh destination, resolved with \`ssh -G\`
    labels: {zone: z1}
    imageDir: /var/lib/libvirt/images
  - name: lab-b
    address: root@10.203.0.12
tls:
  certDir: /etc/pki/rehome    # where the fleet certs are on every host
ssh:
  acceptUnknownHostKeys: false
notify:
  smtp: {host: 127.0.0.1}
`;

function configError(
  t: { throws: (fn: () => unknown, expectations?: object) => unknown },
  text: string,
): string {
  const error = t.throws(() => parseConfigText('/etc/rehome/config.yaml', text), {
    instanceOf: RehomeError,
  }) as RehomeError;
  if (error.kind !== 'config') throw new Error(`expected a config error, got ${error.kind}`);
  return error.message;
}

test('the lab shape loads, with defaults and unknown sections kept', (t) => {
  const { config } = parseConfigText('c.yaml', labConfig);
  t.deepEqual(config.hosts[0], {
    name: 'lab-a',
    address: 'lab-a',
    labels: { zone: 'z1' },
    imageDir: '/var/lib/libvirt/images',
  });
  t.deepEqual(config.hosts[1]?.labels, {});
  t.is(config.hosts[1]?.imageDir, '/var/lib/libvirt/images');
  t.is(config.tls?.certDir, '/etc/pki/rehome');
  t.false(config.ssh.acceptUnknownHostKeys);
  t.deepEqual((config as Record<string, unknown>).notify, { smtp: { host: '127.0.0.1' } });
});

test('validation errors give file, line and column of the value at fault', (t) => {
  const message = configError(t, labConfig.replace('imageDir: /var/lib/libvirt/images', 'imageDir: images'));
  t.regex(message, /\/etc\/rehome\/config\.yaml:6:15: hosts\.0\.imageDir: must be an absolute path/);
});

test('an unknown key in a host is refused at its line', (t) => {
  const message = configError(t, labConfig.replace('  - name: lab-b\n', '  - name: lab-b\n    adress: x\n'));
  t.regex(message, /config\.yaml:7:\d+: hosts\.1: Unrecognized key: "adress"/);
});

test('a missing required key points at its host entry', (t) => {
  const message = configError(t, 'hosts:\n  - name: lab-a\n  - name: lab-b\n    address: b\n');
  t.regex(message, /config\.yaml:2:5: hosts\.0\.address:/);
});

test('duplicate host names are refused at the second one', (t) => {
  const message = configError(t, 'hosts:\n  - {name: a, address: a}\n  - {name: a, address: b}\n');
  t.regex(message, /config\.yaml:3:\d+: hosts\.1\.name: duplicate host name a/);
});

test('YAML syntax errors give the line', (t) => {
  const message = configError(t, 'hosts:\n  - name: a\n    address: [unclosed\n');
  t.regex(message, /config\.yaml:\d+:\d+: invalid YAML/);
  const tabs = configError(t, 'hosts:\n  - name: a\n\taddress: b\n');
  t.regex(tabs, /config\.yaml:3:\d+: invalid YAML/);
});

test('add and remove keep comments and unknown sections', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rehome-cfg-')), 'config.yaml');
  writeFileSync(path, labConfig);
  const loaded = await loadConfig(path);
  const added = addHost(loaded, {
    name: 'lab-c',
    address: 'lab-c',
    labels: parseLabels(['zone=z2', 'rack=r1']),
  });
  t.deepEqual(added, {
    name: 'lab-c',
    address: 'lab-c',
    labels: { zone: 'z2', rack: 'r1' },
    imageDir: '/var/lib/libvirt/images',
  });
  removeHost(loaded, 'lab-b');
  await saveConfig(loaded);
  const text = readFileSync(path, 'utf8');
  t.true(text.includes('# rehome config written by the lab'));
  t.true(text.includes('# where the fleet certs are on every host'));
  t.regex(text, /address: lab-a +# ssh destination/);
  t.false(text.includes('lab-b'));
  const reloaded = await loadConfig(path);
  t.deepEqual(
    reloaded.config.hosts.map((host) => host.name),
    ['lab-a', 'lab-c'],
  );
  t.deepEqual((reloaded.config as Record<string, unknown>).notify, { smtp: { host: '127.0.0.1' } });
});

test('a missing file is an empty config, and adding creates it', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'rehome-cfg-')), 'nested');
  const path = configPath(dir);
  t.is(path, join(dir, 'config.yaml'));
  t.is(configPath(dir, '/x/y.yaml'), '/x/y.yaml');
  const loaded = await loadConfig(path);
  t.false(loaded.exists);
  t.deepEqual(loaded.config.hosts, []);
  addHost(loaded, { name: 'h1', address: 'root@h1', imageDir: '/srv/images' });
  await saveConfig(loaded);
  t.deepEqual((await loadConfig(path)).config.hosts, [
    { name: 'h1', address: 'root@h1', labels: {}, imageDir: '/srv/images' },
  ]);
});

test('an empty file becomes a host list on add', async (t) => {
  const loaded = parseConfigText('c.yaml', '# nothing yet\n');
  addHost(loaded, { name: 'h1', address: 'h1' });
  t.regex(loaded.document.toString(), /# nothing yet[\s\S]*hosts:\n\s+- name: h1/);
});

test('duplicates, unknown hosts and bad labels are clear errors with the right kinds', (t) => {
  const loaded = parseConfigText('c.yaml', labConfig);
  t.is(
    t.throws(() => addHost(loaded, { name: 'lab-a', address: 'x' }))?.message,
    'Host lab-a is already in c.yaml',
  );
  t.is(
    (t.throws(() => addHost(loaded, { name: 'lab-a', address: 'x' })) as RehomeError).kind,
    'invalid-input',
  );
  t.is((t.throws(() => removeHost(loaded, 'nosuch')) as RehomeError).kind, 'not-found');
  t.is((t.throws(() => parseLabels(['novalue'])) as RehomeError).kind, 'invalid-input');
  t.is((t.throws(() => parseLabels(['=v'])) as RehomeError).kind, 'invalid-input');
  t.is((t.throws(() => parseLabels(['a=1', 'a=2'])) as RehomeError).kind, 'invalid-input');
  t.deepEqual(parseLabels(['k=v=w', 'e=']), { k: 'v=w', e: '' });
  t.is(
    (t.throws(() => addHost(loaded, { name: 'bad name', address: 'x' })) as RehomeError).kind,
    'invalid-input',
  );
  t.is(
    (t.throws(() => addHost(loaded, { name: 'ok', address: '-oProxyCommand=x' })) as RehomeError).kind,
    'invalid-input',
  );
  t.regex(
    t.throws(() => addHost(loaded, { name: 'x', address: 'x', imageDir: 'rel' }))?.message ?? '',
    /imageDir must be an absolute path/,
  );
});

test('an empty hosts key is an empty list', (t) => {
  t.deepEqual(parseConfigText('c.yaml', 'hosts:\n').config.hosts, []);
  t.deepEqual(parseConfigText('c.yaml', '').config.hosts, []);
});

test('unknown keys are refused in every section, at their line and column', (t) => {
  const cases: [string, RegExp][] = [
    ['notfy:\n  operator: {address: a@b}\n', /config\.yaml:1:1: \(top level\): Unrecognized key: "notfy"/],
    ['migraton:\n  pauseBoundMs: 10\n', /config\.yaml:1:1: .*Unrecognized key: "migraton"/],
    ['tls:\n  certdir: /etc/pki\n', /config\.yaml:2:3: tls: Unrecognized key: "certdir"/],
    ['placement:\n  spred: 1\n', /config\.yaml:2:3: placement: Unrecognized key: "spred"/],
    [
      'placement:\n  hosts:\n    hv1: {reservedMemoryMb: 1}\n',
      /config\.yaml:3:10: placement\.hosts\.hv1: Unrecognized key/,
    ],
  ];
  for (const [text, expected] of cases) t.regex(configError(t, text), expected, text);
});

test('every key the modules read is accepted', (t) => {
  const { config } = parseConfigText(
    'c.yaml',
    'placement:\n  reservedMemoryMiB: 1024\n  linkSpeedMiBps: 100\n  hosts:\n    hv1: {cpuOvercommit: 2}\n',
  );
  t.deepEqual(config.placement?.hosts, { hv1: { cpuOvercommit: 2 } });
});

test('YAML alias errors are config errors with their position, not a stack trace', (t) => {
  t.regex(configError(t, 'hosts: *nope\n'), /config\.yaml:1:8: alias \*nope names no anchor/);
  t.regex(
    configError(t, 'hosts: &a [*a]\n'),
    /config\.yaml:1:12: alias \*a refers to a value that contains it/,
  );
  // A "billion laughs" file: each line holds ten of the line above.
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++)
    laughs.push(
      `b${i}: &b${i} [${Array(10)
        .fill(i === 1 ? '*a' : `*b${i - 1}`)
        .join(', ')}]`,
    );
  t.regex(configError(t, `${laughs.join('\n')}\n`), /config\.yaml: .*alias/i);
  const anchored = 'placement: {hosts: {a: &p {cpuOvercommit: 2}, b: *p}}\n';
  t.deepEqual(parseConfigText('c.yaml', anchored).config.placement?.hosts?.b, { cpuOvercommit: 2 });
});

test('a config file named on the command line must exist', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rehome-cfg-')), 'missing.yaml');
  const error = await t.throwsAsync(loadConfig(path, { mustExist: true }), { instanceOf: RehomeError });
  t.is(error?.kind, 'config');
  t.is(error?.message, `Config file ${path} does not exist`);
  t.false((await loadConfig(path)).exists);
});

test('hosts add reports only what is wrong, in words, not zod’s', (t) => {
  const loaded = parseConfigText('c.yaml', 'hosts: []\n');
  const badName = t.throws(() => addHost(loaded, { name: 'bad name' }), { instanceOf: RehomeError });
  t.is(
    badName?.message,
    'Bad host "bad name": name must start with a letter or digit and use only letters, digits, ".", "_" and "-"',
    'the address defaults to the name: its fault is not reported twice',
  );
  const empty = t.throws(() => addHost(loaded, { name: 'hv1', address: '' }), { instanceOf: RehomeError });
  t.is(empty?.message, 'Bad host "hv1": address must not be empty');
  t.is(addHost(loaded, { name: 'hv1' }).address, 'hv1');
});
