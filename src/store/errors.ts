import { RehomeError } from '../errors.js';
import type { Phase } from './phases.js';
import type { LockHolder } from './types.js';

export function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} on ${holder.host} since ${holder.since} (${holder.purpose})`;
}

/** Another rehome process holds the VM. */
export class LockedError extends RehomeError {
  readonly holder: LockHolder;

  constructor(holder: LockHolder) {
    super(`VM ${holder.vmKey} is locked by ${describeHolder(holder)}`, 'locked', [
      'Wait for that process to finish, then try again.',
      `If it is gone for good, its lock expires at ${holder.expiresAt}; a dead process on this host frees it at once.`,
    ]);
    this.name = 'LockedError';
    this.holder = holder;
  }
}

/** Our lock was taken over (it had expired): stop acting on the VM. */
export class LockLostError extends RehomeError {
  constructor(vmKey: string, now?: LockHolder) {
    super(
      now
        ? `Lost the lock on VM ${vmKey}: it is now held by ${describeHolder(now)}`
        : `Lost the lock on VM ${vmKey}: it was released or taken over`,
      'locked',
      ['Refresh the lock well within its ttl.'],
    );
    this.name = 'LockLostError';
  }
}

/** The migration was not in the phase the caller expected: someone else moved it. */
export class PhaseConflictError extends RehomeError {
  readonly expected: Phase;
  readonly actual: Phase;

  constructor(id: string, expected: Phase, actual: Phase) {
    super(`Migration ${id} is in phase ${actual}, not ${expected}: another process moved it`, 'locked', [], {
      subject: { code: 'phase-conflict' },
    });
    this.name = 'PhaseConflictError';
    this.expected = expected;
    this.actual = actual;
  }
}

export class ActiveMigrationError extends RehomeError {
  readonly existingId: string;

  constructor(vmName: string, existingId: string, phase: Phase) {
    super(`VM ${vmName} already has an active migration ${existingId} (phase ${phase})`, 'locked', [], {
      subject: { code: 'active-migration', vm: vmName },
    });
    this.name = 'ActiveMigrationError';
    this.existingId = existingId;
  }
}

export class MigrationNotFoundError extends RehomeError {
  constructor(id: string) {
    super(`No migration ${id}`, 'not-found');
    this.name = 'MigrationNotFoundError';
  }
}

export class DeliveryNotFoundError extends RehomeError {
  constructor(id: string) {
    super(`No notification delivery ${id}`, 'not-found');
    this.name = 'DeliveryNotFoundError';
  }
}

/** A programming error in the engine: the move is not in PHASE_TRANSITIONS. */
export class IllegalTransitionError extends Error {
  constructor(from: Phase, to: Phase) {
    super(`Illegal migration phase transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}
