/**
 * The listr2 view of a drain on stderr: a line per VM with its target, phase and sync progress. Live on a TTY,
 * timestamped lines otherwise, nothing under --json. The drain itself reports through callbacks and never prints.
 */
import { Listr, ListrLogger, PRESET_TIMESTAMP, ProcessOutput } from 'listr2';
import type { ProgressMode } from '../inventory/progress.js';
import type { DrainCallbacks, DrainVmEvent } from './types.js';

interface VmLine {
  task?: { title: string };
  title: string;
  settle: (error?: Error) => void;
  done: Promise<void>;
}

export async function withDrainProgress<T>(
  mode: ProgressMode,
  work: (callbacks: DrainCallbacks) => Promise<T>,
): Promise<T> {
  if (mode === 'silent') return work({});
  const lines = new Map<string, VmLine>();
  let shown: Promise<unknown> | undefined;
  const onStart: DrainCallbacks['onStart'] = (vms) => {
    for (const { vm, target } of vms) lines.set(vm, newLine(title({ vm, target, outcome: 'pending' })));
    shown = view(mode, [...lines.values()]).catch(() => undefined);
  };
  const onVm = (event: DrainVmEvent) => {
    const line = lines.get(event.vm);
    if (!line) return;
    line.title = title(event);
    if (line.task) line.task.title = line.title;
    if (event.outcome === 'armed') line.settle();
    if (event.outcome === 'failed' || event.outcome === 'blocked') line.settle(new Error(line.title));
  };
  try {
    return await work({ onStart, onVm });
  } finally {
    for (const line of lines.values()) line.settle();
    await shown;
  }
}

function newLine(initial: string): VmLine {
  let settle: VmLine['settle'] = () => {};
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  // Settled twice (a failure, then the final cleanup) is harmless: a promise keeps its first outcome.
  return { title: initial, settle, done };
}

function view(mode: 'tty' | 'lines', lines: VmLine[]): Promise<unknown> {
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const listr = new Listr(
    lines.map((line) => ({
      title: line.title,
      task: async (_: unknown, task: { title: string }) => {
        line.task = task;
        task.title = line.title;
        await line.done;
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
  return listr.run();
}

function title(event: DrainVmEvent): string {
  const head = `${event.vm} → ${event.target ?? '(no target)'}`;
  switch (event.outcome) {
    case 'armed':
      return `${head}: armed, moves at its next reboot`;
    case 'blocked':
      return `${head}: blocked, stays`;
    case 'failed':
      return `${head}: failed: ${event.message ?? ''}`;
    case 'pending':
      return `${head}: waiting for a copy slot`;
    default:
      return `${head}: ${event.step ?? 'preparing'}${event.message ? ` ${event.message}` : ''}`;
  }
}
