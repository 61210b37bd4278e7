import { noDelayListenerArgv, type RemoteShell } from './src-imports.js';

/** An empty qcow2 of `sizeBytes` made and exported as `e1` on 10.0.0.2:10809, its qemu-nbd pid in /run/e1.pid. */
export async function exportEmptyImage(
  shell: RemoteShell,
  image: string,
  sizeBytes = 1 << 20,
): Promise<void> {
  await shell.exec(['qemu-img', 'create', '-q', '-f', 'qcow2', image, String(sizeBytes)]);
  await shell.exec(
    noDelayListenerArgv('10.0.0.2', 10809, [
      'qemu-nbd',
      '-f',
      'qcow2',
      '-x',
      'e1',
      '--pid-file=/run/e1.pid',
      image,
    ]),
  );
}
