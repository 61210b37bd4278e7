import type { Phase } from '../phases.js';
import type {
  AuditEntry,
  AuditFilter,
  DeliveryRecord,
  DrainPatch,
  DrainRecord,
  DrainVmPatch,
  DrainVmRecord,
  HostStateChange,
  HostStateName,
  HostStateRecord,
  Lock,
  LockFence,
  LockHolder,
  LockOwner,
  MigrationFilter,
  MigrationPatch,
  MigrationRecord,
  NewAuditEntry,
  NewDelivery,
  NewDrain,
  NewMigration,
  Store,
} from '../types.js';
import * as audit from './audit-repo.js';
import type { PostgresContext } from './context.js';
import * as deliveries from './delivery-repo.js';
import * as drains from './drain-repo.js';
import * as hostStates from './host-state-repo.js';
import * as locks from './lock-repo.js';
import * as migrations from './migration-repo.js';
import * as tokens from './token-repo.js';

/** The Store over a node-postgres pool: every method is one statement or one transaction on one pooled client. */
export class PostgresStore implements Store {
  private closed = false;

  constructor(private readonly ctx: PostgresContext) {}

  async createMigration(input: NewMigration): Promise<MigrationRecord> {
    return migrations.createMigration(this.ctx, input);
  }

  async getMigration(id: string): Promise<MigrationRecord | undefined> {
    return migrations.getMigration(this.ctx, id);
  }

  async getActiveMigration(vmUuid: string): Promise<MigrationRecord | undefined> {
    return migrations.getActiveMigration(this.ctx, vmUuid);
  }

  async listMigrations(filter?: MigrationFilter): Promise<MigrationRecord[]> {
    return migrations.listMigrations(this.ctx, filter);
  }

  async updatePhase(
    id: string,
    from: Phase,
    to: Phase,
    patch?: MigrationPatch,
    fence?: LockFence,
  ): Promise<MigrationRecord> {
    return migrations.updatePhase(this.ctx, id, from, to, patch, fence);
  }

  async updateDetails(
    id: string,
    expectedPhase: Phase,
    patch: MigrationPatch,
    fence?: LockFence,
  ): Promise<MigrationRecord> {
    return migrations.updateDetails(this.ctx, id, expectedPhase, patch, fence);
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return audit.appendAudit(this.ctx, this.ctx.pool, entry);
  }

  async listAudit(filter?: AuditFilter): Promise<AuditEntry[]> {
    return audit.listAudit(this.ctx, filter);
  }

  async acquireLock(vmKey: string, owner: LockOwner, ttlMs: number): Promise<Lock> {
    return locks.acquireLock(this.ctx, vmKey, owner, ttlMs);
  }

  async getLockHolder(vmKey: string): Promise<LockHolder | undefined> {
    return locks.getLockHolder(this.ctx, vmKey);
  }

  async listLockHolders(prefix: string): Promise<LockHolder[]> {
    return locks.listLockHolders(this.ctx, prefix);
  }

  async enqueueDelivery(input: NewDelivery): Promise<DeliveryRecord> {
    return deliveries.enqueueDelivery(this.ctx, input);
  }

  async listDueDeliveries(now = this.ctx.now(), limit = 100): Promise<DeliveryRecord[]> {
    return deliveries.listDueDeliveries(this.ctx, now, limit);
  }

  async listDeliveries(migrationId: string): Promise<DeliveryRecord[]> {
    return deliveries.listDeliveries(this.ctx, migrationId);
  }

  async markDeliverySent(id: string): Promise<DeliveryRecord> {
    return deliveries.markDeliverySent(this.ctx, id);
  }

  async markDeliveryFailed(id: string, error: string, retryAt?: Date | null): Promise<DeliveryRecord> {
    return deliveries.markDeliveryFailed(this.ctx, id, error, retryAt ?? null);
  }

  async markTokenUsed(nonce: string, usedAt = this.ctx.now()): Promise<boolean> {
    return tokens.markTokenUsed(this.ctx, nonce, usedAt);
  }

  async listHostStates(): Promise<HostStateRecord[]> {
    return hostStates.listHostStates(this.ctx);
  }

  async getHostState(host: string): Promise<HostStateRecord | undefined> {
    return hostStates.getHostState(this.ctx, host);
  }

  async setHostState(
    host: string,
    state: HostStateName | 'active',
    reason: string | null = null,
  ): Promise<HostStateChange> {
    return hostStates.setHostState(this.ctx, host, state, reason);
  }

  async createDrain(input: NewDrain): Promise<DrainRecord> {
    return drains.createDrain(this.ctx, input);
  }

  async getDrain(id: string): Promise<DrainRecord | undefined> {
    return drains.getDrain(this.ctx, id);
  }

  async listDrains(filter?: { host?: string }): Promise<DrainRecord[]> {
    return drains.listDrains(this.ctx, filter);
  }

  async updateDrain(id: string, patch: DrainPatch): Promise<DrainRecord> {
    return drains.updateDrain(this.ctx, id, patch);
  }

  async updateDrainVm(drainId: string, vmUuid: string, patch: DrainVmPatch): Promise<DrainVmRecord> {
    return drains.updateDrainVm(this.ctx, drainId, vmUuid, patch);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.ctx.pool.end();
    }
  }
}
