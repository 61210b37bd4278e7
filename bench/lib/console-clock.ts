/**
 * Timestamps a guest's console output as it appears: polls the console log file (from the root namespace) every few
 * milliseconds and records each new line with the time it was first seen. QEMU writes serial output to the log as
 * the guest emits it, so this is the guest's own clock to within the poll interval.
 */
import { open } from 'node:fs/promises';

export interface TimedLine {
  at: number;
  text: string;
}

export class ConsoleClock {
  readonly lines: TimedLine[] = [];
  /** When the first byte past the start offset was seen. */
  firstByteAt: number | undefined;
  private offset: number;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  private constructor(
    private readonly file: string,
    offset: number,
    private readonly intervalMs: number,
  ) {
    this.offset = offset;
  }

  /** Starts watching from the file's current end (or from 0 if it does not exist yet). */
  static async start(file: string, intervalMs = 5): Promise<ConsoleClock> {
    const size = await sizeOf(file);
    const clock = new ConsoleClock(file, size, intervalMs);
    clock.timer = setInterval(() => void clock.poll(), intervalMs);
    return clock;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const handle = await open(this.file, 'r').catch(() => undefined);
      if (!handle) return;
      try {
        const { size } = await handle.stat();
        if (size <= this.offset) return;
        const at = Date.now();
        this.firstByteAt ??= at;
        const buffer = Buffer.alloc(size - this.offset);
        await handle.read(buffer, 0, buffer.length, this.offset);
        this.offset = size;
        const text = this.partial + buffer.toString('latin1');
        const parts = text.split('\n');
        this.partial = parts.pop() ?? '';
        for (const line of parts) this.lines.push({ at, text: line.replace(/\r$/, '') });
      } finally {
        await handle.close();
      }
    } finally {
      this.reading = false;
    }
  }

  find(pattern: RegExp): TimedLine | undefined {
    return this.lines.find((line) => pattern.test(line.text));
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<TimedLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.find(pattern);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no console line ${pattern} in ${this.file} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}

async function sizeOf(file: string): Promise<number> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return 0;
  try {
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}
