import type { Phase } from '../../store/phases.js';
import { isActive } from '../engine/presence.js';
import type { Observed } from './observe.js';

/**
 * What to do with a migration nobody is working on, decided from what the hosts show:
 * - `none`: nothing to do;
 * - `forward`: finish the cutover (its steps skip what is done);
 * - `rollback`: undo every step: the guest runs on the source, target files gone;
 * - `rearm`: the guest runs on the source with its mirror intact: back to armed;
 * - `resume`: an armed guest paused by a reboot handler that died before the cutover began: let it boot in place;
 * - `mirror-lost`: the source is off; keep tracking it;
 * - `remirror`: the source runs without a working mirror: establish it again;
 * - `continue-prepare`: a `migrate` died while preparing: go on with the mirror;
 * - `operator`: stop and say what to do.
 */
export type RecoveryAction =
  | 'none'
  | 'forward'
  | 'rollback'
  | 'rearm'
  | 'resume'
  | 'mirror-lost'
  | 'remirror'
  | 'continue-prepare'
  | 'operator';

export interface RecoveryInput extends Observed {
  phase: Phase;
  /** The journal says the mirror ended converged while paused (the target holds the paused source exactly). */
  converged: boolean;
}

export interface RecoveryDecision {
  action: RecoveryAction;
  reason: string;
}

/**
 * The decision, its reason followed by what was observed: a reason says what rehome saw, so that an operator (and
 * the owner's notice) can tell a complete copy that was not recorded from a broken one.
 */
export function decideRecovery(input: RecoveryInput): RecoveryDecision {
  const decision = decide(input);
  if (decision.action === 'none') return decision;
  return { ...decision, reason: `${decision.reason} (observed: ${describeObserved(input)})` };
}

/** "source paused, target missing, block jobs gone, exports alive, journal: not converged". */
export function describeObserved(input: RecoveryInput): string {
  return [
    `source ${input.source}`,
    `target ${input.target}`,
    `block jobs ${input.jobs ? 'present' : 'gone'}`,
    `exports ${input.exportsAlive ? 'alive' : 'gone'}`,
    `journal: ${input.converged ? 'converged' : 'not converged'}`,
  ].join(', ');
}

function decide(input: RecoveryInput): RecoveryDecision {
  const { phase, source, target, jobs, exportsAlive, converged } = input;
  if (phase === 'done' || phase === 'rolled-back' || phase === 'cancelled' || phase === 'planned') {
    return { action: 'none', reason: `phase ${phase}` };
  }
  if (isActive(source) && isActive(target)) {
    return {
      action: 'operator',
      reason: `the VM is ${source} on the source and ${target} on the target: two copies`,
    };
  }
  if (isActive(target)) {
    return {
      action: 'forward',
      reason: `the VM is ${target} on the target and ${source} on the source: finish`,
    };
  }
  if (source === 'missing') {
    return {
      action: 'operator',
      reason: 'the VM is defined on neither host as expected (missing on the source)',
    };
  }
  if (phase === 'rolling-back' || phase === 'cancelling' || phase === 'failed') {
    return { action: 'rollback', reason: `phase ${phase}: undo what is left` };
  }
  const mirrorIntact = jobs && exportsAlive;
  if (phase === 'cutover' || phase === 'switching' || phase === 'verifying') {
    if (source === 'paused') {
      if (converged) return { action: 'forward', reason: 'paused after the mirror converged: finish' };
      if (mirrorIntact) return { action: 'forward', reason: 'paused with its mirror intact: finish' };
      if (exportsAlive) {
        // The job ended (a converge that completed but was not journaled looks the same as one that failed): the
        // target cannot be trusted to equal the source.
        return {
          action: 'rollback',
          reason:
            'paused; the block job has ended and the journal does not record that it converged, so the copy on the target cannot be trusted: back to the source',
        };
      }
      return {
        action: 'rollback',
        reason: "paused; the target's export is gone, so the copy is incomplete: back to the source",
      };
    }
    if (source === 'running') {
      if (!converged && mirrorIntact && phase === 'cutover') {
        return { action: 'rearm', reason: 'the guest runs on the source with its mirror: armed again' };
      }
      return { action: 'rollback', reason: 'the guest runs on the source without its mirror' };
    }
    if (source === 'shutoff') {
      if (converged)
        return { action: 'forward', reason: 'source stopped after the mirror converged: finish' };
      return { action: 'rollback', reason: 'source stopped without a converged mirror: start it again' };
    }
    return { action: 'operator', reason: `the VM is ${source} on the source during ${phase}` };
  }
  if (phase === 'preparing') {
    return source === 'running'
      ? { action: 'continue-prepare', reason: 'interrupted while preparing' }
      : { action: 'rollback', reason: `interrupted while preparing, the VM is ${source}` };
  }
  if (phase === 'mirroring' || phase === 'armed' || phase === 'mirror-lost') {
    if (source === 'shutoff') {
      return phase === 'mirror-lost'
        ? { action: 'none', reason: 'the VM is off; its mirror comes back when it runs' }
        : { action: 'mirror-lost', reason: 'the VM is off' };
    }
    if (source === 'paused' && phase === 'armed' && mirrorIntact) {
      return { action: 'resume', reason: 'armed and paused with nobody cutting over: let it boot in place' };
    }
    if (!mirrorIntact) return { action: 'remirror', reason: 'the VM runs without a working mirror' };
    if (phase === 'mirroring')
      return { action: 'continue-prepare', reason: 'mirroring with nobody waiting for it' };
    if (phase === 'mirror-lost') return { action: 'remirror', reason: 'the mirror came back?' };
    return { action: 'none', reason: 'armed, mirror intact' };
  }
  return { action: 'operator', reason: `unexpected phase ${phase}` };
}
