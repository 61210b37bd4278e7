import type { HostStateChange, HostStateName, HostStateRecord } from '../types.js';
import { type SqliteContext, writeTransaction } from './context.js';
import { type HostStateRow, hostStateFromRow } from './rows.js';

export function listHostStates(ctx: SqliteContext): HostStateRecord[] {
  return (ctx.db.prepare('SELECT * FROM host_states ORDER BY host').all() as HostStateRow[]).map(
    hostStateFromRow,
  );
}

export function getHostState(ctx: SqliteContext, host: string): HostStateRecord | undefined {
  const row = ctx.db.prepare('SELECT * FROM host_states WHERE host = ?').get(host) as
    | HostStateRow
    | undefined;
  return row && hostStateFromRow(row);
}

/** Read and write in one immediate transaction: two processes cordoning at once see one change, not two. */
export function setHostState(
  ctx: SqliteContext,
  host: string,
  state: HostStateName | 'active',
  reason: string | null,
): HostStateChange {
  return writeTransaction(ctx, () => {
    const before = getHostState(ctx, host)?.state ?? 'active';
    if (before === state) return { host, before, after: state, changed: false };
    if (state === 'active') {
      ctx.db.prepare('DELETE FROM host_states WHERE host = ?').run(host);
    } else {
      const at = ctx.now().toISOString();
      ctx.db
        .prepare(
          `INSERT INTO host_states (host, state, reason, since, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (host) DO UPDATE SET state = excluded.state, reason = excluded.reason,
             updated_at = excluded.updated_at`,
        )
        .run(host, state, reason, at, at);
    }
    return { host, before, after: state, changed: true };
  });
}
