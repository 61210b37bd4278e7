/**
 * bench/debian-downtime: the Debian 12 lab guest (UEFI with OVMF, an NVRAM file and a vTPM) moved at its own reboot,
 * its firmware state carried, against the same guest's in-place reboot on the target; one run of each, in one lab.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/debian-downtime.ts [--bios]
 *
 * Times run from the guest's `reboot: Restarting system` console line until its agent answers `status` with the new
 * boot count (bench/lib/guests.ts timedReboot). Prints both, the ratio (goal ≤ 1.0) and the cutover timeline, whose
 * `firmwareCarried - sourceStopped` is how long carrying the NVRAM and TPM state took (it runs beside close-export and
 * define-target: it delays the start only when it ends after both).
 */
import { parseArgs } from 'node:util';
import { debianAgent, defineDebianGuest } from '../test/lab/debian-guest.js';
import { rehomeJson, type StatusJson, waitForPhase } from '../test/lab/helpers-migration.js';
import { checkNothingLost, waitForAgent } from '../test/lab/lab.js';
import { removeGuest, type TimedReboot, timedReboot } from './lib/guests.js';
import { log, WatchProcess, withLab } from './lib/lab-session.js';
import { ratio } from './lib/stats.js';

const BOOT_MS = 300_000;
const { values } = parseArgs({ options: { bios: { type: 'boolean' } } });
const uefi = values.bios !== true;
const downtime = (t: TimedReboot) => t.answeredAt - t.rebootAt;

console.log(`bench/debian-downtime (${uefi ? 'UEFI + vTPM' : 'BIOS'}), one run, ${new Date().toISOString()}`);
await withLab(2, async () => {
  const name = uefi ? 'bd-efi' : 'bd-bios';
  const started = Date.now();
  const guest = await defineDebianGuest(name, { host: 'lab-a', uefi, progress: log });
  await waitForAgent(guest.ip, { timeoutMs: BOOT_MS });
  log(`${name} booted in ${Date.now() - started} ms (image build included when not cached)`);
  if (uefi) log(`firmware: ${await debianAgent(guest.ip, 'fw-write bench')}`);
  const watch = await WatchProcess.start();
  try {
    await watch.arm(name, 'lab-b');
    const move = await timedReboot(guest, 'lab-a', 'lab-b', BOOT_MS);
    // The watcher is done with it once the guest answers on lab-b; its phase is read after the watcher exits.
    await watch.stop();
    const phase = await waitForPhase(name, ['done', 'rolled-back', 'failed'], 60_000);
    if (phase !== 'done') throw new Error(`${name}: the move ended ${phase}\n${await watch.log()}`);
    const report = await checkNothingLost(name);
    if (!report.ok) throw new Error(`${name}: ${report.problems.join('; ')}`);
    const timeline = (await rehomeJson<StatusJson>(['status', name])).migrations.at(-1)?.timeline ?? {};
    const firmware = uefi ? await debianAgent(guest.ip, 'fw-read') : 'BIOS';
    const stay = await timedReboot(guest, 'lab-b', 'lab-b', BOOT_MS);
    console.log(
      `  move at its reboot (lab-a → lab-b): ${downtime(move)} ms (BOOT line ${move.bootLineAt - move.rebootAt} ms)`,
    );
    console.log(
      `  in-place reboot on lab-b:           ${downtime(stay)} ms (BOOT line ${stay.bootLineAt - stay.rebootAt} ms)`,
    );
    console.log(
      `  ratio = ${ratio(downtime(move), downtime(stay))} (goal ≤ 1.0; one run: TCG boot times vary a lot)`,
    );
    console.log(`  cutover timeline (ms from the reboot event): ${JSON.stringify(timeline)}`);
    if (uefi) {
      const carried = (timeline.firmwareCarried ?? Number.NaN) - (timeline.sourceStopped ?? Number.NaN);
      // Its own branch had it wait for the source to stop; the start waits for the last branch to end.
      const others = Math.max(timeline.exportClosed ?? 0, timeline.defined ?? 0, timeline.sourceStopped ?? 0);
      const added = Math.max(0, (timeline.firmwareCarried ?? Number.NaN) - others);
      console.log(
        `  carrying NVRAM + TPM state: ${carried} ms, of which ${added} ms on the cutover's path; read back on lab-b: ${firmware}`,
      );
    }
  } finally {
    await watch.stop();
    await removeGuest(name, ['lab-a', 'lab-b']);
  }
});
