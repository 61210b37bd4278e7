/**
 * Run inside the lab's operator namespace (via labSh): opens HostConnections to one host from the operator's rehome
 * config, registers for lifecycle events, prints `{"ready":true}`, then one JSON line per event, until stdin closes.
 * Usage: tsx test/lab/inventory-events.ts HOST
 */
import path from 'node:path';
import { loadConfig } from '../../src/config/config-file.js';
import { sshOptionsFromConfig } from '../../src/config/ssh-options.js';
import { SshPool } from '../../src/host/ssh-pool.js';
import { HostConnections } from '../../src/libvirt/host-connections.js';
import { DomainEventId } from '../../src/libvirt/protocol/constants.js';

const host = process.argv[2];
if (!host) throw new Error('usage: inventory-events.ts HOST');
const configFile =
  process.env.REHOME_CONFIG ?? path.join(process.env.HOME ?? '', '.config/rehome/config.yaml');
const { config } = await loadConfig(configFile);
const connections = new HostConnections(config.hosts, new SshPool(sshOptionsFromConfig(config)));
const libvirt = await connections.libvirt(host);
libvirt.onEvent((event) => {
  if (event.kind !== 'lifecycle') return;
  const line = { kind: event.kind, domain: event.domain.name, event: event.event, detail: event.detail };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});
await libvirt.registerDomainEvent(DomainEventId.lifecycle);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  connections.closeAll().finally(() => process.exit(0));
});
