import { RehomeError } from '../../errors.js';
import { isNoDomain } from '../../libvirt/errors.js';
import type { DomainRef } from '../../libvirt/protocol/types.js';
import { ACTIVE_PHASES } from '../../store/phases.js';
import type { MigrationRecord } from '../../store/types.js';
import { MigrationContext } from '../engine/context.js';
import type { Runtime } from '../runtime.js';
import type { ProgressSink } from '../types.js';
import { noticesFor } from './notices.js';

/** The one configured host where a domain of this name is defined. */
export async function locateVm(rt: Runtime, name: string): Promise<{ host: string; domain: DomainRef }> {
  const found: { host: string; domain: DomainRef }[] = [];
  const errors: string[] = [];
  await Promise.all(
    rt.config.hosts.map(async (host) => {
      try {
        const domain = await (await rt.hosts.libvirt(host.name)).lookupDomainByName(name);
        found.push({ host: host.name, domain });
      } catch (err) {
        if (!isNoDomain(err)) {
          errors.push(`${host.name}: ${(err as Error).message}`);
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
  throw new RehomeError(`No VM named ${name} on any configured host`, 'not-found', errors);
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

export function contextFor(rt: Runtime, record: MigrationRecord, progress?: ProgressSink): MigrationContext {
  const target = rt.host(record.targetHost);
  return new MigrationContext(
    record,
    rt.store,
    rt.hosts,
    rt.settings,
    { name: target.name, imageDir: target.imageDir },
    progress,
    noticesFor(rt),
  );
}
