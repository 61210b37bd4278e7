import { Failures } from './failures.js';
import { type FakeBlockJob, type FakeDomain, type FakeDomainState, FakeHost } from './fake-host.js';
import { type DomainEvent, FakeLibvirtClient } from './fake-libvirt.js';
import { FakeSession } from './fake-session.js';
import { FakeShell } from './fake-shell.js';
import { type GuestSpec, guestXml, readDomainXml } from './guest-xml.js';
import { libvirtError } from './libvirt-errors.js';
import {
  ConnectionClosedError,
  DomainEventId,
  type DomainRef,
  type HostsPort,
  type LibvirtClient,
  LibvirtErrorCode,
} from './src-imports.js';

const DIRTY_BYTES_PER_WRITE = 1 << 20;

/**
 * An in-memory fleet of libvirt/QEMU hosts in the spirit of go-libvirt's libvirttest: domains with states and XML,
 * block jobs with progress, lifecycle and reboot events, qemu-nbd processes and files, failures on demand. Each rehome
 * process reaches it through a session's HostsPort.
 */
export class FakeHypervisor {
  readonly hosts = new Map<string, FakeHost>();
  readonly failures = new Failures();
  /** Moments when a guest was active on two hosts at once: must stay empty. */
  readonly violations: string[] = [];
  /** Bytes a mirror copies per progress reading; undefined: ready at the first reading. */
  mirrorBytesPerPoll?: number;
  private readonly clients = new Set<FakeLibvirtClient>();
  private lastPid = 4000;
  /**
   * How long after its QEMU exited a destroy returns and the domain is shut off (libvirt's: up to 200 ms, its next look
   * at the process); a few ms keep the tests quick.
   */
  destroyLagMs = 10;
  private lastDomainId = 0;
  private lastSessionPid = 90_000;

  addHost(name: string, address = `10.0.0.${this.hosts.size + 1}`): FakeHost {
    const host = new FakeHost(name, address);
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): FakeHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`fake: no host ${name}`);
    return host;
  }

  addGuest(hostName: string, spec: GuestSpec, state: FakeDomainState = 'running'): FakeDomain {
    return this.host(hostName).addGuest(spec, guestXml(spec), state, this.nextDomainId(), this.nextPid());
  }

  addNetwork(hostName: string, name: string, dhcpHosts: string[] = []): void {
    this.host(hostName).networks.set(name, {
      name,
      uuid: `0000${this.hosts.size}-net-${name}`,
      dhcpHosts: [...dhcpHosts],
    });
  }

  /** Where a guest is defined, and in which state, host by host. */
  whereIs(uuid: string): { host: string; state: FakeDomainState; persistent: boolean }[] {
    return [...this.hosts.values()].flatMap((host) => {
      const domain = host.domainByUuid(uuid);
      return domain ? [{ host: host.name, state: domain.state, persistent: domain.persistent }] : [];
    });
  }

  /**
   * The next call of `op` (a LibvirtClient method or a command's argv[0]) fails, or the one after `after` calls that
   * go through; on a shell, with exit 1.
   */
  failNext(op: string, error?: Error, options: { host?: string; times?: number; after?: number } = {}): void {
    this.failures.add(
      op,
      error ?? libvirtError(LibvirtErrorCode.internalError, `internal error: injected failure of ${op}`),
      options,
    );
  }

  /** A rehome process: its own connections to every host, and a pid for its locks. */
  session(label: string): FakeSession & { hosts: HostsPort } {
    const session = new FakeSession(label, ++this.lastSessionPid);
    const clients = new Map<string, FakeLibvirtClient>();
    const reachable = (name: string) => {
      const host = this.host(name);
      if (!host.reachable) throw new ConnectionClosedError(`cannot reach ${name}: No route to host`);
      return host;
    };
    const hosts: HostsPort = {
      ssh: async (name) => new FakeShell(reachable(name), this, session),
      libvirt: async (name) => {
        const cached = clients.get(name);
        if (cached && !cached.closed) return cached as unknown as LibvirtClient;
        const client = new FakeLibvirtClient(reachable(name), this, session);
        clients.set(name, client);
        this.clients.add(client);
        return client as unknown as LibvirtClient;
      },
      addressOf: async (name) => this.host(name).address,
    };
    return Object.assign(session, { hosts });
  }

  /** How many libvirt connections the process labelled `label` holds open to a host. */
  openConnections(hostName: string, label: string): number {
    return [...this.clients].filter(
      (client) => client.host.name === hostName && client.session.label === label && !client.closed,
    ).length;
  }

  /** The host goes away: new connections fail, open ones close. */
  setReachable(hostName: string, reachable: boolean): void {
    const host = this.host(hostName);
    host.reachable = reachable;
    if (!reachable)
      for (const client of this.clients)
        if (client.host === host) client.drop(new Error(`${hostName} unreachable`));
  }

  /** Open libvirt connections to a host close (libvirtd restarted); the next `libvirt(host)` opens a new one. */
  dropConnections(hostName: string): void {
    for (const client of this.clients)
      if (client.host.name === hostName) client.drop(new Error('connection reset by peer'));
  }

  // ---- the guest's own doings ---------------------------------------------------------------------------------

  /** The guest writes to a disk: the image changes and its mirror, if any, has dirty data again. */
  guestWrites(hostName: string, vm: string, disk: string, data: string): void {
    const host = this.host(hostName);
    const domain = this.domainNamed(host, vm);
    if (domain.state !== 'running') throw new Error(`fake: ${vm} cannot write while ${domain.state}`);
    const path = readDomainXml(domain.xml).diskPaths.find((d) => d.dev === disk)?.path ?? '';
    const image = host.image(path);
    if (!image) throw new Error(`fake: ${vm} has no image for ${disk}`);
    image.data = data;
    const job = domain.jobs.get(disk);
    if (job) job.end += DIRTY_BYTES_PER_WRITE;
  }

  /** The guest reboots (QEMU's RESET): a burst of `reboot` events, `spacingMs` apart. The guest keeps running. */
  async guestReboots(
    hostName: string,
    vm: string,
    options: { events?: number; spacingMs?: number } = {},
  ): Promise<void> {
    const host = this.host(hostName);
    const domain = this.domainNamed(host, vm);
    const ref: DomainRef = { name: domain.name, uuid: domain.uuid, id: domain.id };
    const count = options.events ?? 3;
    for (let i = 0; i < count; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, options.spacingMs ?? 30));
      this.emit(hostName, ref, { kind: 'reboot' });
    }
  }

  /** The mirror job of a disk disappears (QEMU ended it on an error): nothing tells the engine. */
  vanishJob(hostName: string, vm: string, disk: string): void {
    this.domainNamed(this.host(hostName), vm).jobs.delete(disk);
  }

  /**
   * QEMU ends the mirror job of a disk and libvirt says so with a block-job event: failed (1, its export went away)
   * by default, or completed (0) or cancelled (2). With `error`, QEMU's BLOCK_JOB_COMPLETED event carries that text
   * first (libvirt names the job `copy-<disk>-<node>`).
   */
  failJob(hostName: string, vm: string, disk: string, status = 1, error?: string): void {
    const domain = this.domainNamed(this.host(hostName), vm);
    domain.jobs.delete(disk);
    const ref: DomainRef = { name: domain.name, uuid: domain.uuid, id: domain.id };
    if (error !== undefined) {
      const data = { device: `copy-${disk}-libvirt-1-format`, type: 'mirror', error };
      for (const client of this.clients)
        if (client.host.name === hostName) client.deliverQemu(ref, 'BLOCK_JOB_COMPLETED', data);
    }
    this.emit(hostName, ref, { kind: 'block-job', disk, type: 2, status });
  }

  /** qemu-nbd dies on the target (OOM, a reboot of the target): its pid is gone, its image stays. */
  killProcess(hostName: string, pid: number): void {
    this.host(hostName).processes.delete(pid);
  }

  // ---- used by the fake clients -------------------------------------------------------------------------------

  nextPid(): number {
    return ++this.lastPid;
  }

  nextDomainId(): number {
    return ++this.lastDomainId;
  }

  emit(hostName: string, domain: DomainRef, event: DomainEvent): void {
    const eventId =
      event.kind === 'reboot'
        ? DomainEventId.reboot
        : event.kind === 'block-job'
          ? DomainEventId.blockJob2
          : DomainEventId.lifecycle;
    for (const client of this.clients)
      if (client.host.name === hostName) client.deliver(eventId, domain, event);
  }

  /** Called whenever a guest becomes active somewhere: the one invariant that must never break. */
  noteActive(uuid: string): void {
    // Two copies are two QEMUs: a domain libvirt still reports paused while it finishes a destroy has none.
    const active = this.whereIs(uuid).filter((place) =>
      this.host(place.host).runsQemu(this.host(place.host).domainByUuid(uuid)),
    );
    if (active.length > 1)
      this.violations.push(`${uuid} active on ${active.map((p) => `${p.host} (${p.state})`).join(' and ')}`);
  }

  /** The image a live qemu-nbd serves at this address, port and name. */
  exportImage(destination: { address: string; port: number; exportName: string }) {
    for (const host of this.hosts.values()) {
      if (host.address !== destination.address) continue;
      const process = host
        .liveExports()
        .find((p) => p.port === destination.port && p.exportName === destination.exportName);
      if (process?.imagePath) return host.image(process.imagePath);
    }
    return undefined;
  }

  /** One progress reading of a job: it copies on, and vanishes if its export is gone (QEMU fails the job). */
  advanceJob(host: FakeHost, domain: FakeDomain, disk: string): FakeBlockJob | undefined {
    const job = domain.jobs.get(disk);
    if (!job) return undefined;
    if (!this.exportImage(job.destination)) {
      domain.jobs.delete(disk);
      return undefined;
    }
    job.cur = Math.min(job.end, job.cur + job.bytesPerPoll);
    this.syncIfConverged(host, domain, disk);
    return job;
  }

  /** A job with nothing dirty has made the target image equal to the source image. */
  syncIfConverged(host: FakeHost, domain: FakeDomain, disk: string): void {
    const job = domain.jobs.get(disk);
    if (!job || job.cur !== job.end) return;
    const target = this.exportImage(job.destination);
    const path = readDomainXml(domain.xml).diskPaths.find((d) => d.dev === disk)?.path ?? '';
    const source = host.image(path);
    if (target && source) target.data = source.data;
  }

  private domainNamed(host: FakeHost, vm: string): FakeDomain {
    const domain = host.domainByName(vm);
    if (!domain) throw new Error(`fake: no domain ${vm} on ${host.name}`);
    return domain;
  }
}
