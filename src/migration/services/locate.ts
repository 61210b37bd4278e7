import { type ErrorKind, RehomeError } from '../../errors.js';
import { isNoDomain, LibvirtError } from '../../libvirt/errors.js';
import type { DomainRef } from '../../libvirt/protocol/types.js';
import { ACTIVE_PHASES } from '../../store/phases.js';
import type { MigrationRecord } from '../../store/types.js';
import { type LockGuard, MigrationContext } from '../engine/context.js';
import type { Runtime } from '../runtime.js';
import type { ProgressSink } from '../types.js';
import { noticesFor } from './notices.js';

/**
 * The one configured host where a domain of this name is defined. When some host could not be searched, "not found"
 * would be a guess: the error is that host's (a refused host key first, else unreachable or libvirt).
 */
export async function locateVm(rt: Runtime, name: string): Promise<{ host: string; domain: DomainRef }> {
  const found: { host: string; domain: DomainRef }[] = [];
  const failures: { host: string; kind: ErrorKind; message: string }[] = [];
  await Promise.all(
    rt.config.hosts.map(async (host) => {
      try {
        const domain = await (await rt.hosts.libvirt(host.name)).lookupDomainByName(name);
        found.push({ host: host.name, domain });
      } catch (err) {
        if (!isNoDomain(err)) {
          const kind =
            err instanceof RehomeError ? err.kind : err instanceof LibvirtError ? 'libvirt' : 'unreachable';
          failures.push({ host: host.name, kind, message: (err as Error).message });
        }
      }
    }),
  );
  if (found.length === 1 && found[0]) return found[0];
  if (found.length > 1) {
    throw new RehomeError(
      `VM ${name} is defined on several hosts: ${found.map((f) => f.host).join(', ')}`,
      'migration-failed',
    );
  }
  if (found.length === 0 && failures.length > 0) {
    const kind = failures.some((failure) => failure.kind === 'host-key') ? 'host-key' : failures[0]?.kind;
    const unsearched = failures.map((failure) => failure.host).join(', ');
    throw new RehomeError(
      `VM ${name} was not found, but ${unsearched} could not be searched`,
      kind ?? 'unreachable',
      failures.map((failure) => `${failure.host}: ${failure.message}`),
      { subject: { code: 'vm-search-incomplete', vm: name } },
    );
  }
  throw new RehomeError(`No VM named ${name} on any configured host`, 'not-found');
}

/** The VM's active migration, by name or UUID. */
export async function activeMigration(rt: Runtime, vm: string): Promise<MigrationRecord> {
  const [record] = await rt.store.listMigrations({ vm, phase: ACTIVE_PHASES });
  if (!record)
    throw new RehomeError(`VM ${vm} has no active migration`, 'not-found', [], {
      subject: { code: 'no-active-migration', vm },
    });
  return record;
}

/** A context for the migration; with `held`, its phase writes are fenced by the lock and its steps stop if it is lost. */
export function contextFor(
  rt: Runtime,
  record: MigrationRecord,
  progress?: ProgressSink,
  held?: LockGuard,
): MigrationContext {
  const target = rt.host(record.targetHost);
  return new MigrationContext(
    record,
    rt.store,
    rt.hosts,
    rt.settings,
    { name: target.name, imageDir: target.imageDir },
    progress,
    noticesFor(rt),
    held,
  );
}
