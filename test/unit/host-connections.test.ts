import test from 'ava';
import { SshPool } from '../../src/host/ssh-pool.js';
import { HostConnections } from '../../src/libvirt/host-connections.js';

test('a host missing from the config rejects, for ssh and for libvirt, instead of throwing', async (t) => {
  const connections = new HostConnections([], new SshPool());
  await t.throwsAsync(() => connections.ssh('nowhere'), {
    message: /host nowhere is not in the rehome config/,
  });
  await t.throwsAsync(() => connections.libvirt('nowhere'), {
    message: /host nowhere is not in the rehome config/,
  });
});
