import type { SqliteContext } from './context.js';

/** One INSERT that either adds the nonce or does nothing: the primary key makes first use atomic. */
export function markTokenUsed(ctx: SqliteContext, nonce: string, usedAt: Date): boolean {
  const result = ctx.db
    .prepare('INSERT INTO used_link_tokens (nonce, used_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING')
    .run(nonce, usedAt.toISOString());
  return result.changes === 1;
}
