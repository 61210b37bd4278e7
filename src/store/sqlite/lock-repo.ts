import { randomUUID } from 'node:crypto';
import { LockedError, LockLostError } from '../errors.js';
import { judgeHolder } from '../lock-staleness.js';
import type { Lock, LockFence, LockHolder, LockOwner } from '../types.js';
import { appendAudit } from './audit-repo.js';
import { type SqliteContext, writeTransaction } from './context.js';
import { holderFromRow, type LockRow } from './rows.js';

export function getLockHolder(ctx: SqliteContext, vmKey: string): LockHolder | undefined {
  const row = ctx.db.prepare('SELECT * FROM locks WHERE vm_key = ?').get(vmKey) as LockRow | undefined;
  return row && holderFromRow(row);
}

export function listLockHolders(ctx: SqliteContext, prefix: string): LockHolder[] {
  const found = ctx.db
    .prepare('SELECT * FROM locks WHERE substr(vm_key, 1, length(?)) = ? ORDER BY vm_key')
    .all(prefix, prefix) as LockRow[];
  return found.map(holderFromRow);
}

/** The token of the VM's lock as it stands, for telling a lost lock from a phase conflict. */
export function lockToken(ctx: SqliteContext, vmKey: string): string | undefined {
  const row = ctx.db.prepare('SELECT token FROM locks WHERE vm_key = ?').get(vmKey) as
    | { token: string }
    | undefined;
  return row?.token;
}

export function acquireLock(ctx: SqliteContext, vmKey: string, owner: LockOwner, ttlMs: number): Lock {
  if (!(ttlMs > 0)) throw new RangeError(`Lock ttl must be positive, got ${ttlMs}`);
  const token = randomUUID();
  const tookOverFrom = writeTransaction(ctx, () => {
    const now = ctx.now();
    const current = getLockHolder(ctx, vmKey);
    if (current) {
      const verdict = judgeHolder(current, { now, localHost: ctx.localHost, isPidAlive: ctx.isPidAlive });
      if (!verdict.stale) throw new LockedError(current);
      appendAudit(ctx, {
        vm: vmKey,
        step: 'lock-takeover',
        outcome: 'info',
        detail: { reason: verdict.reason, previous: current, by: owner },
      });
    }
    ctx.db
      .prepare(
        `INSERT INTO locks (vm_key, token, pid, host, purpose, acquired_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (vm_key) DO UPDATE SET
           token = excluded.token, pid = excluded.pid, host = excluded.host, purpose = excluded.purpose,
           acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
      )
      .run(
        vmKey,
        token,
        owner.pid,
        owner.host,
        owner.purpose,
        now.toISOString(),
        new Date(now.getTime() + ttlMs).toISOString(),
      );
    return current ?? null;
  });
  return new SqliteLock(ctx, vmKey, token, { ...owner }, ttlMs, tookOverFrom);
}

class SqliteLock implements Lock {
  readonly fence: LockFence;

  constructor(
    private readonly ctx: SqliteContext,
    readonly vmKey: string,
    private readonly token: string,
    readonly owner: LockOwner,
    private readonly ttlMs: number,
    readonly tookOverFrom: LockHolder | null,
  ) {
    this.fence = { token };
  }

  async refresh(ttlMs = this.ttlMs): Promise<void> {
    const expiresAt = new Date(this.ctx.now().getTime() + ttlMs).toISOString();
    const result = this.ctx.db
      .prepare('UPDATE locks SET expires_at = ? WHERE vm_key = ? AND token = ?')
      .run(expiresAt, this.vmKey, this.token);
    if (result.changes === 0) throw new LockLostError(this.vmKey, getLockHolder(this.ctx, this.vmKey));
  }

  async release(): Promise<void> {
    this.ctx.db.prepare('DELETE FROM locks WHERE vm_key = ? AND token = ?').run(this.vmKey, this.token);
  }
}
