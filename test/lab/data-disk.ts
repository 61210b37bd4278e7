import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { labPaths } from './paths.js';
import { run } from './run.js';

/** MiB of random data on a data guest's disk: a copy then has real work to do (zeroes cost it next to nothing). */
export const DATA_MIB = 96;

/** A 256 MiB ext4 disk holding `mib` MiB of random data, made once per size and cached with the lab's blank disks. */
export async function dataDisk(mib = DATA_MIB): Promise<string> {
  const cache = labPaths().cache;
  const disk = path.join(cache, `disk-256M-data${mib}M.qcow2`);
  if (await stat(disk).catch(() => undefined)) return disk;
  await mkdir(cache, { recursive: true });
  const work = await mkdtemp(path.join(cache, 'data-disk-'));
  try {
    const files = path.join(work, 'files');
    const raw = path.join(work, 'disk.raw');
    await mkdir(files);
    await run(['dd', 'if=/dev/urandom', `of=${path.join(files, 'random')}`, 'bs=1M', `count=${mib}`]);
    await run(['truncate', '-s', '256M', raw]);
    await run(['mkfs.ext4', '-q', '-F', '-L', 'data', '-d', files, raw]);
    await run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, `${disk}.tmp`]);
    await run(['mv', `${disk}.tmp`, disk]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return disk;
}
