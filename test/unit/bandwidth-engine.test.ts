import test from 'ava';
import { IMAGE_DIR, Lab } from '../fake/engine-harness.js';
import { jobSpeedUnder, migrate } from '../fake/src-imports.js';

const MiB = 1024 * 1024;

test('with --bandwidth, the copy of a thin disk runs faster than the budget over its zeros, and is left at its speed over data', async (t) => {
  const lab = new Lab(t);
  lab.fake.mirrorBytesPerPoll = 4 * MiB;
  const image = lab.fake.host('src').image(`${IMAGE_DIR}/vm1-vda.qcow2`);
  if (image) image.allocatedBytes = 8 * MiB; // 8 MiB of data at the start, 56 MiB of zeros after it
  const process = lab.process('migrate');
  await migrate(process.rt, { vm: 'vm1', to: 'dst', bandwidthBytesPerSec: MiB }, () => {});
  t.is((await lab.migration()).phase, 'armed');
  const job = lab.fake.host('src').domainByUuid(lab.guest.uuid)?.jobs.get('vda');
  const speeds = job?.speedsSet ?? [];
  t.log(`speeds set: ${speeds.map((s) => (s === 0 ? 'unlimited' : `${s / MiB} MiB/s`)).join(', ')}`);
  t.true(
    speeds.some((speed) => speed === 0 || speed > MiB),
    'the job was driven above the budget over the zeros',
  );
  t.is(speeds.at(-1), jobSpeedUnder(MiB), 'and left at 20/21 of the budget once the first pass was done');
  t.is(job?.speed, jobSpeedUnder(MiB));
});
