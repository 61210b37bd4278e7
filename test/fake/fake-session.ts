/**
 * One rehome process as the hosts see it: its connections, and whether it is still alive. A crashed session's calls
 * never answer (the process is gone): a crash at call N, before or after that call takes effect, models `kill -9`
 * at any point of a migration.
 */
export class FakeSession {
  crashed = false;
  calls = 0;
  private crashPoint?: { call: number; when: 'before' | 'after' };
  private failPoint?: { call: number; error: Error };
  private readonly onCrash: (() => void)[] = [];

  constructor(
    readonly label: string,
    /** The pid its locks carry. */
    readonly pid: number,
  ) {}

  /** The call numbered `call` (from 1) hangs: `before` it acts, or `after` it acted and before its answer. */
  crashAtCall(call: number, when: 'before' | 'after'): void {
    this.crashPoint = { call, when };
  }

  /** The call numbered `call` fails with `error` before it acts (libvirtd or ssh said no). */
  failAtCall(call: number, error: Error): void {
    this.failPoint = { call, error };
  }

  crash(): void {
    if (this.crashed) return;
    this.crashed = true;
    for (const listener of this.onCrash) listener();
  }

  whenCrashed(listener: () => void): void {
    this.onCrash.push(listener);
  }

  /**
   * The process stops (SIGSTOP, a long pause) until `resumed` settles: every call it makes from now on, to the hosts
   * or to the store, waits for that first. Calls already past this point finish.
   */
  stallUntil(resumed: Promise<unknown>): void {
    this.stalled = resumed.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Resolves once the process runs (at once unless stalled). */
  running(): Promise<void> {
    return this.stalled;
  }

  private stalled: Promise<void> = Promise.resolve();

  /** Awaited before a call acts; gives the call its number. */
  async enter(): Promise<number> {
    await this.stalled;
    if (this.crashed) return hang();
    const call = ++this.calls;
    if (this.crashPoint?.when === 'before' && call === this.crashPoint.call) {
      this.crash();
      return hang();
    }
    if (this.failPoint?.call === call) throw this.failPoint.error;
    return call;
  }

  /** Awaited after call number `call` acted, before it answers. */
  async leave(call: number): Promise<void> {
    if (this.crashed) return hang();
    if (this.crashPoint?.when === 'after' && call === this.crashPoint.call) {
      this.crash();
      return hang();
    }
  }
}

/** A promise that never settles: what a dead process's pending call looks like. */
export function hang(): Promise<never> {
  return new Promise<never>(() => {});
}
