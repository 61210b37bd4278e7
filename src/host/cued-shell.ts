import type { ClientChannel } from 'ssh2';
import { quoteArgvOneLine } from './quote.js';

/**
 * A shell on the host that waits for one line naming its command, then becomes that command (`exec`), the rest of
 * its stdin being the command's stdin. EOF before the line: it exits 125 and nothing runs. The line is the argv quoted
 * by quoteArgvOneLine, whose `"$nl"` is the newline defined here. Opening one costs a session channel and sshd's fork
 * (150–450 ms on a busy lab host); running a command in one already open costs a line.
 */
export const CUED_SHELL_ARGV: readonly string[] = [
  'sh',
  '-c',
  `nl='\n'; IFS= read -r line || exit 125; eval "set -- $line"; exec "$@"`,
  'rehome-cued',
];

/** What a cued shell is sent to run argv: its line, then the command's own stdin. */
export function cueFor(argv: readonly string[], stdin: string | Buffer = ''): Buffer {
  return Buffer.concat([Buffer.from(`${quoteArgvOneLine(argv)}\n`), Buffer.from(stdin)]);
}

export type ChannelExit = { code: number | null; signal?: string };

/** An open channel running CUED_SHELL_ARGV; `done` settles when it closes (its end is watched from the open). */
export interface CuedChannel {
  channel: ClientChannel;
  done: Promise<ChannelExit>;
  /** Its shell exited or its channel closed: it can run nothing any more. */
  readonly ended: boolean;
}

/** Watches a channel from its open: its exit status, settled when it closes. */
export function channelDone(channel: ClientChannel): Promise<ChannelExit> {
  return new Promise((resolve) => {
    let code: number | null = null;
    let signal: string | undefined;
    channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
      code = exitCode;
      signal = exitSignal ?? undefined;
    });
    channel.on('close', () => resolve(signal ? { code, signal } : { code }));
  });
}

export function cuedChannel(channel: ClientChannel): CuedChannel {
  let ended = false;
  for (const event of ['exit', 'eof', 'close']) channel.once(event, () => (ended = true));
  return {
    channel,
    done: channelDone(channel),
    get ended() {
      return ended;
    },
  };
}

/** Ends a cued shell that will run nothing (EOF: it exits 125); its channel closes and gives its session back. */
export function releaseCued(cued: CuedChannel): void {
  // Read to the end: a channel closes only once its output is consumed.
  cued.channel.resume();
  cued.channel.stderr.resume();
  cued.channel.end();
}

/** After the last shell taken, how long the pool waits before opening new ones: not in the middle of a burst. */
export const WARM_REFILL_DELAY_MS = 2000;

/**
 * Cued shells kept open on one connection, so that a command at a busy moment (a cutover) does not wait for sshd's
 * fork. `open` must not wait for a session slot (it fails when none is free). The pool refills once no shell has
 * been taken for `refillDelayMs`.
 */
export class WarmShells {
  private readonly idle: CuedChannel[] = [];
  private opening = 0;
  private stopped = false;
  private refillTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly size: number,
    private readonly open: () => Promise<CuedChannel>,
    private readonly refillDelayMs = WARM_REFILL_DELAY_MS,
  ) {}

  /** Opens shells until the pool holds `size` (a failed open is tried again at the next refill). */
  fill(): void {
    while (!this.stopped && this.idle.length + this.opening < this.size) {
      this.opening++;
      this.open().then(
        (cued) => {
          this.opening--;
          if (this.stopped) return releaseCued(cued);
          this.idle.push(cued);
          cued.channel.once('close', () => this.forget(cued));
        },
        () => {
          this.opening--;
        },
      );
    }
  }

  /** An open shell for one command, out of the pool; undefined when none is ready. */
  take(): CuedChannel | undefined {
    let cued = this.idle.shift();
    while (cued?.ended) cued = this.idle.shift();
    if (cued) this.refillLater();
    return cued;
  }

  /** Ends one idle shell so that its session slot goes to a command waiting for one; false when none is idle. */
  releaseOne(): boolean {
    const cued = this.take();
    if (cued) releaseCued(cued);
    return cued !== undefined;
  }

  get idleCount(): number {
    return this.idle.filter((cued) => !cued.ended).length;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.refillTimer);
    for (const cued of this.idle.splice(0)) releaseCued(cued);
  }

  private forget(cued: CuedChannel): void {
    const at = this.idle.indexOf(cued);
    if (at < 0) return;
    this.idle.splice(at, 1);
    this.refillLater();
  }

  private refillLater(): void {
    if (this.stopped) return;
    clearTimeout(this.refillTimer);
    this.refillTimer = setTimeout(() => this.fill(), this.refillDelayMs);
    this.refillTimer.unref();
  }
}
