import test from 'ava';
import { existingPaths, probeFirmware } from '../../src/inventory/firmware-probe.js';
import { machineTypesFromCapabilities } from '../../src/inventory/host-xml.js';
import { vmFacts } from '../../src/inventory/placement-facts.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import { firmwareFilter } from '../../src/placement/filters/firmware.js';
import { planPlacements } from '../../src/placement/plan.js';
import type { HostFirmware, VmFirmware } from '../../src/placement/types.js';
import { ctx, host, vm } from './placement-fixtures.js';

const CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const UEFI_TPM: VmFirmware = {
  arch: 'x86_64',
  machine: 'pc-q35-7.2',
  loader: CODE,
  nvram: '/var/lib/libvirt/qemu/nvram/a_VARS.fd',
  tpm: true,
};
const READY: HostFirmware = {
  machineTypes: { x86_64: ['pc', 'pc-i440fx-7.2', 'pc-q35-7.2', 'q35'] },
  files: { [CODE]: true },
  swtpm: true,
};

test('firmware: a host with the loader, the machine type and swtpm takes a UEFI guest with a vTPM', (t) => {
  t.deepEqual(firmwareFilter(vm('a', { firmware: UEFI_TPM }), host('b', { firmware: READY }), ctx()), {
    status: 'ok',
    filter: 'firmware',
    reason: `has machine pc-q35-7.2, loader ${CODE}, swtpm`,
  });
});

test('firmware: each missing fact skips the host and says which', (t) => {
  const guest = vm('a', { firmware: UEFI_TPM });
  const cases: [HostFirmware | undefined, string][] = [
    [{ ...READY, files: { [CODE]: false } }, `loader ${CODE} missing`],
    [{ ...READY, swtpm: false }, 'swtpm not installed (the guest has a vTPM)'],
    [
      { ...READY, machineTypes: { x86_64: ['pc-i440fx-7.2'] } },
      'machine type pc-q35-7.2 not offered (x86_64)',
    ],
    [
      undefined,
      `machine types for x86_64 unknown, loader ${CODE} not checked, swtpm not checked (the guest has a vTPM)`,
    ],
  ];
  for (const [firmware, reason] of cases) {
    t.deepEqual(firmwareFilter(guest, host('b', firmware ? { firmware } : {}), ctx()), {
      status: 'skip',
      filter: 'firmware',
      reason,
    });
  }
});

test('firmware: a BIOS guest without a TPM needs no loader nor swtpm; no facts at all check nothing', (t) => {
  const bios = vm('a', { firmware: { arch: 'x86_64', machine: 'pc-i440fx-7.2' } });
  const bare = host('b', { firmware: { machineTypes: READY.machineTypes } });
  t.is(firmwareFilter(bios, bare, ctx()).reason, 'has machine pc-i440fx-7.2');
  t.is(firmwareFilter(vm('a'), host('b'), ctx()).status, 'ok');
});

test('firmware: the plan skips hosts without the loader or swtpm and names why (both engines)', (t) => {
  const guest = vm('a', { firmware: UEFI_TPM });
  const hosts = [
    host('src', { state: 'draining' }),
    host('no-loader', { firmware: { ...READY, files: { [CODE]: false } } }),
    host('no-swtpm', { firmware: { ...READY, swtpm: false } }),
    host('good', { firmware: READY, memoryKiB: 8 * 1024 * 1024 }),
  ];
  for (const engine of ['fast', 'reference'] as const) {
    const decision = planPlacements([guest], hosts, { engine }).decisions[0];
    t.is(decision?.status === 'placed' ? decision.target : undefined, 'good', engine);
  }
  const alone = planPlacements([guest], hosts.slice(0, 3), { explain: true }).decisions[0];
  t.is(alone?.status, 'blocked');
  const reasons = Object.fromEntries(
    (alone?.explain ?? []).map((c) => [
      c.host,
      c.verdicts.find((v) => v.filter === 'firmware' && v.status === 'skip')?.reason,
    ]),
  );
  t.is(reasons['no-loader'], `loader ${CODE} missing`);
  t.is(reasons['no-swtpm'], 'swtpm not installed (the guest has a vTPM)');
});

const UEFI_XML = `<domain type='qemu'>
  <name>a</name>
  <uuid>6f1e1c2a-0d3b-4b7e-9a51-3c0d2e4f5a61</uuid>
  <memory unit='KiB'>524288</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' type='pflash'>${CODE}</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/a_VARS.fd</nvram>
  </os>
  <devices>
    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
    </tpm>
  </devices>
</domain>
`;

test('domain XML: firmware facts read and the NVRAM repointed in place', (t) => {
  const xml = DomainXml.parse(UEFI_XML);
  t.deepEqual(xml.firmware, {
    arch: 'x86_64',
    machine: 'pc-q35-7.2',
    loader: CODE,
    nvram: '/var/lib/libvirt/qemu/nvram/a_VARS.fd',
    tpm: { model: 'tpm-crb', version: '2.0' },
  });
  xml.setNvram('/srv/nvram/a_VARS.fd');
  t.is(
    xml.toString(),
    UEFI_XML.replace('/var/lib/libvirt/qemu/nvram/a_VARS.fd', '/srv/nvram/a_VARS.fd'),
    'only the path changed',
  );
  t.throws(() => DomainXml.parse(UEFI_XML.replace(/ *<nvram.*\n/, '')).setNvram('/x'), {
    message: /no <nvram>/,
  });
});

test('inventory: machine types from the capabilities, names and canonical names by arch', (t) => {
  const caps = `<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
  <guest><os_type>hvm</os_type><arch name='x86_64'><wordsize>64</wordsize>
    <machine maxCpus='255'>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
    <machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine><domain type='qemu'/>
    <domain type='kvm'><machine maxCpus='288'>pc-q35-7.1</machine></domain></arch></guest>
  <guest><os_type>hvm</os_type><arch name='i686'><machine maxCpus='255'>pc-i440fx-7.2</machine></arch></guest>
</capabilities>`;
  t.deepEqual(machineTypesFromCapabilities(caps), {
    x86_64: ['pc', 'pc-i440fx-7.2', 'pc-q35-7.1', 'pc-q35-7.2', 'q35'],
    i686: ['pc-i440fx-7.2'],
  });
});

test('inventory: the probe asks each host once for the loaders and swtpm, and an unreachable host stays unknown', async (t) => {
  const asked: string[][] = [];
  const shell = (present: string[]) => ({
    name: 'h',
    exec: async (argv: readonly string[]) => {
      asked.push([...argv]);
      const found = argv.slice(2, -5).filter((path) => present.includes(path));
      return {
        stdout: found.map((p) => `${p}\n`).join(''),
        stderr: '',
        code: found.length === argv.length - 7 ? 0 : 1,
      };
    },
  });
  const shells: Record<string, ReturnType<typeof shell>> = {
    full: shell([CODE, '/usr/bin/swtpm', '/usr/bin/swtpm_setup']),
    bare: shell(['/usr/bin/swtpm']),
  };
  const probed = await probeFirmware(
    [host('full'), host('bare'), host('down')],
    [vm('a', { firmware: UEFI_TPM }), vm('b', { firmware: { ...UEFI_TPM, tpm: false } })],
    async (name) => {
      const found = shells[name];
      if (!found) throw new Error('ssh: no route to host');
      return found;
    },
  );
  t.deepEqual(
    probed.map((h) => h.firmware),
    [{ files: { [CODE]: true }, swtpm: true }, { files: { [CODE]: false }, swtpm: false }, undefined],
  );
  t.is(asked.length, 2);
  t.deepEqual(asked[0]?.slice(0, 3), ['find', '-L', CODE]);
  t.deepEqual(asked[0]?.slice(-5), ['-maxdepth', '0', '-type', 'f', '-print']);
  t.deepEqual(await probeFirmware([host('x')], [vm('a')], async () => t.fail() as never), [host('x')]);
  await t.throwsAsync(
    existingPaths({ name: 'h', exec: async () => ({ stdout: '', stderr: 'boom', code: 127 }) }, ['/x']),
    { message: /find on h exited 127: boom/ },
  );
});

test("inventory: a domain's firmware becomes the VM's placement needs", (t) => {
  const xml = DomainXml.parse(UEFI_XML);
  const facts = vmFacts(
    {
      name: 'a',
      uuid: xml.uuid,
      state: 'running',
      persistent: true,
      vcpus: { current: 1, max: 1 },
      memoryKiB: { current: 524288, max: 524288 },
      cpu: { features: [] },
      nics: [],
      disks: [],
      hostdevs: [],
      firmware: xml.firmware,
      warnings: [],
    },
    'src',
  );
  t.deepEqual(facts.firmware, UEFI_TPM);
});
