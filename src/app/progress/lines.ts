/**
 * Progress on stderr for the long commands (inventory, plan, drain, migrate): one listr2 line per item whose title
 * changes as work goes on. The live renderer on a TTY, timestamped lines otherwise (cron, pipes), nothing under
 * --json. Domain code never prints: it reports through callbacks that move these lines.
 */
import { Listr, ListrLogger, PRESET_TIMESTAMP, ProcessOutput } from 'listr2';

export { type ProgressMode, progressMode } from './mode.js';

interface Line {
  task?: { title: string };
  title: string;
  settled: boolean;
  settle: (error?: Error) => void;
  done: Promise<void>;
}

export class ProgressLines {
  private readonly lines = new Map<string, Line>();
  private readonly shown: Promise<unknown>;

  /** Starts rendering one line per entry, in the given order. */
  constructor(mode: 'tty' | 'lines', entries: readonly { key: string; title: string }[]) {
    for (const { key, title } of entries) this.lines.set(key, newLine(title));
    this.shown = render(mode, [...this.lines.values()]).catch(() => undefined);
  }

  title(key: string, title: string): void {
    const line = this.lines.get(key);
    if (!line || line.settled) return;
    line.title = title;
    if (line.task) line.task.title = title;
  }

  succeed(key: string, title?: string): void {
    if (title !== undefined) this.title(key, title);
    this.lines.get(key)?.settle();
  }

  /** Marks the line failed: it keeps its title (where it stopped) and shows `message`. A settled line keeps its outcome. */
  fail(key: string, message: string): void {
    this.lines.get(key)?.settle(new Error(message));
  }

  /** Settles every open line as done and waits for the renderer to finish. */
  async close(): Promise<void> {
    for (const line of this.lines.values()) line.settle();
    await this.shown;
  }
}

function newLine(title: string): Line {
  const line = { title, settled: false } as Line;
  line.done = new Promise<void>((resolve, reject) => {
    line.settle = (error) => {
      if (line.settled) return;
      line.settled = true;
      if (error) reject(error);
      else resolve();
    };
  });
  // A failed line is reported by the renderer; the rejection must not also surface as unhandled.
  line.done.catch(() => undefined);
  return line;
}

function render(mode: 'tty' | 'lines', lines: Line[]): Promise<unknown> {
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
