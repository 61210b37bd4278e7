import { randomUUID } from 'node:crypto';
import { type DrainRow, type DrainVmRow, drainFromRows, vmFromRow } from '../sqlite/drain-repo.js';
import { toIsoUtc } from '../time.js';
import type { DrainPatch, DrainRecord, DrainVmPatch, DrainVmRecord, NewDrain } from '../types.js';
import { type PostgresContext, row, rows, transaction } from './context.js';

async function withVms(ctx: PostgresContext, drains: DrainRow[]): Promise<DrainRecord[]> {
  if (drains.length === 0) return [];
  const vms = await rows<DrainVmRow>(
    ctx.pool,
    'SELECT * FROM drain_vms WHERE drain_id = ANY($1) ORDER BY drain_id, position',
    [drains.map((drain) => drain.id)],
  );
  return drains.map((drain) =>
    drainFromRows(
      drain,
      vms.filter((vm) => vm.drain_id === drain.id),
    ),
  );
}

export async function createDrain(ctx: PostgresContext, input: NewDrain): Promise<DrainRecord> {
  const id = input.id ?? randomUUID();
  await transaction(ctx, async (db) => {
    const at = ctx.now().toISOString();
    await db.query(
      `INSERT INTO drains (id, host, deadline, concurrency, bandwidth_bytes_per_sec, status, started_at)
       VALUES ($1, $2, $3, $4, $5, 'running', $6)`,
      [
        id,
        input.host,
        input.deadline ? toIsoUtc(input.deadline) : null,
        input.concurrency,
        input.bandwidthBytesPerSec ?? null,
        at,
      ],
    );
    if (input.vms.length === 0) return;
    await db.query(
      `INSERT INTO drain_vms (drain_id, vm_uuid, vm_name, position, target_host, outcome, detail, updated_at)
       SELECT $1, vm.uuid, vm.name, vm.position - 1, vm.target, vm.outcome, vm.detail, $2
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY
         AS vm (uuid, name, target, outcome, detail, position)`,
      [
        id,
        at,
        input.vms.map((vm) => vm.vmUuid),
        input.vms.map((vm) => vm.vmName),
        input.vms.map((vm) => vm.targetHost),
        input.vms.map((vm) => vm.outcome),
        input.vms.map((vm) => vm.detail ?? null),
      ],
    );
  });
  return mustGet(ctx, id);
}

export async function getDrain(ctx: PostgresContext, id: string): Promise<DrainRecord | undefined> {
  const found = await rows<DrainRow>(ctx.pool, 'SELECT * FROM drains WHERE id = $1', [id]);
  return (await withVms(ctx, found))[0];
}

export async function listDrains(
  ctx: PostgresContext,
  filter: { host?: string } = {},
): Promise<DrainRecord[]> {
  const found =
    filter.host === undefined
      ? await rows<DrainRow>(ctx.pool, 'SELECT * FROM drains ORDER BY started_at, seq')
      : await rows<DrainRow>(ctx.pool, 'SELECT * FROM drains WHERE host = $1 ORDER BY started_at, seq', [
          filter.host,
        ]);
  return withVms(ctx, found);
}

export async function updateDrain(ctx: PostgresContext, id: string, patch: DrainPatch): Promise<DrainRecord> {
  const columns: Record<string, string | null> = {};
  if (patch.status !== undefined) columns.status = patch.status;
  if (patch.finishedAt !== undefined) columns.finished_at = patch.finishedAt && toIsoUtc(patch.finishedAt);
  if (patch.lastError !== undefined) columns.last_error = patch.lastError;
  const names = Object.keys(columns);
  if (names.length > 0) {
    const result = await ctx.pool.query(
      `UPDATE drains SET ${names.map((name, i) => `${name} = $${i + 2}`).join(', ')} WHERE id = $1`,
      [id, ...Object.values(columns)],
    );
    if (result.rowCount === 0) throw new Error(`no drain ${id}`);
  }
  return mustGet(ctx, id);
}

export async function updateDrainVm(
  ctx: PostgresContext,
  drainId: string,
  vmUuid: string,
  patch: DrainVmPatch,
): Promise<DrainVmRecord> {
  const columns: Record<string, string | null> = { updated_at: ctx.now().toISOString() };
  if (patch.outcome !== undefined) columns.outcome = patch.outcome;
  if (patch.migrationId !== undefined) columns.migration_id = patch.migrationId;
  if (patch.detail !== undefined) columns.detail = patch.detail;
  const names = Object.keys(columns);
  const found = await row<DrainVmRow>(
    ctx.pool,
    `UPDATE drain_vms SET ${names.map((name, i) => `${name} = $${i + 3}`).join(', ')}
     WHERE drain_id = $1 AND vm_uuid = $2 RETURNING *`,
    [drainId, vmUuid, ...Object.values(columns)],
  );
  if (!found) throw new Error(`no VM ${vmUuid} in drain ${drainId}`);
  return vmFromRow(found);
}

async function mustGet(ctx: PostgresContext, id: string): Promise<DrainRecord> {
  const drain = await getDrain(ctx, id);
  if (!drain) throw new Error(`drain ${id} vanished`);
  return drain;
}
