import { setTimeout as sleep } from 'node:timers/promises';
import { firmwareAtStart, firmwareAtStop, firmwareAtUndefine } from './fake-firmware.js';
import type { FakeDomain, FakeHost } from './fake-host.js';
import type { FakeHypervisor } from './fake-hypervisor.js';
import type { FakeSession } from './fake-session.js';
import { dhcpHostMac, liveXml, readDomainXml, readInterfaceUpdate, readNbdDestination } from './guest-xml.js';
import { libvirtError, noDomain, notRunning, SYSTEM_ERROR } from './libvirt-errors.js';
import {
  ConnectionClosedError,
  type DomainRef,
  DomainState,
  LibvirtErrorCode,
  type LibvirtEvent,
  LifecycleEvent,
  type NetworkRef,
  NetworkUpdateCommand,
  UndefineFlags,
} from './src-imports.js';

type EventListener = (event: LibvirtEvent) => void;
export type DomainEvent =
  | { kind: 'lifecycle'; event: number; detail: number }
  | { kind: 'reboot' }
  | { kind: 'block-job'; disk: string; type: number; status: number };

const INACTIVE_XML = 2;
const COPY_JOB = 2;

/**
 * The LibvirtClient methods the engine calls (src/migration, src/sync, src/notify), over one fake host. Every call
 * goes through the session (a crashed process never hears back) and the failure plan, then acts on the host state.
 */
export class FakeLibvirtClient {
  private readonly listeners = new Set<EventListener>();
  private readonly closeListeners = new Set<(error: Error | null) => void>();
  private readonly registrations = new Map<number, { eventId: number; uuid: string | null }>();
  private readonly qemuRegistrations = new Map<number, { event: string | null; uuid: string | null }>();
  private nextCallbackId = 1;
  closed = false;

  constructor(
    readonly host: FakeHost,
    private readonly world: FakeHypervisor,
    readonly session: FakeSession,
  ) {}

  private async call<T>(op: string, act: () => T): Promise<T> {
    const call = await this.session.enter();
    if (this.closed || !this.host.reachable)
      throw new ConnectionClosedError(`libvirt connection to ${this.host.name} closed`);
    let outcome: { result: T } | { error: unknown };
    try {
      const failure = this.world.failures.take(this.host.name, op);
      if (failure) throw failure;
      outcome = { result: act() };
    } catch (error) {
      outcome = { error };
    }
    await this.session.leave(call);
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }

  private domain(ref: DomainRef): FakeDomain {
    const found = this.host.domainByUuid(ref.uuid);
    if (!found) throw noDomain(`uuid '${ref.uuid}' (${ref.name})`);
    return found;
  }

  private active(ref: DomainRef): FakeDomain {
    const found = this.domain(ref);
    if (found.state === 'shutoff') throw notRunning();
    return found;
  }

  private emit(domain: FakeDomain, event: DomainEvent): void {
    this.world.emit(this.host.name, { name: domain.name, uuid: domain.uuid, id: domain.id }, event);
  }

  // ---- events -------------------------------------------------------------------------------------------------

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onClose(listener: (error: Error | null) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  registerDomainEvent(eventId: number, domain: DomainRef | null = null): Promise<number> {
    return this.call('registerDomainEvent', () => {
      const id = this.nextCallbackId++;
      this.registrations.set(id, { eventId, uuid: domain?.uuid ?? null });
      return id;
    });
  }

  deregisterDomainEvent(callbackId: number): Promise<void> {
    return this.call('deregisterDomainEvent', () => {
      if (!this.registrations.delete(callbackId))
        throw libvirtError(
          LibvirtErrorCode.invalidArg,
          `could not find event callback ${callbackId} for deletion`,
        );
    });
  }

  /** QMP events by name for one domain (or all): the engine hears BLOCK_JOB_COMPLETED's error text through them. */
  registerQemuMonitorEvent(domain: DomainRef | null, event: string | null): Promise<number> {
    return this.call('registerQemuMonitorEvent', () => {
      const id = this.nextCallbackId++;
      this.qemuRegistrations.set(id, { event, uuid: domain?.uuid ?? null });
      return id;
    });
  }

  deregisterQemuMonitorEvent(callbackId: number): Promise<void> {
    return this.call('deregisterQemuMonitorEvent', () => {
      this.qemuRegistrations.delete(callbackId);
    });
  }

  /** A QMP event of the domain's QEMU, with its data as JSON text, to every matching registration. */
  deliverQemu(domain: DomainRef, event: string, data: unknown): void {
    if (this.closed || this.session.crashed) return;
    for (const [callbackId, registration] of this.qemuRegistrations) {
      if (registration.event !== null && registration.event !== event) continue;
      if (registration.uuid !== null && registration.uuid !== domain.uuid) continue;
      const message: LibvirtEvent = {
        kind: 'qemu-monitor',
        callbackId,
        domain,
        event,
        seconds: 0n,
        micros: 0,
        details: JSON.stringify(data),
      };
      for (const listener of [...this.listeners]) listener(message);
    }
  }

  /** libvirtd sends one message per matching registration; every listener sees each. */
  deliver(eventId: number, domain: DomainRef, event: DomainEvent): void {
    if (this.closed || this.session.crashed) return;
    for (const [callbackId, registration] of this.registrations) {
      if (registration.eventId !== eventId) continue;
      if (registration.uuid !== null && registration.uuid !== domain.uuid) continue;
      const message = { ...event, callbackId, domain } as LibvirtEvent;
      for (const listener of [...this.listeners]) listener(message);
    }
  }

  /** The connection drops (libvirtd restarted, network cut). */
  drop(error: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of [...this.closeListeners]) listener(error);
  }

  // ---- domains ------------------------------------------------------------------------------------------------

  lookupDomainByName(name: string): Promise<DomainRef> {
    return this.call('lookupDomainByName', () => {
      const found = this.host.domainByName(name);
      if (!found) throw noDomain(`name '${name}'`);
      return { name: found.name, uuid: found.uuid, id: found.id };
    });
  }

  /** Every domain defined or running on the host (the flags are not filtered on). */
  listAllDomains(_flags = 0): Promise<DomainRef[]> {
    return this.call('listAllDomains', () =>
      [...this.host.domains.values()].map((domain) => ({
        name: domain.name,
        uuid: domain.uuid,
        id: domain.id,
      })),
    );
  }

  lookupDomainByUuid(uuid: string): Promise<DomainRef> {
    return this.call('lookupDomainByUuid', () => {
      const found = this.host.domainByUuid(uuid);
      if (!found) throw noDomain(`uuid '${uuid}'`);
      return { name: found.name, uuid: found.uuid, id: found.id };
    });
  }

  async getDomainState(ref: DomainRef): Promise<{ state: number; reason: number }> {
    await this.host.domainByUuid(ref.uuid)?.stopping;
    return this.call('getDomainState', () => ({ state: DomainState[this.domain(ref).state], reason: 1 }));
  }

  getDomainXml(ref: DomainRef, flags = 0): Promise<string> {
    return this.call('getDomainXml', () => {
      const found = this.domain(ref);
      if (found.state === 'shutoff' || flags & INACTIVE_XML) return found.xml;
      return liveXml(found.xml, found.id, found.links);
    });
  }

  defineDomainXml(xml: string): Promise<DomainRef> {
    return this.call('defineDomainXml', () => {
      const parsed = readDomainXml(xml);
      const sameName = this.host.domainByName(parsed.name);
      if (sameName && sameName.uuid !== parsed.uuid) {
        throw libvirtError(
          LibvirtErrorCode.operationFailed,
          `operation failed: domain '${parsed.name}' already exists with uuid ${sameName.uuid}`,
        );
      }
      const existing = this.host.domainByUuid(parsed.uuid);
      const domain: FakeDomain = existing ?? {
        name: parsed.name,
        uuid: parsed.uuid,
        id: -1,
        state: 'shutoff',
        persistent: true,
        xml,
        links: new Map(),
        jobs: new Map(),
        ignoresAcpi: false,
      };
      domain.xml = xml;
      domain.persistent = true;
      this.host.domains.set(parsed.uuid, domain);
      this.emit(domain, { kind: 'lifecycle', event: LifecycleEvent.defined, detail: existing ? 1 : 0 });
      return { name: domain.name, uuid: domain.uuid, id: domain.id };
    });
  }

  createDomain(ref: DomainRef): Promise<DomainRef> {
    return this.call('createDomain', () => {
      const domain = this.domain(ref);
      if (domain.state !== 'shutoff')
        throw libvirtError(
          LibvirtErrorCode.operationInvalid,
          'Requested operation is not valid: domain is already running',
        );
      for (const disk of readDomainXml(domain.xml).diskPaths) {
        if (!this.host.image(disk.path)) {
          throw libvirtError(
            SYSTEM_ERROR,
            `Cannot access storage file '${disk.path}': No such file or directory`,
          );
        }
        if (this.host.liveExports().some((p) => p.imagePath === disk.path)) {
          throw libvirtError(
            LibvirtErrorCode.internalError,
            `internal error: process exited while connecting to monitor: Failed to get "write" lock on ${disk.path}`,
          );
        }
      }
      firmwareAtStart(this.host, domain);
      domain.state = 'running';
      domain.id = this.world.nextDomainId();
      this.host.startQemu(domain, this.world.nextPid());
      domain.links = new Map(readDomainXml(domain.xml).macs.map((mac) => [mac, 'up']));
      this.world.noteActive(domain.uuid);
      this.emit(domain, { kind: 'lifecycle', event: LifecycleEvent.started, detail: 0 });
      return { name: domain.name, uuid: domain.uuid, id: domain.id };
    });
  }

  /**
   * Like libvirt's: the QEMU exits at once (SIGTERM), the destroy returns a little later (libvirt looks at the process
   * again on a timer, then stops the domain), and meanwhile the domain's state is not answered. libvirt finishes it
   * even when the caller is gone.
   */
  async destroyDomain(ref: DomainRef): Promise<void> {
    const { stopping } = await this.call('destroyDomain', () => {
      const domain = this.active(ref);
      this.host.stopQemu(domain);
      const stopping = sleep(this.world.destroyLagMs).then(() => {
        firmwareAtStop(this.host, domain);
        domain.state = 'shutoff';
        domain.id = -1;
        domain.jobs.clear();
        domain.stopping = undefined;
        if (!domain.persistent) this.host.domains.delete(domain.uuid);
        this.emit(domain, { kind: 'lifecycle', event: LifecycleEvent.stopped, detail: 1 });
      });
      domain.stopping = stopping;
      return { stopping };
    });
    await stopping;
  }

  suspendDomain(ref: DomainRef): Promise<void> {
    return this.call('suspendDomain', () => {
      const domain = this.active(ref);
      if (domain.state === 'paused') return;
      domain.state = 'paused';
      this.emit(domain, { kind: 'lifecycle', event: LifecycleEvent.suspended, detail: 0 });
    });
  }

  resumeDomain(ref: DomainRef): Promise<void> {
    return this.call('resumeDomain', () => {
      const domain = this.active(ref);
      if (domain.state === 'running') return;
      domain.state = 'running';
      this.world.noteActive(domain.uuid);
      this.emit(domain, { kind: 'lifecycle', event: LifecycleEvent.resumed, detail: 0 });
    });
  }

  /** A graceful (ACPI) reboot: the guest powers off and libvirt resets it, with a burst of reboot events. */
  rebootDomain(ref: DomainRef): Promise<void> {
    return this.call('rebootDomain', () => {
      const domain = this.active(ref);
      if (!domain.ignoresAcpi) void this.world.guestReboots(this.host.name, domain.name);
    });
  }

  undefineDomain(ref: DomainRef, flags = 0): Promise<void> {
    return this.call('undefineDomain', () => {
      const domain = this.domain(ref);
      if (readDomainXml(domain.xml).nvram && !(flags & (UndefineFlags.nvram | UndefineFlags.keepNvram))) {
        throw libvirtError(
          LibvirtErrorCode.operationInvalid,
          'Requested operation is not valid: cannot undefine domain with nvram',
        );
      }
      firmwareAtUndefine(this.host, domain, flags);
      if (domain.state === 'shutoff') this.host.domains.delete(domain.uuid);
      else domain.persistent = false;
      this.emit(domain, { kind: 'lifecycle', event: LifecycleEvent.undefined, detail: 0 });
    });
  }

  updateDevice(ref: DomainRef, deviceXml: string): Promise<void> {
    return this.call('updateDevice', () => {
      const domain = this.active(ref);
      const { mac, state } = readInterfaceUpdate(deviceXml);
      if (!domain.links.has(mac))
        throw libvirtError(
          LibvirtErrorCode.operationFailed,
          `operation failed: no device matching MAC address ${mac} found`,
        );
      domain.links.set(mac, state);
    });
  }

  attachDevice(): Promise<void> {
    return this.call('attachDevice', () => {
      throw libvirtError(LibvirtErrorCode.noSupport, 'this function is not supported by the fake hypervisor');
    });
  }

  // ---- block jobs ---------------------------------------------------------------------------------------------

  blockCopy(ref: DomainRef, disk: string, destXml: string): Promise<void> {
    return this.call('blockCopy', () => {
      const domain = this.active(ref);
      const source = readDomainXml(domain.xml).diskPaths.find((d) => d.dev === disk);
      if (!source)
        throw libvirtError(
          LibvirtErrorCode.invalidArg,
          `invalid argument: disk '${disk}' not found in domain`,
        );
      if (domain.jobs.has(disk))
        throw libvirtError(
          LibvirtErrorCode.operationInvalid,
          `Requested operation is not valid: disk '${disk}' already in active block job`,
        );
      const destination = readNbdDestination(destXml);
      const target = this.world.exportImage(destination);
      if (!target) {
        throw libvirtError(
          LibvirtErrorCode.internalError,
          `internal error: unable to execute QEMU command 'blockdev-add': Failed to connect to '${destination.address}:${destination.port}': Connection refused`,
        );
      }
      const size = this.host.image(source.path)?.virtualSize ?? 0;
      if (target.virtualSize !== size)
        throw libvirtError(
          LibvirtErrorCode.operationInvalid,
          'Requested operation is not valid: Source and target image have different sizes',
        );
      domain.jobs.set(disk, {
        disk,
        cur: 0,
        end: size,
        bytesPerPoll: this.world.mirrorBytesPerPoll ?? size,
        speedsSet: [],
        destination,
      });
    });
  }

  getBlockJobInfo(
    ref: DomainRef,
    disk: string,
  ): Promise<{ type: number; bandwidth: bigint; cur: bigint; end: bigint } | null> {
    return this.call('getBlockJobInfo', () => {
      const domain = this.active(ref);
      const job = this.world.advanceJob(this.host, domain, disk);
      return job
        ? { type: COPY_JOB, bandwidth: BigInt(job.speed ?? 0), cur: BigInt(job.cur), end: BigInt(job.end) }
        : null;
    });
  }

  /** Speeds in bytes per second only (the flag rehome always passes). */
  blockJobSetSpeed(ref: DomainRef, disk: string, bandwidth: bigint): Promise<void> {
    return this.call('blockJobSetSpeed', () => {
      const job = this.active(ref).jobs.get(disk);
      if (!job)
        throw libvirtError(
          LibvirtErrorCode.invalidArg,
          `invalid argument: disk ${disk} does not have an active block job`,
        );
      job.speed = Number(bandwidth);
      job.speedsSet.push(job.speed);
    });
  }

  blockJobAbort(ref: DomainRef, disk: string): Promise<void> {
    return this.call('blockJobAbort', () => {
      const domain = this.active(ref);
      if (!domain.jobs.has(disk))
        throw libvirtError(
          LibvirtErrorCode.invalidArg,
          `invalid argument: disk ${disk} does not have an active block job`,
        );
      this.world.syncIfConverged(this.host, domain, disk);
      domain.jobs.delete(disk);
    });
  }

  // ---- networks -----------------------------------------------------------------------------------------------

  lookupNetworkByName(name: string): Promise<NetworkRef> {
    return this.call('lookupNetworkByName', () => {
      const network = this.host.networks.get(name);
      if (!network)
        throw libvirtError(
          LibvirtErrorCode.noNetwork,
          `Network not found: no network with matching name '${name}'`,
        );
      return { name: network.name, uuid: network.uuid };
    });
  }

  getNetworkXml(ref: NetworkRef): Promise<string> {
    return this.call('getNetworkXml', () => {
      const network = this.host.networks.get(ref.name);
      if (!network) throw libvirtError(LibvirtErrorCode.noNetwork, `Network not found: ${ref.name}`);
      return `<network><name>${network.name}</name><uuid>${network.uuid}</uuid><ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>${network.dhcpHosts.join('')}</dhcp></ip></network>`;
    });
  }

  updateNetwork(ref: NetworkRef, command: number, _section: number, xml: string): Promise<void> {
    return this.call('updateNetwork', () => {
      const network = this.host.networks.get(ref.name);
      if (!network) throw libvirtError(LibvirtErrorCode.noNetwork, `Network not found: ${ref.name}`);
      const mac = dhcpHostMac(xml);
      const index = network.dhcpHosts.findIndex((entry) => dhcpHostMac(entry) === mac);
      if (command === NetworkUpdateCommand.delete) {
        if (index < 0)
          throw libvirtError(
            LibvirtErrorCode.operationInvalid,
            `couldn't locate a matching dhcp host entry in network '${ref.name}'`,
          );
        network.dhcpHosts.splice(index, 1);
        return;
      }
      if (index >= 0)
        throw libvirtError(
          LibvirtErrorCode.operationInvalid,
          `there is an existing dhcp host entry in network '${ref.name}' that matches`,
        );
      network.dhcpHosts.push(xml);
    });
  }
}
