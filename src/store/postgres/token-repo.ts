import type { PostgresContext } from './context.js';

/** One INSERT that either adds the nonce or does nothing: the primary key makes first use atomic. */
export async function markTokenUsed(ctx: PostgresContext, nonce: string, usedAt: Date): Promise<boolean> {
  const result = await ctx.pool.query(
    'INSERT INTO used_link_tokens (nonce, used_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING',
    [nonce, usedAt.toISOString()],
  );
  return result.rowCount === 1;
}
