import test from 'ava';
import { readGuestSignalChannel } from '../../src/migration/services/guest-signal.js';

const domain = (devices: string) =>
  `<domain type='qemu'><name>web-1</name><devices>${devices}</devices></domain>`;

test('no controller and no channel', (t) => {
  t.deepEqual(readGuestSignalChannel(domain("<serial type='pty'/>")), { controller: false });
});

test('a controller, the channel not yet plugged', (t) => {
  const xml = domain(
    "<controller type='virtio-serial' index='0'/><channel type='unix'><source mode='bind' path='/x/other'/>" +
      "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
  );
  t.deepEqual(readGuestSignalChannel(xml), { controller: true });
});

test('the plugged channel and its socket path', (t) => {
  const xml = domain(
    "<controller type='virtio-serial' index='0'/><channel type='unix'>" +
      "<source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-2-web-1/org.rehome.maintenance.0'/>" +
      "<target type='virtio' name='org.rehome.maintenance.0'/></channel>",
  );
  t.deepEqual(readGuestSignalChannel(xml), {
    controller: true,
    socketPath: '/var/lib/libvirt/qemu/channel/target/domain-2-web-1/org.rehome.maintenance.0',
  });
});
