import { seedFirmware } from './fake-firmware.js';
import type { GuestSpec } from './guest-xml.js';
import { readDomainXml } from './guest-xml.js';
import { LIBVIRT_QEMU_STATE_DIR } from './src-imports.js';

/** Where libvirt keeps a running domain's QEMU pid. */
export const qemuPidFile = (name: string) => `${LIBVIRT_QEMU_STATE_DIR}/${name}.pid`;

export type FakeDomainState = 'running' | 'paused' | 'shutoff';

/** One block copy in a source QEMU: `cur` moves towards `end` by `bytesPerPoll` each time it is read. */
export interface FakeBlockJob {
  disk: string;
  cur: number;
  end: number;
  bytesPerPoll: number;
  /** Bytes per second, as blockJobSetSpeed set it (0: unlimited); reported, not enforced. */
  speed?: number;
  /** Every speed blockJobSetSpeed set, in order. */
  speedsSet: number[];
  destination: { address: string; port: number; exportName: string };
}

export interface FakeDomain {
  name: string;
  uuid: string;
  /** Runtime id while active, -1 when shut off. */
  id: number;
  state: FakeDomainState;
  persistent: boolean;
  /** The inactive (persistent) definition. */
  xml: string;
  /** NIC link states by lower-case MAC, live only. */
  links: Map<string, 'up' | 'down'>;
  jobs: Map<string, FakeBlockJob>;
  /** The guest ignores the ACPI power button (a graceful reboot request does nothing). */
  ignoresAcpi: boolean;
  /** The pid of its QEMU process while it has one (see FakeHost.startQemu). */
  qemuPid?: number;
  /** A destroy libvirt is still finishing: the QEMU has exited, the domain is not shut off yet. */
  stopping?: Promise<void>;
}

/** A file on the host. An image's `data` stands for its contents: a copy is complete when the data matches. */
export type FakeFile =
  /** `allocatedBytes`: data from offset 0, zeros after (`qemu-img map`); the whole image when absent. */
  | { kind: 'image'; virtualSize: number; data: string; allocatedBytes?: number }
  | { kind: 'text'; text: string }
  | { kind: 'blob'; data: Buffer; mode: string; owner: string; group: string };

/** A directory someone made (mkdir, libvirt's swtpm state): its owner and mode. */
export interface FakeDir {
  mode: string;
  owner: string;
  group: string;
}

export interface FakeProcess {
  pid: number;
  argv: string[];
  state: 'running' | 'zombie';
  /** For qemu-nbd: where it listens and what it serves. */
  address?: string;
  port?: number;
  exportName?: string;
  imagePath?: string;
  /** A process that ignores SIGTERM (closeExport then waits and gives up). */
  ignoresTerm?: boolean;
}

export interface FakeNetwork {
  name: string;
  uuid: string;
  /** `<host mac=… ip=…/>` entries of its DHCP section. */
  dhcpHosts: string[];
}

/** The state of one hypervisor host: domains, files, processes, networks. No behaviour beyond bookkeeping. */
export class FakeHost {
  readonly domains = new Map<string, FakeDomain>();
  readonly files = new Map<string, FakeFile>();
  readonly dirs = new Map<string, FakeDir>();
  readonly processes = new Map<number, FakeProcess>();
  readonly networks = new Map<string, FakeNetwork>();
  /** Every argv run over the shell, in order. */
  readonly commands: string[][] = [];
  reachable = true;

  constructor(
    readonly name: string,
    readonly address: string,
  ) {}

  domainByUuid(uuid: string): FakeDomain | undefined {
    return this.domains.get(uuid);
  }

  domainByName(name: string): FakeDomain | undefined {
    return [...this.domains.values()].find((domain) => domain.name === name);
  }

  isActive(domain: FakeDomain | undefined): boolean {
    return domain !== undefined && domain.state !== 'shutoff';
  }

  /** A running domain's QEMU: a process whose command line names its UUID, and libvirt's pid file for it. */
  startQemu(domain: FakeDomain, pid: number): void {
    const argv = ['/usr/bin/qemu-system-x86_64', '-name', `guest=${domain.name}`, '-uuid', domain.uuid];
    this.processes.set(pid, { pid, argv, state: 'running' });
    this.files.set(qemuPidFile(domain.name), { kind: 'text', text: `${pid}\n` });
    domain.qemuPid = pid;
  }

  stopQemu(domain: FakeDomain): void {
    if (domain.qemuPid !== undefined) this.processes.delete(domain.qemuPid);
    this.files.delete(qemuPidFile(domain.name));
    domain.qemuPid = undefined;
  }

  runsQemu(domain: FakeDomain | undefined): boolean {
    return domain?.qemuPid !== undefined && this.processes.get(domain.qemuPid)?.state === 'running';
  }

  liveExports(): FakeProcess[] {
    return [...this.processes.values()].filter((p) => p.state === 'running' && p.exportName !== undefined);
  }

  image(path: string): Extract<FakeFile, { kind: 'image' }> | undefined {
    const file = this.files.get(path);
    return file?.kind === 'image' ? file : undefined;
  }

  /** Defines a guest as a test's starting point, with its disk images; running unless told otherwise. */
  addGuest(
    spec: GuestSpec,
    xml: string,
    state: FakeDomainState,
    nextId: number,
    qemuPid: number,
  ): FakeDomain {
    for (const disk of spec.disks) {
      this.files.set(disk.path, {
        kind: 'image',
        virtualSize: disk.virtualSize,
        data: `${spec.name}:${disk.dev}:v0`,
      });
    }
    const domain: FakeDomain = {
      name: spec.name,
      uuid: spec.uuid,
      id: state === 'shutoff' ? -1 : nextId,
      state,
      persistent: true,
      xml,
      links: new Map(readDomainXml(xml).macs.map((mac) => [mac, 'up'])),
      jobs: new Map(),
      ignoresAcpi: false,
    };
    this.domains.set(spec.uuid, domain);
    if (state !== 'shutoff') this.startQemu(domain, qemuPid);
    seedFirmware(this, spec);
    return domain;
  }
}
