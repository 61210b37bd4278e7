import { concurrently, flattenSteps, type Step } from '../engine/step.js';
import { carryFirmware } from './carry-firmware.js';
import { closeExport, type ExportsSeenAlive, observeExports } from './close-export.js';
import { converge } from './converge.js';
import { defineTarget } from './define-target.js';
import { destroySource, sourceStopped } from './destroy-source.js';
import { linksDown } from './links-down.js';
import { moveDhcp } from './move-dhcp.js';
import { pause } from './pause.js';
import { releaseSource } from './release-source.js';
import { observeSourceQemu, type SourceQemu } from './source-qemu.js';
import { startTarget } from './start-target.js';
import { milestoneMarker } from './timeline.js';
import { verify } from './verify.js';

/*
 * The cutover, while the guest is held paused at its reboot. Every step checks before it acts, and skips what an
 * earlier run already did, so the same sequence also finishes a cutover interrupted by a crash.
 *
 *   1. pause             suspend the source (whoever caught the reboot event normally did it already)
 *   2. switch, five branches side by side; a step marked "after" also waits for those steps of other branches:
 *      a. converge        wait until nothing is dirty, then end each mirror without pivot
 *                         guard: the source is paused, and still is once the jobs ended
 *         destroy-source  after links-down; the phase becomes switching. Ends once the source's QEMU has exited
 *                         (seen on the host, or libvirt's destroy returned, whichever is first)
 *                         guard: the source is paused, the mirror ended converged, and no disk has a block job left
 *         carry-firmware  once libvirt has stopped the source: the NVRAM file and vTPM state go to the target,
 *                         checked (size, sha256). guard: the target does not run the VM
 *         source-stopped  libvirt's destroy returned, the source is shut off, no tap of the guest is left
 *      b. observe-source-qemu  which process is the source's QEMU (read only; destroy-source watches it exit)
 *         links-down      the source's NICs lose their link
 *      c. observe-exports which exports are alive and ours (read only; close-export then needs no second look)
 *         close-export    after converge. qemu-nbd on the target flushes and exits (the source no longer writes)
 *      d. define-target   guard: the target has no domain of this UUID, nor another of this name
 *         move-dhcp       the libvirt networks' DHCP host entries follow the guest
 *      e. start-target    after converge, links-down, carry-firmware (so after destroy-source), close-export and
 *                         move-dhcp. guard: the source has no QEMU, and the mirror ended converged
 *   3. verify            the guest keeps running on the target
 *   4. release-source    the source definition goes; its disks, NVRAM and vTPM state stay for the retention time
 *
 * Every branch ends before the next step begins, and before a failure is acted on. A failure while the target has not
 * started rolls back: the undos run last first and each observes before it acts. define-target undefines only a
 * target that is not running; carry-firmware removes the target's copies only; destroy-source starts the source again
 * and pause resumes it only while the target is not running; links come up again, DHCP entries move back. Once the
 * target has started, the guest has run there and its disk there is the newest: a failure (even of source-stopped,
 * beside it) leaves the migration failed, for an operator.
 */

/** Options of one cutover run: when the reboot event came (for the timeline). */
export interface CutoverRun {
  eventAt?: number;
}

export function cutoverSteps(run: CutoverRun = {}): Step[] {
  const mark = milestoneMarker(run.eventAt);
  const exportsSeenAlive: ExportsSeenAlive = new Set();
  const sourceQemu: SourceQemu = {};
  return [
    pause,
    concurrently(
      'switch',
      undefined,
      [
        converge(mark),
        { ...destroySource(mark, sourceQemu), enter: 'switching', after: ['links-down'] },
        carryFirmware(mark, sourceQemu),
        sourceStopped(sourceQemu),
      ],
      [observeSourceQemu(sourceQemu), linksDown],
      [observeExports(exportsSeenAlive), { ...closeExport(mark, exportsSeenAlive), after: ['converge'] }],
      [defineTarget(mark), moveDhcp],
      [
        {
          ...startTarget(mark, sourceQemu),
          after: ['converge', 'links-down', 'carry-firmware', 'close-export', 'move-dhcp'],
        },
      ],
    ),
    verify,
    releaseSource,
  ];
}

/** Names of the cutover steps, branches flattened (for REHOME_FAULT_HOLD_BEFORE and the docs). */
export const CUTOVER_STEP_NAMES = flattenSteps(cutoverSteps()).map((step) => step.name);

/** The step after which a failure no longer rolls back: the target has run. */
export const POINT_OF_NO_RETURN = 'start-target';
