import test from 'ava';
import { configSchema } from '../../src/config/schema.js';
import { isSingleAddress } from '../../src/notify/address.js';
import { resolveOwner } from '../../src/notify/owner.js';
import type { RenderedNotice } from '../../src/notify/render.js';
import { SmtpChannel } from '../../src/notify/smtp-channel.js';

const LISTS = [
  'alice@example.com, mallory@evil.test',
  'alice@example.com;mallory@evil.test',
  'alice@example.com mallory@evil.test',
  'Alice <alice@example.com>',
  'undisclosed:alice@example.com,mallory@evil.test;',
  '"a,b"@example.com',
  'alice@example.com\nBcc: mallory@evil.test',
  'alice',
  '@example.com',
  'alice@',
];

test('one plain address is one address; lists, names, groups and headers are not', (t) => {
  for (const address of ['alice@example.com', 'a.b+tag@sub.example.org', 'ops@localhost'])
    t.true(isSingleAddress(address), address);
  for (const address of LISTS) t.false(isSingleAddress(address), address);
});

test('domain metadata with a list of addresses is not taken as the owner: the config or the operator is told', (t) => {
  const owner = resolveOwner(
    { vmName: 'web1', metadata: { address: 'alice@example.com, mallory@evil.test' } },
    { operator: { address: 'ops@example.com' } },
  );
  t.like(owner, { address: 'ops@example.com', source: 'operator' });
});

test('the config refuses an owner or operator address that is not one address', (t) => {
  const owners = configSchema.safeParse({ owners: [{ vm: 'web*', address: 'a@x.test, m@y.test' }] });
  t.false(owners.success);
  const operator = configSchema.safeParse({ notify: { operator: { address: 'Ops <ops@x.test>' } } });
  t.false(operator.success);
  t.true(configSchema.safeParse({ owners: [{ vm: 'web*', address: 'a@x.test' }] }).success);
});

test('the SMTP channel refuses a recipient that is not one address, before any connection', async (t) => {
  const rendered = {
    id: 'm:scheduled:1',
    kind: 'scheduled',
    subject: 'Your VM moves',
    text: 'link',
    html: '<p>link</p>',
    payload: {},
  } as unknown as RenderedNotice;
  // Port 9 on a TEST-NET address: a connection attempt would time out, not fail at once.
  const channel = new SmtpChannel({ host: '192.0.2.1', port: 9, from: 'rehome@x.test', timeoutMs: 60_000 });
  t.teardown(() => channel.close());
  const started = Date.now();
  const result = await channel.send(rendered, { address: 'alice@example.com, mallory@evil.test' });
  t.false(result.ok);
  t.regex(result.error ?? '', /not one mail address/);
  t.true(Date.now() - started < 1_000);
});
