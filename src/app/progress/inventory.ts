/** Inventory progress on stderr: a line per host, from "reading" to its domain count or its failure. */

import type { InventoryCallbacks } from '../../inventory/types.js';
import { ProgressLines, type ProgressMode } from './lines.js';

export async function withInventoryProgress<T>(
  hosts: readonly string[],
  mode: ProgressMode,
  work: (callbacks: InventoryCallbacks) => Promise<T>,
): Promise<T> {
  if (mode === 'silent') return work({});
  const lines = new ProgressLines(
    mode,
    hosts.map((host) => ({ key: host, title: `${host}: reading` })),
  );
  try {
    return await work({
      onHostDone: (result) => {
        if (!result.ok) return lines.fail(result.name, `${result.name}: ${result.error.message}`);
        const count = result.domains.length;
        lines.succeed(
          result.name,
          `${result.name}: ${count} domain${count === 1 ? '' : 's'} in ${result.elapsedMs} ms`,
        );
      },
    });
  } finally {
    // Hosts that never reported (work threw) must not keep the renderer waiting, nor look read.
    for (const host of hosts) lines.fail(host, `${host}: inventory aborted`);
    await lines.close();
  }
}
