import type { LibvirtClient } from '../../libvirt/client.js';
import type { DomainRef } from '../../libvirt/protocol/types.js';
import type { Phase } from '../../store/phases.js';
import type { AuditOutcome, LockFence, MigrationPatch, MigrationRecord, Store } from '../../store/types.js';
import type { MigrationSettings } from '../settings.js';
import type { HostsPort, MigrationJob, NoticesPort, ProgressSink } from '../types.js';

export interface TargetHostInfo {
  name: string;
  imageDir: string;
}

/**
 * The VM's lock as the engine sees it: the fence every phase write carries, a signal that aborts when the lock is
 * lost, and confirm(), which extends the lease now and throws the LockLostError if it is gone.
 */
export interface LockGuard {
  readonly fence: LockFence;
  readonly signal: AbortSignal;
  confirm(): Promise<void>;
}

/** One migration being worked on: its record (kept current), the hosts, and where progress goes. */
export class MigrationContext {
  constructor(
    public record: MigrationRecord,
    readonly store: Store,
    readonly hosts: HostsPort,
    readonly settings: MigrationSettings & { certDir: string },
    readonly target: TargetHostInfo,
    readonly progress: ProgressSink = () => {},
    /** The owners' notices; absent when none are configured. */
    readonly notices?: NoticesPort,
    /** The VM's lock, when held: phase writes are fenced by it and steps stop once it is lost. */
    readonly guard?: LockGuard,
  ) {}

  get job(): MigrationJob {
    const job = this.record.job as Partial<MigrationJob>;
    return { disks: [], exports: [], mode: 'background', ...job } as MigrationJob;
  }

  /** The domain handle; libvirt finds it by UUID, on either host. */
  get domain(): DomainRef {
    return { name: this.record.vmName, uuid: this.record.vmUuid, id: -1 };
  }

  source(): Promise<LibvirtClient> {
    return this.hosts.libvirt(this.record.sourceHost);
  }

  targetClient(): Promise<LibvirtClient> {
    return this.hosts.libvirt(this.record.targetHost);
  }

  /**
   * Writes a change to the job. `update` may be a function of the job as it stands when the write runs: concurrent
   * steps (see `concurrently`) each add to the same job, and their writes are queued one after the other, so that
   * none is lost and each sees the phase the one before it left.
   */
  patchJob(
    update: Partial<MigrationJob> | ((job: MigrationJob) => Partial<MigrationJob>),
    patch: MigrationPatch = {},
  ): Promise<void> {
    return this.serially(async () => {
      const change = typeof update === 'function' ? update(this.job) : update;
      this.record = await this.store.updateDetails(
        this.record.id,
        this.record.phase,
        { ...patch, job: { ...this.job, ...change } },
        this.guard?.fence,
      );
    });
  }

  moveTo(phase: Phase, patch: MigrationPatch = {}): Promise<void> {
    return this.serially(async () => {
      if (this.record.phase === phase) return;
      this.record = await this.store.updatePhase(
        this.record.id,
        this.record.phase,
        phase,
        patch,
        this.guard?.fence,
      );
    });
  }

  private writes: Promise<unknown> = Promise.resolve();

  private serially(write: () => Promise<void>): Promise<void> {
    const next = this.writes.then(write, write);
    this.writes = next.catch(() => undefined);
    return next;
  }

  /** Between steps: goes on only while the lock is held (extends the lease); throws LockLostError otherwise. */
  async confirmLock(): Promise<void> {
    await this.guard?.confirm();
  }

  async audit(step: string, outcome: AuditOutcome, detail: Record<string, unknown> = {}): Promise<void> {
    await this.store.appendAudit({
      migrationId: this.record.id,
      vm: this.record.vmUuid,
      step,
      outcome,
      detail,
    });
  }

  note(step: string, message: string): void {
    this.progress({ vm: this.record.vmName, step, status: 'info', message });
  }
}
