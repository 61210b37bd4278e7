/** Why a host could not be inventoried, in the shape the report carries (message, exit-code kind, suggestions). */
import { RehomeError } from '../cli/errors.js';
import { ExitCode, type ExitCodeName } from '../cli/exit-codes.js';
import { ConnectionClosedError, LibvirtError } from '../libvirt/errors.js';
import { LIBVIRT_SOCKET } from '../libvirt/host-connections.js';
import type { HostFailure } from './types.js';

const KIND_BY_CODE = new Map<number, ExitCodeName>(
  Object.entries(ExitCode).map(([kind, code]) => [code, kind as ExitCodeName]),
);

export function describeFailure(host: string, err: unknown): HostFailure['error'] {
  const message = err instanceof Error ? err.message : String(err);
  let kind: ExitCodeName = 'unexpected';
  let suggestions: string[] = [];
  if (err instanceof RehomeError) {
    kind = KIND_BY_CODE.get(err.exitCode) ?? 'unexpected';
    suggestions = [...err.suggestions];
  } else if (err instanceof LibvirtError) kind = 'libvirt';
  else if (err instanceof ConnectionClosedError) kind = 'hostUnreachable';
  if (message.includes(LIBVIRT_SOCKET)) {
    suggestions.push(`Is libvirtd running on ${host}? Check with: ssh ${host} virsh version`);
  }
  return { message, kind, exitCode: ExitCode[kind], suggestions };
}
