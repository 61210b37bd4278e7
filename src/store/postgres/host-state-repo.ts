import { type HostStateRow, hostStateFromRow } from '../sqlite/rows.js';
import type { HostStateChange, HostStateName, HostStateRecord } from '../types.js';
import { type PostgresContext, row, rows, transaction } from './context.js';

export async function listHostStates(ctx: PostgresContext): Promise<HostStateRecord[]> {
  return (await rows<HostStateRow>(ctx.pool, 'SELECT * FROM host_states ORDER BY host')).map(
    hostStateFromRow,
  );
}

export async function getHostState(ctx: PostgresContext, host: string): Promise<HostStateRecord | undefined> {
  const found = await row<HostStateRow>(ctx.pool, 'SELECT * FROM host_states WHERE host = $1', [host]);
  return found && hostStateFromRow(found);
}

/**
 * Serialised per host by a transaction-scoped advisory lock on the host's name (the row may not exist yet, so a row
 * lock cannot do it): two processes cordoning at once see one change, not two.
 */
export async function setHostState(
  ctx: PostgresContext,
  host: string,
  state: HostStateName | 'active',
  reason: string | null,
): Promise<HostStateChange> {
  return transaction(ctx, async (db) => {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('host_states:' || $1))", [host]);
    const current = await row<HostStateRow>(db, 'SELECT * FROM host_states WHERE host = $1', [host]);
    const before = current?.state ?? 'active';
    if (before === state) return { host, before, after: state, changed: false };
    if (state === 'active') {
      await db.query('DELETE FROM host_states WHERE host = $1', [host]);
    } else {
      const at = ctx.now().toISOString();
      await db.query(
        `INSERT INTO host_states (host, state, reason, since, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (host) DO UPDATE SET state = excluded.state, reason = excluded.reason,
           updated_at = excluded.updated_at`,
        [host, state, reason, at, at],
      );
    }
    return { host, before, after: state, changed: true };
  });
}
