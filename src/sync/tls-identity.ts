import { X509Certificate } from 'node:crypto';
import { posix } from 'node:path';
import { RehomeError } from '../errors.js';
import { type RemoteShell, run } from './remote.js';

/** Characters RFC 4514 escapes in a DN's values: such a DN is refused rather than guessed at. */
const NEEDS_ESCAPING = /[,+"\\<>;=\0]|^[#\s]|\s$/;

/**
 * The distinguished name of a certificate's subject as QEMU compares it in a TLS authz check: the attributes in the
 * certificate's own order, joined by commas ("O=rehome,CN=lab-a"), which is how GnuTLS (Debian 12's 3.7) prints the
 * peer's DN to QEMU; verified against qemu-nbd 7.2 (test/integration/nbd-authz.test.ts).
 */
export function certificateDn(pem: string, what: string): string {
  let subject: string;
  try {
    subject = new X509Certificate(pem).subject;
  } catch (err) {
    throw new RehomeError(`${what} is not a PEM certificate: ${(err as Error).message}`, 'config');
  }
  const attributes = subject.split('\n').filter((line) => line !== '');
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    if (at <= 0 || NEEDS_ESCAPING.test(attribute.slice(at + 1))) {
      throw new RehomeError(
        `The subject of ${what} has a value rehome cannot name exactly in an NBD access rule: ${JSON.stringify(attribute)}`,
        'config',
        ['Issue the hosts\' client certificates with plain subject values (no , + " \\ < > ; =).'],
      );
    }
  }
  if (attributes.length === 0) throw new RehomeError(`${what} has an empty subject`, 'config');
  return attributes.join(',');
}

/** The DN of a host's NBD client certificate (certDir/client-cert.pem), read on that host. */
export async function hostClientDn(shell: RemoteShell, certDir: string): Promise<string> {
  const path = posix.join(certDir, 'client-cert.pem');
  const result = await run(shell, ['cat', path]);
  if (result.code !== 0) {
    throw new RehomeError(
      `Cannot read ${path} on ${shell.name}: ${result.stderr.trim()}`,
      'config',
      ['Every host needs its NBD client certificate in tls.certDir (client-cert.pem).'],
      { subject: { code: 'no-client-cert', host: shell.name, path } },
    );
  }
  return certificateDn(result.stdout, `${path} on ${shell.name}`);
}
