/** The fleet read for placement goes through the connections it is given (the runtime's): no pool of its own. */
import test from 'ava';
import { configSchema } from '../../src/config/schema.js';
import { readFleetFacts } from '../../src/inventory/fleet-facts.js';
import type { InventoryConnections } from '../../src/inventory/inventory.js';

test('every configured host is read once through the given connections; an unreadable one is reported', async (t) => {
  const config = configSchema.parse({
    hosts: [
      { name: 'a', address: 'a.invalid' },
      { name: 'b', address: 'b.invalid' },
    ],
  });
  const asked: string[] = [];
  const hosts: InventoryConnections = {
    ssh: async (name) => {
      asked.push(`ssh ${name}`);
      throw new Error(`no route to ${name}`);
    },
    libvirt: async (name) => {
      asked.push(`libvirt ${name}`);
      throw new Error(`no route to ${name}`);
    },
  };
  const facts = await readFleetFacts({ config, store: { listHostStates: async () => [] }, hosts });
  t.deepEqual(asked.sort(), ['libvirt a', 'libvirt b', 'ssh a', 'ssh b']);
  t.deepEqual(facts.unreachable, ['a', 'b']);
  t.deepEqual(facts.vms, []);
});
