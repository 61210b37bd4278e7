/**
 * The phases of one migration, in the order the engine walks them. Every phase is re-runnable: after a crash the
 * engine reads the phase, observes the hosts, and continues or rolls back.
 */
export const PHASES = [
  /** Record created, target chosen; nothing touched yet. */
  'planned',
  /** Target image being created and exported over NBD. */
  'preparing',
  /** Block copy running into the export, not yet ready. */
  'mirroring',
  /** Mirror ready and kept in sync; waiting for the guest's reboot, `rehome reboot` or the deadline. */
  'armed',
  /** Armed, but the mirror is gone (guest powered off, job lost); reconcile re-establishes it when the VM runs. */
  'mirror-lost',
  /** Guest paused at its reset; the mirror converges and ends. The source is intact: rollback resumes it. */
  'cutover',
  /** Source destroyed, export closed; the domain is being defined and started on the target. */
  'switching',
  /** Started on the target; checking that it runs. */
  'verifying',
  /** Runs on the target. Source disks are kept for the retention time, then removed by reconcile. */
  'done',
  /** Undoing: the guest goes back to running on the source, mirror ended, target image and export removed. */
  'rolling-back',
  /** Rolled back: the guest runs on the source. */
  'rolled-back',
  /** Operator cancelled: disarming, ending the mirror, removing the target files. */
  'cancelling',
  /** Cancelled: the guest runs on the source, nothing is left on the target. */
  'cancelled',
  /** Needs an operator: neither forward nor rollback could finish. Still active, so the VM stays blocked. */
  'failed',
] as const;

export type Phase = (typeof PHASES)[number];

/** Phases after which the migration is history. Any other phase holds the VM (one active migration per VM). */
export const TERMINAL_PHASES = ['done', 'rolled-back', 'cancelled'] as const satisfies readonly Phase[];

export type TerminalPhase = (typeof TERMINAL_PHASES)[number];

export const ACTIVE_PHASES: readonly Phase[] = PHASES.filter((p) => !isTerminalPhase(p));

export function isPhase(value: string): value is Phase {
  return (PHASES as readonly string[]).includes(value);
}

export function isTerminalPhase(phase: Phase): phase is TerminalPhase {
  return (TERMINAL_PHASES as readonly Phase[]).includes(phase);
}

const undoable = ['rolling-back', 'cancelling', 'failed'] as const;

/**
 * Legal moves. Staying in the same phase is not a transition (use a details update). A guest that reboots in place
 * while the pause bound is exceeded goes back from cutover to armed; a lost mirror comes back through mirroring.
 */
export const PHASE_TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  planned: ['preparing', 'cancelled', 'failed'],
  preparing: ['mirroring', ...undoable],
  mirroring: ['armed', 'mirror-lost', ...undoable],
  armed: ['cutover', 'mirroring', 'mirror-lost', ...undoable],
  'mirror-lost': ['preparing', 'mirroring', ...undoable],
  cutover: ['switching', 'armed', 'rolling-back', 'failed'],
  switching: ['verifying', 'rolling-back', 'failed'],
  verifying: ['done', 'rolling-back', 'failed'],
  done: [],
  'rolling-back': ['rolled-back', 'failed'],
  'rolled-back': [],
  cancelling: ['cancelled', 'failed'],
  cancelled: [],
  failed: ['rolling-back', 'cancelling', 'switching', 'verifying', 'done', 'rolled-back', 'cancelled'],
};

export function canTransition(from: Phase, to: Phase): boolean {
  return PHASE_TRANSITIONS[from].includes(to);
}
