import { randomUUID } from 'node:crypto';
import { LockedError, LockLostError } from '../errors.js';
import { judgeHolder } from '../lock-staleness.js';
import { holderFromRow, type LockRow } from '../sqlite/rows.js';
import type { Lock, LockFence, LockHolder, LockOwner } from '../types.js';
import { appendAudit } from './audit-repo.js';
import { type PostgresContext, type Queryable, row, rows, transaction } from './context.js';

export async function getLockHolder(
  ctx: PostgresContext,
  vmKey: string,
  db: Queryable = ctx.pool,
): Promise<LockHolder | undefined> {
  const found = await row<LockRow>(db, 'SELECT * FROM locks WHERE vm_key = $1', [vmKey]);
  return found && holderFromRow(found);
}

export async function listLockHolders(ctx: PostgresContext, prefix: string): Promise<LockHolder[]> {
  const found = await rows<LockRow>(
    ctx.pool,
    'SELECT * FROM locks WHERE left(vm_key, length($1)) = $1 ORDER BY vm_key',
    [prefix],
  );
  return found.map(holderFromRow);
}

/** The token of the VM's lock as it stands, for telling a lost lock from a phase conflict. */
export async function lockToken(db: Queryable, vmKey: string): Promise<string | undefined> {
  return (await row<{ token: string }>(db, 'SELECT token FROM locks WHERE vm_key = $1', [vmKey]))?.token;
}

/**
 * Inserts the lock, or, when a row exists, locks it (FOR UPDATE) and takes it over only if its holder is stale. Two
 * acquirers racing on a free key meet at the primary key: the second one's insert waits for the first and then finds
 * its row.
 */
export async function acquireLock(
  ctx: PostgresContext,
  vmKey: string,
  owner: LockOwner,
  ttlMs: number,
): Promise<Lock> {
  if (!(ttlMs > 0)) throw new RangeError(`Lock ttl must be positive, got ${ttlMs}`);
  const token = randomUUID();
  const tookOverFrom = await transaction(ctx, async (db) => {
    const now = ctx.now();
    const values = [
      vmKey,
      token,
      owner.pid,
      owner.host,
      owner.purpose,
      now.toISOString(),
      new Date(now.getTime() + ttlMs).toISOString(),
    ];
    for (;;) {
      const inserted = await db.query(
        `INSERT INTO locks (vm_key, token, pid, host, purpose, acquired_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (vm_key) DO NOTHING`,
        values,
      );
      if (inserted.rowCount === 1) return null;
      const found = await row<LockRow>(db, 'SELECT * FROM locks WHERE vm_key = $1 FOR UPDATE', [vmKey]);
      if (!found) continue; // released in between: insert again
      const current = holderFromRow(found);
      const verdict = judgeHolder(current, { now, localHost: ctx.localHost, isPidAlive: ctx.isPidAlive });
      if (!verdict.stale) throw new LockedError(current);
      await appendAudit(ctx, db, {
        vm: vmKey,
        step: 'lock-takeover',
        outcome: 'info',
        detail: { reason: verdict.reason, previous: current, by: owner },
      });
      await db.query(
        `UPDATE locks SET token = $2, pid = $3, host = $4, purpose = $5, acquired_at = $6, expires_at = $7
         WHERE vm_key = $1`,
        values,
      );
      return current;
    }
  });
  return new PostgresLock(ctx, vmKey, token, { ...owner }, ttlMs, tookOverFrom);
}

class PostgresLock implements Lock {
  readonly fence: LockFence;

  constructor(
    private readonly ctx: PostgresContext,
    readonly vmKey: string,
    token: string,
    readonly owner: LockOwner,
    private readonly ttlMs: number,
    readonly tookOverFrom: LockHolder | null,
  ) {
    this.fence = { token };
  }

  async refresh(ttlMs = this.ttlMs): Promise<void> {
    const expiresAt = new Date(this.ctx.now().getTime() + ttlMs).toISOString();
    const result = await this.ctx.pool.query(
      'UPDATE locks SET expires_at = $1 WHERE vm_key = $2 AND token = $3',
      [expiresAt, this.vmKey, this.fence.token],
    );
    if (result.rowCount === 0) throw new LockLostError(this.vmKey, await getLockHolder(this.ctx, this.vmKey));
  }

  async release(): Promise<void> {
    await this.ctx.pool.query('DELETE FROM locks WHERE vm_key = $1 AND token = $2', [
      this.vmKey,
      this.fence.token,
    ]);
  }
}
