import { readFile } from 'node:fs/promises';
import { runDoctor } from '../doctor/doctor.js';
import type { DoctorReport } from '../doctor/types.js';
import { RehomeError } from '../errors.js';
import { policyFromConfig } from '../inventory/placement-facts.js';
import { LIBVIRT_SOCKET } from '../libvirt/host-connections.js';
import { loadConfigFile, openHostConnections, type RuntimePaths } from './runtime.js';

const GiB = 1024 ** 3;

/**
 * `rehome doctor [HOST…]`: the preflight checks on the named hosts (all by default), over connections that refuse
 * unknown host keys whatever the config says (doctor reports them; it never records one). No store.
 */
export async function doctor(paths: RuntimePaths, names: readonly string[]): Promise<DoctorReport> {
  const { config } = await loadConfigFile(paths);
  if (config.hosts.length === 0)
    throw new RehomeError('No hosts configured', 'config', [], { subject: { code: 'no-hosts' } });
  const unknown = names.filter((name) => !config.hosts.some((host) => host.name === name));
  if (unknown.length > 0)
    throw new RehomeError(`No host named ${unknown.join(', ')} in the rehome config`, 'not-found', [], {
      subject: { code: 'unknown-host', host: unknown[0] },
    });
  const hosts = names.length === 0 ? config.hosts : config.hosts.filter((host) => names.includes(host.name));
  const caFile = config.tls?.caFile;
  const caPem = caFile
    ? await readFile(caFile, 'utf8').catch((err: Error) => {
        throw new RehomeError(`tls.caFile ${caFile} cannot be read: ${err.message}`, 'config');
      })
    : undefined;
  const policy = policyFromConfig(config);
  const connections = openHostConnections(config, { acceptUnknownHostKeys: false });
  try {
    return await runDoctor(
      hosts,
      {
        ssh: (host) => connections.ssh(host),
        libvirt: (host) => connections.libvirt(host),
        now: () => Date.now(),
      },
      {
        ...(config.tls?.certDir ? { certDir: config.tls.certDir } : {}),
        ...(caPem ? { caPem } : {}),
        minFreeBytes: Math.max(policy.diskHeadroomBytes ?? 0, GiB),
        libvirtSocket: LIBVIRT_SOCKET,
      },
    );
  } finally {
    await connections.closeAll();
  }
}
