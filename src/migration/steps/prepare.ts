import type { Step } from '../engine/step.js';
import { arm } from './arm.js';
import { prepareTarget } from './prepare-target.js';
import { startMirrorStep } from './start-mirror.js';
import { waitReady } from './wait-ready.js';

/*
 * `rehome migrate`: everything before the reboot, while the guest runs on the source and its disks there stay the
 * only ones it writes to.
 *
 *   1. prepare-target  an empty qcow2 per local disk on the target, each exported over NBD with TLS
 *                      guard: the target is not the source host, the VM runs on the source
 *   2. start-mirror    a background block copy of each disk into its export
 *                      guard: the VM runs (or is paused) on the source, every export is alive
 *   3. wait-ready      until every job has copied everything once
 *                      guard: every disk has its block job
 *   4. arm             keep the source's inactive definition; the VM waits for its reboot
 *
 * Rollback, last first: the block jobs are cancelled (the source never pivots), then the exports close and their
 * images go, unless the VM runs on the target.
 */
export const PREPARE_STEPS: readonly Step[] = [prepareTarget, startMirrorStep, waitReady, arm];
