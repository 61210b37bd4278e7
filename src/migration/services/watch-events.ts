/**
 * What `rehome watch` tells the world: one typed event per thing that happened (for `--json` lines and metrics), and
 * a snapshot of what it watches (for `/metrics` gauges and `/healthz`). The Watcher calls these hooks at each point;
 * they diff the store's records between refreshes, so an event is emitted once per change.
 */
import type { MigrationRecord } from '../../store/types.js';
import type { MigrationJob, ProgressEvent } from '../types.js';
import type { CutoverOutcome } from './cutover.js';
import type { ReconcileEntry } from './reconcile.js';
import type { WatchSummary } from './watch.js';

export type WatchEvent =
  /** Once, after the first read of the store: what is watched. */
  | { event: 'started'; hosts: string[]; armed: number }
  /** A VM newly armed (or armed again after its mirror came back). */
  | { event: 'armed'; vm: string; host: string; target: string; deadline: string | null }
  | { event: 'reboot-caught'; vm: string; host: string }
  | { event: 'paused'; vm: string; latencyMs: number; verdict: 'cutover' | 'boot-in-place' }
  | { event: 'converged'; vm: string }
  | { event: 'target-started'; vm: string }
  /** `durationMs`: from the reboot event (or the start of the pass that finished it) to the outcome. */
  | { event: 'done' | 'rolled-back' | 'failed'; vm: string; durationMs?: number; error?: string }
  /** A step failed (a cutover's, a reconcile's). */
  | { event: 'step-failed'; vm: string; step: string; error: string }
  | { event: 'mirror-lost'; vm: string; host: string }
  | { event: 'connected' | 'reconnected'; host: string }
  | { event: 'connection-lost'; host: string; error?: string }
  /** The last one, when watch stops: what it did. */
  | ({ event: 'stopped' } & WatchSummary);

/** Every event carries its time (ISO-8601 UTC). */
export type TimedWatchEvent = WatchEvent & { at: string };

export interface WatchedMigration {
  vm: string;
  host: string;
  target: string;
  phase: string;
  /** Bytes the mirror still has to copy, from its last reading; 0 when unknown. */
  bytesLeft: number;
}

export interface WatchSnapshot {
  /** Hosts with a migration watch needs (their libvirt event connection), and whether it is up. */
  hosts: { host: string; connected: boolean }[];
  migrations: WatchedMigration[];
  /** False when the last read of the store failed. */
  storeOk: boolean;
  /** ISO-8601 UTC of the last successful read of the store; null before the first. */
  refreshedAt: string | null;
}

/** The converge and start-target steps, from the engine's progress events; a step's error, whoever runs it. */
export function watchEventFromProgress(progress: ProgressEvent): WatchEvent | undefined {
  if (progress.status === 'done' && progress.step === 'converge')
    return { event: 'converged', vm: progress.vm };
  if (progress.status === 'done' && progress.step === 'start-target')
    return { event: 'target-started', vm: progress.vm };
  if (progress.status === 'error')
    return { event: 'step-failed', vm: progress.vm, step: progress.step, error: progress.message ?? '' };
  return undefined;
}

const OUTCOME_PHASES = new Set(['done', 'rolled-back', 'failed']);

/** The Watcher's hooks. */
export class WatchTelemetry {
  private phases = new Map<string, string>();
  private started = false;
  private records: MigrationRecord[] = [];
  private connected = new Set<string>();
  private everConnected = new Set<string>();
  private storeOk = true;
  private refreshedAt: string | null = null;
  private watchedHosts: string[] = [];

  constructor(
    private readonly emit: (event: WatchEvent) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** After each read of the armed, mirroring and mirror-lost migrations; `hosts`: those this replica watches. */
  refreshed(records: readonly MigrationRecord[], hosts: readonly string[]): void {
    this.storeOk = true;
    this.refreshedAt = new Date(this.now()).toISOString();
    this.records = [...records];
    this.watchedHosts = [...hosts].sort();
    const armed = records.filter((record) => record.phase === 'armed');
    if (!this.started) {
      this.started = true;
      this.emit({
        event: 'started',
        hosts: this.watchedHosts,
        armed: armed.length,
      });
    } else {
      for (const record of records) {
        const before = this.phases.get(record.id);
        if (before === record.phase) continue;
        if (record.phase === 'armed') this.emit(armedEvent(record));
        if (record.phase === 'mirror-lost')
          this.emit({ event: 'mirror-lost', vm: record.vmName, host: record.sourceHost });
      }
    }
    this.phases = new Map(records.map((record) => [record.id, record.phase]));
  }

  refreshFailed(): void {
    this.storeOk = false;
  }

  connectionUp(host: string): void {
    this.connected.add(host);
    this.emit({ event: this.everConnected.has(host) ? 'reconnected' : 'connected', host });
    this.everConnected.add(host);
  }

  connectionLost(host: string, error?: Error | null): void {
    this.connected.delete(host);
    this.emit({ event: 'connection-lost', host, ...(error ? { error: error.message } : {}) });
  }

  rebootCaught(record: MigrationRecord): void {
    this.emit({ event: 'reboot-caught', vm: record.vmName, host: record.sourceHost });
  }

  paused(record: MigrationRecord, verdict: { kind: 'cutover' | 'boot-in-place'; latencyMs: number }): void {
    this.emit({ event: 'paused', vm: record.vmName, latencyMs: verdict.latencyMs, verdict: verdict.kind });
  }

  outcome(record: MigrationRecord, outcome: CutoverOutcome, since: number, error?: string | null): void {
    this.phases.set(record.id, outcome);
    this.emit({
      event: outcome,
      vm: record.vmName,
      durationMs: this.now() - since,
      ...(error ? { error } : {}),
    });
  }

  /** A reconcile pass's entries: cutovers it finished or rolled back, mirrors it found lost or brought back. */
  reconciled(entries: readonly ReconcileEntry[], since: number): void {
    for (const entry of entries) {
      if (entry.phaseAfter === entry.phaseBefore || this.phases.get(entry.id) === entry.phaseAfter) continue;
      this.phases.set(entry.id, entry.phaseAfter);
      if (OUTCOME_PHASES.has(entry.phaseAfter))
        this.emit({
          event: entry.phaseAfter as CutoverOutcome,
          vm: entry.vm,
          durationMs: this.now() - since,
          ...(entry.phaseAfter === 'done' ? {} : { error: entry.reason }),
        });
      else if (entry.phaseAfter === 'mirror-lost') {
        const host = this.records.find((record) => record.id === entry.id)?.sourceHost ?? '';
        this.emit({ event: 'mirror-lost', vm: entry.vm, host });
      } else if (entry.phaseAfter === 'armed') {
        const record = this.records.find((candidate) => candidate.id === entry.id);
        if (record) this.emit(armedEvent(record));
      }
    }
  }

  snapshot(): WatchSnapshot {
    return {
      hosts: this.watchedHosts.map((host) => ({ host, connected: this.connected.has(host) })),
      migrations: this.records.map((record) => {
        const progress = (record.job as Partial<MigrationJob>).progress;
        return {
          vm: record.vmName,
          host: record.sourceHost,
          target: record.targetHost,
          phase: record.phase,
          bytesLeft: progress ? Math.max(0, progress.end - progress.cur) : 0,
        };
      }),
      storeOk: this.storeOk,
      refreshedAt: this.refreshedAt,
    };
  }
}

function armedEvent(record: MigrationRecord): WatchEvent {
  return {
    event: 'armed',
    vm: record.vmName,
    host: record.sourceHost,
    target: record.targetHost,
    deadline: record.deadline,
  };
}
