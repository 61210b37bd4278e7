/** The NBD TLS checks, over certificate texts already read from a host. Pure (node:crypto only). */
import { X509Certificate } from 'node:crypto';
import type { CheckResult } from './types.js';

/** What rehome's exports and block copies use, in tls.certDir on every host (libvirt's and qemu-nbd's names). */
export const TLS_FILES = [
  'ca-cert.pem',
  'server-cert.pem',
  'server-key.pem',
  'client-cert.pem',
  'client-key.pem',
];
/** The certificates among them (the keys are checked for presence only: their content never leaves the host). */
export const TLS_CERT_FILES = ['ca-cert.pem', 'server-cert.pem', 'client-cert.pem'] as const;
export type TlsCertFile = (typeof TLS_CERT_FILES)[number];

export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export type HostCerts = Partial<Record<TlsCertFile, X509Certificate | Error>>;

export function parseCert(pem: string): X509Certificate | Error {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    return new Error(`not a PEM certificate (${(err as Error).message})`);
  }
}

/**
 * The fleet CA: the configured one (tls.caFile), else the CA certificate most hosts hold. A tie has no majority:
 * then no CA is the fleet's, and every host's chain check says so.
 */
export function fleetCa(
  hostCas: readonly (X509Certificate | Error | undefined)[],
  configured?: X509Certificate,
): { ca: X509Certificate | undefined; source: 'config' | 'majority' | 'none' } {
  if (configured) return { ca: configured, source: 'config' };
  const counts = new Map<string, { ca: X509Certificate; n: number }>();
  for (const ca of hostCas) {
    if (!(ca instanceof X509Certificate)) continue;
    const entry = counts.get(ca.fingerprint256) ?? { ca, n: 0 };
    entry.n += 1;
    counts.set(ca.fingerprint256, entry);
  }
  const ranked = [...counts.values()].sort((a, b) => b.n - a.n);
  const [first, second] = ranked;
  if (!first || (second && second.n === first.n)) return { ca: undefined, source: 'none' };
  return { ca: first.ca, source: 'majority' };
}

/** The host's CA is the fleet's, and its server and client certificates are signed by it. */
export function chainCheck(certs: HostCerts, ca: X509Certificate | undefined): CheckResult {
  const check = 'tls-chain';
  const unreadable = Object.entries(certs).filter(([, cert]) => cert instanceof Error);
  if (unreadable.length > 0)
    return {
      check,
      status: 'fail',
      detail: unreadable.map(([file, err]) => `${file}: ${(err as Error).message}`).join('; '),
      fix: 'Replace the file with the PEM certificate issued by the fleet CA.',
    };
  if (!ca)
    return {
      check,
      status: 'fail',
      detail: 'no fleet CA: the hosts hold different CA certificates and none is held by most',
      fix: 'Set tls.caFile to the fleet CA certificate on this machine, or give every host the same ca-cert.pem.',
    };
  const problems: string[] = [];
  const hostCa = certs['ca-cert.pem'];
  if (hostCa instanceof X509Certificate && hostCa.fingerprint256 !== ca.fingerprint256)
    problems.push(`ca-cert.pem is not the fleet CA (${hostCa.subject.replace(/\n/g, ', ')})`);
  for (const file of ['server-cert.pem', 'client-cert.pem'] as const) {
    const cert = certs[file];
    if (cert instanceof X509Certificate && !(cert.checkIssued(ca) && cert.verify(ca.publicKey)))
      problems.push(`${file} is not signed by the fleet CA`);
  }
  if (problems.length > 0)
    return failure(
      check,
      problems,
      'Install the fleet CA as ca-cert.pem and certificates it signed (see test/lab/make-pki.sh for a recipe).',
    );
  return { check, status: 'ok', detail: `signed by ${ca.subject.replace(/\n/g, ', ')}` };
}

/** Does the certificate name one of `names` (a DNS or IP subject alternative name, or its common name)? */
export function namesOf(cert: X509Certificate): string[] {
  const alt = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, '').trim())
    .filter(Boolean);
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return [...alt, ...(cn ? [cn] : [])];
}

/** The server and client certificates name the host: its rehome name, its ssh address or the address it resolves to. */
export function namesCheck(certs: HostCerts, expected: readonly string[]): CheckResult {
  const check = 'tls-names';
  const problems: string[] = [];
  const found: string[] = [];
  for (const file of ['server-cert.pem', 'client-cert.pem'] as const) {
    const cert = certs[file];
    if (!(cert instanceof X509Certificate)) continue;
    const names = namesOf(cert);
    if (names.some((name) => expected.includes(name))) found.push(`${file}: ${names.join(', ')}`);
    else problems.push(`${file} names ${names.join(', ') || 'nothing'}, not ${expected.join(' or ')}`);
  }
  if (problems.length > 0)
    return failure(
      check,
      problems,
      `Issue the host its own certificates, with ${expected[0]} as CN and subject alternative name.`,
    );
  if (found.length === 0) return { check, status: 'skip', detail: 'no certificate to check (see tls-files)' };
  return { check, status: 'ok', detail: found.join('; ') };
}

/** No certificate expired, not yet valid, or expiring within `days`. */
export function expiryCheck(certs: HostCerts, now: Date, days = EXPIRY_WARNING_DAYS): CheckResult {
  const check = 'tls-expiry';
  const problems: string[] = [];
  let soonest: { file: string; at: number } | undefined;
  for (const [file, cert] of Object.entries(certs)) {
    if (!(cert instanceof X509Certificate)) continue;
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (from > now.getTime()) problems.push(`${file} is not valid before ${new Date(from).toISOString()}`);
    else if (to <= now.getTime()) problems.push(`${file} expired ${new Date(to).toISOString()}`);
    else if (to - now.getTime() < days * DAY_MS)
      problems.push(
        `${file} expires ${new Date(to).toISOString()}, in ${Math.floor((to - now.getTime()) / DAY_MS)} days`,
      );
    if (!soonest || to < soonest.at) soonest = { file, at: to };
  }
  if (problems.length > 0)
    return failure(check, problems, 'Renew the certificate with the fleet CA and install it on the host.');
  if (!soonest) return { check, status: 'skip', detail: 'no certificate to check (see tls-files)' };
  return {
    check,
    status: 'ok',
    detail: `first to expire: ${soonest.file}, ${new Date(soonest.at).toISOString().slice(0, 10)}`,
  };
}

function failure(check: CheckResult['check'], problems: readonly string[], fix: string): CheckResult {
  return { check, status: 'fail', detail: problems.join('; '), fix };
}
