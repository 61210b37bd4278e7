/**
 * Failures on demand: the next call of `op` (a libvirt method or a shell command's argv[0]) on a host fails, or the
 * first after `after` calls that went through.
 */
export interface PlannedFailure {
  op: string;
  host?: string;
  error: Error;
  /** How many more calls fail. */
  times: number;
  /** How many matching calls still go through before the first one fails. */
  after: number;
}

export class Failures {
  private readonly planned: PlannedFailure[] = [];

  add(op: string, error: Error, options: { host?: string; times?: number; after?: number } = {}): void {
    this.planned.push({
      op,
      error,
      times: options.times ?? 1,
      after: options.after ?? 0,
      ...(options.host ? { host: options.host } : {}),
    });
  }

  /** The planned failure for this call, consumed; undefined when the call goes through. */
  take(host: string, op: string): Error | undefined {
    const index = this.planned.findIndex((f) => f.op === op && (f.host === undefined || f.host === host));
    const found = this.planned[index];
    if (!found) return undefined;
    if (found.after > 0) {
      found.after--;
      return undefined;
    }
    found.times--;
    if (found.times <= 0) this.planned.splice(index, 1);
    return found.error;
  }

  get pending(): readonly PlannedFailure[] {
    return this.planned;
  }
}
