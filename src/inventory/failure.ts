/** Why a host could not be inventoried, in the shape the report carries: a message, an error kind and hints. */
import { RehomeError } from '../errors.js';
import { ConnectionClosedError, LibvirtError } from '../libvirt/errors.js';
import { LIBVIRT_SOCKET } from '../libvirt/host-connections.js';
import type { HostFailure } from './types.js';

export function describeFailure(host: string, err: unknown): HostFailure['error'] {
  const message = err instanceof Error ? err.message : String(err);
  const hints = err instanceof RehomeError ? [...err.hints] : [];
  if (message.includes(LIBVIRT_SOCKET)) {
    hints.push(`Is libvirtd running on ${host}? Check with: ssh ${host} virsh version`);
  }
  return { message, kind: kindOf(err), hints };
}

function kindOf(err: unknown): HostFailure['error']['kind'] {
  if (err instanceof RehomeError) return err.kind;
  if (err instanceof LibvirtError) return 'libvirt';
  if (err instanceof ConnectionClosedError) return 'unreachable';
  return 'internal';
}

/**
 * The error for a host that placement needed but the inventory could not read: its own kind when the host key was
 * refused (exit 5, not "unreachable"), else unreachable; the reason and its hints are kept.
 */
export function unreadableHostError(
  what: string,
  failure: HostFailure['error'] | undefined,
  subject: RehomeError['subject'],
): RehomeError {
  const kind = failure?.kind === 'host-key' ? 'host-key' : 'unreachable';
  const message = failure ? `${what}: ${failure.message}` : what;
  return new RehomeError(message, kind, failure?.hints ?? [], { subject });
}
