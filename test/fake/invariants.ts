import type { ExecutionContext } from 'ava';
import type { Lab } from './engine-harness.js';
import { readDomainXml } from './guest-xml.js';
import type { MigrationJob, MigrationRecord } from './src-imports.js';

type T = ExecutionContext<unknown>;

/** The guest was never active on two hosts at any moment of the test (checked by the fake at every start/resume). */
export function assertNeverTwoCopies(t: T, lab: Lab): void {
  t.deepEqual(lab.fake.violations, [], 'the guest ran on two hosts');
}

function job(record: MigrationRecord): MigrationJob {
  return record.job as unknown as MigrationJob;
}

/** The journal still lists every local disk of the guest (all of the lab's are local). */
function assertEveryDiskJournaled(t: T, lab: Lab, record: MigrationRecord): void {
  t.deepEqual(
    job(record).disks.map((d) => d.target),
    lab.guest.disks.map((d) => d.dev),
    'a disk is missing from the journal',
  );
}

/** What the target must not hold after a rollback: no domain, no live export, no image, no pid file. */
export function assertTargetClean(t: T, lab: Lab, record: MigrationRecord): void {
  const target = lab.fake.host(record.targetHost);
  t.is(target.domainByUuid(lab.guest.uuid), undefined, 'a domain is left on the target');
  t.is(target.domainByName(lab.guest.name), undefined, 'a domain of the same name is left on the target');
  t.deepEqual(
    target.liveExports().map((p) => p.exportName),
    [],
    'an export is left on the target',
  );
  for (const disk of job(record).disks)
    t.false(target.files.has(disk.targetPath), `${disk.targetPath} is left on the target`);
  for (const nbd of job(record).exports)
    t.false(target.files.has(nbd.pidFile), `${nbd.pidFile} is left on the target`);
  // Also what an interrupted export left before the record knew it (its pid file is named after the export).
  const exportPrefix = `rehome-${record.id.slice(0, 8)}-`;
  t.deepEqual(
    [...target.files.keys()].filter((path) => path.includes(exportPrefix)),
    [],
    'a file of this migration is left on the target',
  );
}

/** After a rollback: the guest runs on the source as before (persistent, links up, no mirror), target clean. */
export function assertRolledBack(t: T, lab: Lab, record: MigrationRecord): void {
  assertNeverTwoCopies(t, lab);
  const source = lab.fake.host(record.sourceHost).domainByUuid(lab.guest.uuid);
  t.is(source?.state, 'running', 'the guest does not run on the source');
  t.true(source?.persistent, 'the source definition is gone');
  t.deepEqual([...(source?.jobs.keys() ?? [])], [], 'a block job is left on the source');
  t.deepEqual(
    [...(source?.links.values() ?? [])].filter((s) => s === 'down'),
    [],
    'a NIC link is left down',
  );
  assertTargetClean(t, lab, record);
}

/**
 * After a move: the guest runs on the target with its name, UUID and MACs, its disks repointed at the target images
 * whose contents equal the source's at the pause; the source has no definition and no export is left.
 */
export function assertMoved(t: T, lab: Lab, record: MigrationRecord): void {
  assertNeverTwoCopies(t, lab);
  assertEveryDiskJournaled(t, lab, record);
  const target = lab.fake.host(record.targetHost);
  const source = lab.fake.host(record.sourceHost);
  const moved = target.domainByUuid(lab.guest.uuid);
  t.is(moved?.state, 'running', 'the guest does not run on the target');
  t.true(moved?.persistent, 'the target definition is not persistent');
  const xml = readDomainXml(moved?.xml ?? '<domain/>');
  t.is(xml.name, lab.guest.name);
  t.is(xml.uuid, lab.guest.uuid);
  t.deepEqual(
    xml.macs,
    lab.guest.nics.map((nic) => nic.mac),
  );
  for (const disk of job(record).disks) {
    t.is(
      xml.diskPaths.find((d) => d.dev === disk.target)?.path,
      disk.targetPath,
      `${disk.target} not repointed`,
    );
    t.is(
      target.image(disk.targetPath)?.data,
      source.image(disk.sourcePath)?.data,
      `${disk.target}: target copy differs`,
    );
  }
  t.is(source.domainByUuid(lab.guest.uuid), undefined, 'the source still defines the guest');
  t.deepEqual(
    target.liveExports().map((p) => p.exportName),
    [],
    'an export is left on the target',
  );
  for (const nbd of job(record).exports) t.false(target.files.has(nbd.pidFile), `${nbd.pidFile} is left`);
}

/** Armed: the guest runs on the source with a mirror job per disk into a live export; nothing defined on the target. */
export function assertArmed(t: T, lab: Lab, record: MigrationRecord): void {
  assertNeverTwoCopies(t, lab);
  t.is(record.phase, 'armed');
  assertEveryDiskJournaled(t, lab, record);
  const source = lab.fake.host(record.sourceHost).domainByUuid(lab.guest.uuid);
  t.is(source?.state, 'running');
  t.deepEqual(
    [...(source?.jobs.keys() ?? [])].sort(),
    job(record)
      .disks.map((d) => d.target)
      .sort(),
  );
  const target = lab.fake.host(record.targetHost);
  t.is(target.liveExports().length, job(record).disks.length);
  t.is(target.domainByUuid(lab.guest.uuid), undefined);
}
