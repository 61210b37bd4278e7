import { type RemoteShell, run } from './remote.js';
import type { NbdExport } from './types.js';

/**
 * `ss` argv that destroys the host's TCP connections to one export (the kernel's SOCK_DESTROY, Linux >= 4.5 with
 * CONFIG_INET_DIAG_DESTROY, as Debian builds it). Filtered on the export's address and port, so that a mirror into
 * another target's export on the same port is left alone.
 */
export function cutConnectionsArgv(nbd: Pick<NbdExport, 'address' | 'port'>): string[] {
  const address = nbd.address.includes(':') ? `[${nbd.address}]` : nbd.address;
  return ['ss', '-K', '-t', 'dst', address, 'dport', '=', `:${nbd.port}`];
}

/**
 * Run on the source when its copy into `nbd` must end but QEMU waits for NBD replies from a target that vanished
 * (a dead link drops packets without a reset, and TCP gives up only after ~15 min): QEMU's NBD client then sees the
 * connection fail, its requests fail, and the block job can end. The copy is being discarded anyway.
 */
export async function cutConnectionsTo(
  shell: RemoteShell,
  nbd: Pick<NbdExport, 'address' | 'port'>,
): Promise<void> {
  await run(shell, cutConnectionsArgv(nbd));
}
