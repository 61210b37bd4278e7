import { FakeHypervisor } from './fake-hypervisor.js';
import type { FakeSession } from './fake-session.js';
import { hang } from './fake-session.js';
import type { GuestSpec } from './guest-xml.js';
import {
  contextFor,
  defaultSettings,
  type HostsPort,
  type Lock,
  type MigrationContext,
  type MigrationRecord,
  migrate,
  openSqliteStore,
  type ProgressEvent,
  type Runtime,
  type Store,
  tempDbPath,
} from './src-imports.js';

export const IMAGE_DIR = '/var/lib/libvirt/images';
const MANAGER_HOST = 'fake-manager';

export interface LabOptions {
  /** Local disks of the guest (default 1). */
  disks?: number;
  /** A second NIC on the libvirt network `default`, with a DHCP host entry on the source. */
  networkNic?: boolean;
  /** A UEFI guest with an NVRAM file. */
  nvram?: boolean;
  /** A vTPM (swtpm state under /var/lib/libvirt/swtpm/<uuid>/). */
  tpm?: boolean;
}

type Teardown = { teardown(fn: () => void): void };

/** A rehome process over the fake: its Runtime, its session (to crash it), and what it reported. */
export interface FakeProcessRuntime {
  rt: Runtime;
  session: FakeSession & { hosts: HostsPort };
  events: ProgressEvent[];
}

/**
 * One test's world: three fake hosts (src, dst, spare), one guest `vm1` running on src, a real SQLite store in a temp
 * dir. `process()` opens a rehome process on it; a crashed process's locks count as held by a dead pid.
 */
export class Lab {
  readonly fake = new FakeHypervisor();
  readonly store: Store;
  readonly guest: GuestSpec;
  private readonly deadPids = new Set<number>();

  constructor(t: Teardown, options: LabOptions = {}) {
    this.store = openSqliteStore(tempDbPath(t), {
      localHost: MANAGER_HOST,
      isPidAlive: (pid) => !this.deadPids.has(pid),
    });
    t.teardown(() => void this.store.close());
    for (const name of ['src', 'dst', 'spare']) this.fake.addHost(name);
    const nics = [{ mac: '52:54:00:00:00:01', bridge: 'br0' }];
    if (options.networkNic) nics.push({ mac: '52:54:00:00:00:02', network: 'default' } as never);
    this.guest = {
      name: 'vm1',
      uuid: '6f1e1c2a-0d3b-4b7e-9a51-3c0d2e4f5a61',
      disks: ['vda', 'vdb', 'vdc'].slice(0, options.disks ?? 1).map((dev, i) => ({
        dev,
        path: `${IMAGE_DIR}/vm1-${dev}.qcow2`,
        virtualSize: (64 + i * 16) << 20,
      })),
      nics,
      ...(options.nvram ? { nvram: '/var/lib/libvirt/qemu/nvram/vm1_VARS.fd' } : {}),
      ...(options.tpm ? { tpm: true } : {}),
    };
    this.fake.addGuest('src', this.guest);
    for (const host of ['src', 'dst']) {
      this.fake.addNetwork(
        host,
        'default',
        host === 'src' && options.networkNic ? ["<host mac='52:54:00:00:00:02' ip='192.168.122.50'/>"] : [],
      );
    }
  }

  /** A rehome process (a CLI run, a watcher) over this lab. */
  process(label = 'rehome'): FakeProcessRuntime {
    const session = this.fake.session(label);
    session.whenCrashed(() => this.deadPids.add(session.pid));
    const events: ProgressEvent[] = [];
    const store = crashAware(this.store, session);
    const hosts = [...this.fake.hosts.values()].map((host) => ({
      name: host.name,
      address: host.address,
      imageDir: IMAGE_DIR,
    }));
    const config = { hosts, ssh: { acceptUnknownHostKeys: false } } as unknown as Runtime['config'];
    const rt: Runtime = {
      config,
      store,
      hosts: session.hosts,
      settings: {
        ...defaultSettings(),
        gracefulRebootTimeoutMs: 300,
        convergeTimeoutMs: 500,
        retentionHours: 1,
        certDir: '/etc/rehome/tls',
      },
      host: (name) => {
        const found = hosts.find((host) => host.name === name);
        if (!found) throw new Error(`no host ${name}`);
        return found as unknown as ReturnType<Runtime['host']>;
      },
      lockOwner: (purpose) => ({ pid: session.pid, host: MANAGER_HOST, purpose }),
      close: async () => {},
    };
    return { rt, session, events };
  }

  /** The store now judges this pid dead (a lock it holds may be taken over), though the process may still run. */
  declareDead(pid: number): void {
    this.deadPids.add(pid);
  }

  /** `rehome migrate vm1 --to dst` in a fresh process: armed on success. */
  async arm(label = 'migrate'): Promise<MigrationRecord> {
    const { rt, events } = this.process(label);
    await migrate(rt, { vm: 'vm1', to: 'dst' }, (event) => events.push(event));
    return this.migration();
  }

  /** The newest migration of vm1, as the store has it now. */
  async migration(): Promise<MigrationRecord> {
    const [newest] = (await this.store.listMigrations({ vm: 'vm1' })).sort((a, b) =>
      b.createdAt.localeCompare(a.createdAt),
    );
    if (!newest) throw new Error('no migration of vm1');
    return newest;
  }

  async context(process: FakeProcessRuntime, record?: MigrationRecord): Promise<MigrationContext> {
    return contextFor(process.rt, record ?? (await this.migration()), (event) => process.events.push(event));
  }

  /** Audit step names of the migration, in order. */
  async auditSteps(record?: MigrationRecord): Promise<string[]> {
    const id = (record ?? (await this.migration())).id;
    return (await this.store.listAudit({ migrationId: id })).map((entry) => `${entry.step}:${entry.outcome}`);
  }
}

/**
 * The store as a process sees it: a stalled process's calls wait until it runs again, a crashed one's never return.
 * So do the calls on the locks it holds.
 */
function crashAware<T extends object>(store: T, session: FakeSession): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await session.running();
        if (session.crashed) return hang();
        const result = await value.apply(target, args);
        return property === 'acquireLock' ? crashAware(result as Lock, session) : result;
      };
    },
  });
}
