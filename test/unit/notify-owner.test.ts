import { readFileSync } from 'node:fs';
import test from 'ava';
import { parseConfigText } from '../../src/config/config-file.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import { globToRegExp, resolveOwner } from '../../src/notify/owner.js';
import {
  formatOwnerElement,
  REHOME_METADATA_NS,
  readOwnerMetadata,
} from '../../src/notify/owner-metadata.js';

const config = parseConfigText(
  'c.yaml',
  `
notify:
  operator: {address: ops@example.net, name: Ops, timeZone: UTC}
  smtp: {host: 127.0.0.1}
  webhooks: [{name: chat, url: 'https://chat.example.net/hook', secret: 0123456789abcdef}]
owners:
  - vm: 'web-*'
    address: web-team@example.net
    timeZone: Europe/Paris
    channels: [chat]
  - vm: web-1
    address: alice@example.net
  - vm: 'db-?'
    address: dba@example.net
`,
).config;
const sources = { owners: config.owners, operator: config.notify?.operator };

test('metadata in the domain wins over the config and the operator', (t) => {
  const owner = resolveOwner(
    { vmName: 'web-1', metadata: { address: 'bob@example.net', timeZone: 'Asia/Tokyo' } },
    sources,
  );
  t.deepEqual(owner, { address: 'bob@example.net', timeZone: 'Asia/Tokyo', source: 'metadata' });
});

test('an exact name in the config wins over an earlier glob', (t) => {
  t.like(resolveOwner({ vmName: 'web-1' }, sources), {
    address: 'alice@example.net',
    source: 'config',
    matched: 'web-1',
  });
  t.deepEqual(resolveOwner({ vmName: 'web-2' }, sources), {
    address: 'web-team@example.net',
    timeZone: 'Europe/Paris',
    channels: ['chat'],
    source: 'config',
    matched: 'web-*',
  });
  t.like(resolveOwner({ vmName: 'db-7' }, sources), { address: 'dba@example.net' });
});

test('otherwise the operator, and nobody when there is no operator either', (t) => {
  t.deepEqual(resolveOwner({ vmName: 'db-17' }, sources), {
    address: 'ops@example.net',
    name: 'Ops',
    timeZone: 'UTC',
    source: 'operator',
  });
  t.is(resolveOwner({ vmName: 'db-17' }, { owners: config.owners }), undefined);
  t.like(resolveOwner({ vmName: 'x', metadata: { address: '  ' } }, sources), { source: 'operator' });
});

test('globs treat regex characters literally', (t) => {
  t.true(globToRegExp('a.b*').test('a.b-c'));
  t.false(globToRegExp('a.b*').test('axb'));
  t.false(globToRegExp('web-*').test('xweb-1'));
  t.true(globToRegExp('(x)?').test('(x)1'));
});

test('the config refuses an owner channel that does not exist, at its line', (t) => {
  const error = t.throws(() =>
    parseConfigText('c.yaml', 'owners:\n  - vm: a\n    address: a@b\n    channels: [mail]\n'),
  );
  t.regex(error?.message ?? '', /c\.yaml:4:\d+: owners\.0\.channels\.0: no notify channel is named mail/);
  t.throws(
    () => parseConfigText('c.yaml', 'owners:\n  - vm: a\n    address: a@b\n    timeZone: Mars/Olympus\n'),
    {
      message: /timeZone: is not a time zone/,
    },
  );
});

test('owner metadata round-trips through a domain XML, and DomainXml.owner reads it', (t) => {
  const element = formatOwnerElement({ address: 'a<b>&"c"@example.net', timeZone: 'Europe/Paris' });
  t.is(element, '<owner timeZone="Europe/Paris">a&lt;b&gt;&amp;"c"@example.net</owner>');
  // What libvirt shows after set-metadata with key "rehome".
  const xml = readFileSync('test/fixtures/domain-xml/inactive-simple-gib.xml', 'utf8').replace(
    /<\/uuid>/,
    `</uuid>\n  <metadata>\n    <rehome:owner xmlns:rehome="${REHOME_METADATA_NS}" timeZone="Europe/Paris">a&lt;b&gt;&amp;"c"@example.net</rehome:owner>\n  </metadata>`,
  );
  t.deepEqual(readOwnerMetadata(xml), { address: 'a<b>&"c"@example.net', timeZone: 'Europe/Paris' });
  t.is(DomainXml.parse(xml).owner, 'a<b>&"c"@example.net');
});

test("an owner's name with Unicode line separators reads back as it was set (libvirt reads XML 1.0 line ends)", (t) => {
  const name = 'Zoë\u2028Ops\u0085Team';
  const element = formatOwnerElement({ address: 'ops@example.net', name });
  t.deepEqual(readOwnerMetadata(element), { address: 'ops@example.net', name });
});

test('an owner set by DomainXml.setOwner is read too; other namespaces are not', (t) => {
  const domain = DomainXml.parse(readFileSync('test/fixtures/domain-xml/inactive-simple-gib.xml', 'utf8'));
  t.is(readOwnerMetadata(domain.toString()), undefined);
  domain.setOwner('carol@example.net');
  t.deepEqual(readOwnerMetadata(domain.toString()), { address: 'carol@example.net' });
  t.is(
    readOwnerMetadata('<domain><metadata><x:owner xmlns:x="urn:other">eve</x:owner></metadata></domain>'),
    undefined,
  );
  t.is(readOwnerMetadata('not xml <'), undefined);
  t.deepEqual(readOwnerMetadata(`<rehome:owner xmlns:rehome="${REHOME_METADATA_NS}">dan</rehome:owner>`), {
    address: 'dan',
  });
});
