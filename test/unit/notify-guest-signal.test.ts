import test from 'ava';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import {
  formatGuestSignal,
  GUEST_SIGNAL_CHANNEL,
  guestSignalChannelXml,
} from '../../src/notify/guest-signal.js';

const base = {
  state: 'scheduled' as const,
  vm: { name: 'web-1', uuid: '6f1c2a57-0000-4000-8000-000000000001' },
  deadline: '2026-12-15T23:00+01:00',
  rebootUrl: 'https://ops.example.net/rehome/r/abc.def',
  at: '2026-12-08T09:00:00Z',
  migrationId: 'mig-1',
};

test('one JSON line, fields in the documented order, times in UTC', (t) => {
  const line = formatGuestSignal(base);
  t.true(line.endsWith('\n'));
  t.is(line.indexOf('\n'), line.length - 1);
  t.is(
    line,
    '{"schema":"rehome.maintenance/v1","state":"scheduled","vm":"web-1","uuid":"6f1c2a57-0000-4000-8000-000000000001",' +
      '"migration":"mig-1","deadline":"2026-12-15T22:00:00.000Z","rebootUrl":"https://ops.example.net/rehome/r/abc.def",' +
      '"at":"2026-12-08T09:00:00.000Z"}\n',
  );
});

test('a hostile VM name stays on one line and inside its string', (t) => {
  const name = 'evil\n{"schema":"x"}\u2028"';
  const line = formatGuestSignal({ ...base, vm: { ...base.vm, name }, rebootUrl: undefined });
  t.is(line.split('\n').length, 2);
  const parsed = JSON.parse(line);
  t.is(parsed.vm, name);
  t.false('rebootUrl' in parsed);
});

test('bad states and dates are refused', (t) => {
  t.throws(() => formatGuestSignal({ ...base, state: 'exploded' as 'scheduled' }), { message: /state/ });
  t.throws(() => formatGuestSignal({ ...base, deadline: 'soon' }), { message: /deadline/ });
});

test('the channel snippet is a virtio channel libvirt accepts inside <devices>', (t) => {
  const snippet = guestSignalChannelXml();
  t.true(snippet.includes(`name='${GUEST_SIGNAL_CHANNEL}'`));
  const xml = `<domain type='qemu'>\n  <name>x</name>\n  <devices>\n${snippet}\n  </devices>\n</domain>`;
  t.notThrows(() => DomainXml.parse(xml));
});
