/**
 * What to try next, as rehome command lines, for the situations domain errors name by `subject.code`. Domain code
 * says what happened; only here is it turned into advice about this CLI.
 */
import type { ErrorSubject, RehomeError } from '../errors.js';

type Advice = (subject: ErrorSubject) => string[];

const ADVICE: Record<string, Advice> = {
  'host-exists': ({ host }) => [`Remove it first with rehome hosts remove ${host}`],
  'config-invalid': ({ path }) => [`Fix ${path}, or run rehome hosts add/remove to edit it`],
  'no-hosts': () => ['Add one with: rehome hosts add NAME --address DESTINATION'],
  'unknown-host': () => ['rehome hosts list'],
  'host-unreadable': ({ host }) => [`rehome inventory ${host}`],
  'vm-search-incomplete': () => ['rehome inventory (shows why each host could not be read)'],
  'config-missing': () => ['rehome hosts add NAME --address DESTINATION --config FILE creates it'],
  'no-fit': ({ vm }) => ['rehome hosts list', 'rehome hosts uncordon HOST', `rehome migrate ${vm} --to HOST`],
  'no-target': ({ vm }) => [`rehome migrate ${vm} --to HOST`],
  'drain-blocked': ({ host }) => [
    `rehome plan drain ${host} --explain`,
    'Add --skip-blocked to drain the others and leave these in place.',
  ],
  'phase-conflict': () => ['Run `rehome status` to see its current state.'],
  'active-migration': ({ vm }) => [`Run \`rehome status ${vm}\`, or \`rehome cancel ${vm}\` to end it.`],
  // Not "rehome migrate": this comes from cancel, reboot and reschedule too, where starting a move is no answer.
  'no-active-migration': ({ vm }) => [`rehome status ${vm} shows its past migrations`],
  'wrong-phase': ({ vm }) => [`rehome status ${vm}`],
  'prepare-rolled-back': ({ vm, step }) => (step ? [`Step ${step} failed; see rehome status ${vm}`] : []),
  'reboot-timeout': ({ vm }) => [
    `rehome reboot ${vm} --force pauses it as it stands (a power cut from its point of view).`,
  ],
  'in-cutover': () => [
    'Wait for it to finish, or run `rehome reconcile` if no rehome process is working on it.',
  ],
  'undo-failed': ({ host, otherHost }) => [
    `Check the VM on ${host} and ${otherHost}, fix what the message says, then run \`rehome reconcile\`.`,
  ],
};

/** The error's own hints, then the commands that fit its situation. */
export function suggestionsFor(err: RehomeError): string[] {
  const code = err.subject.code;
  const advice = code ? ADVICE[code] : undefined;
  return [...err.hints, ...(advice ? advice(err.subject) : [])];
}
