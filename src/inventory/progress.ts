/**
 * listr2 progress for an inventory run, on stderr only: the live renderer on a TTY, timestamped lines otherwise (cron,
 * pipes), nothing under --json. The inventory itself reports through callbacks and never prints.
 */
import { Listr, ListrLogger, PRESET_TIMESTAMP, ProcessOutput } from 'listr2';
import type { HostInventory, InventoryCallbacks } from './types.js';

export type ProgressMode = 'tty' | 'lines' | 'silent';

export function progressMode(options: { json: boolean; isTty: boolean }): ProgressMode {
  if (options.json) return 'silent';
  return options.isTty ? 'tty' : 'lines';
}

export async function withInventoryProgress<T>(
  hosts: readonly string[],
  mode: ProgressMode,
  work: (callbacks: InventoryCallbacks) => Promise<T>,
): Promise<T> {
  if (mode === 'silent') return work({});
  const done = new Map<string, (result: HostInventory) => void>();
  const results = new Map(
    hosts.map((host) => [host, new Promise<HostInventory>((resolve) => done.set(host, resolve))]),
  );
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const listr = new Listr(
    hosts.map((host) => ({
      title: `${host}: reading`,
      task: async (_: unknown, task: { title: string }) => {
        const result = await results.get(host);
        if (!result) return;
        if (!result.ok) throw new Error(`${host}: ${result.error.message}`);
        const count = result.domains.length;
        task.title = `${host}: ${count} domain${count === 1 ? '' : 's'} in ${result.elapsedMs} ms`;
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      // The live renderer looks at stdout; ours draws on stderr, which is the terminal that matters here.
      forceTTY: mode === 'tty',
      renderer: mode === 'tty' ? 'default' : 'simple',
      rendererOptions: { logger: new ListrLogger({ processOutput }) },
      fallbackRenderer: 'simple',
      fallbackRendererOptions: { timestamp: PRESET_TIMESTAMP, logger: new ListrLogger({ processOutput }) },
      fallbackRendererCondition: mode === 'lines',
    },
  );
  const shown = listr.run().catch(() => undefined);
  try {
    return await work({ onHostDone: (result) => done.get(result.name)?.(result) });
  } finally {
    // Hosts that never reported (work threw) must not keep the renderer waiting.
    for (const host of hosts) done.get(host)?.({ name: host, ok: false, error: aborted(), elapsedMs: 0 });
    await shown;
  }
}

function aborted(): Extract<HostInventory, { ok: false }>['error'] {
  return { message: 'inventory aborted', kind: 'unexpected', exitCode: 1, suggestions: [] };
}
