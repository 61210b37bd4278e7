import type { SetOwnerResult } from '../../notify/owner-set.js';

export function formatOwnerSet(result: SetOwnerResult): string {
  const zone = result.owner.timeZone ? ` (${result.owner.timeZone})` : '';
  return `Owner of ${result.vm} on ${result.host}: ${result.owner.address}${zone} [${result.applied.join(', ')}]`;
}
