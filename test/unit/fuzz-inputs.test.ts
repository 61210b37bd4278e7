/**
 * Properties of what rehome reads from outside: domain XML (parse, edit, serialize), the config file, deadlines and
 * bandwidths typed by an operator, and link tokens sent by anyone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/config-file.js';
import { RehomeError } from '../../src/errors.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import { parseBandwidth } from '../../src/migration/services/bandwidth.js';
import { parseDeadline, parseDuration } from '../../src/notify/deadline.js';
import { signLinkToken, verifyLinkToken } from '../../src/notify/links.js';
import { checkProperty, returnsOrThrows } from '../helpers/fuzz.js';

const FIXTURES = new URL('../fixtures/domain-xml/', import.meta.url);
const FIXTURE_NAMES = readdirSync(FIXTURES).filter((name) => name.endsWith('.xml'));
const DOMAINS = FIXTURE_NAMES.map((name) => readFileSync(new URL(name, FIXTURES), 'utf8'));
/** A fixture by name: a failure then names the file, not its whole text. */
const fixtureXml = fc.constantFrom(...FIXTURE_NAMES).map(
  (name) => DOMAINS[FIXTURE_NAMES.indexOf(name)] as string,
  (xml) => FIXTURE_NAMES[DOMAINS.indexOf(xml as string)] as string,
);

/** Text an XML 1.0 document can hold as it is (no control characters; attribute values keep no tab or newline). */
const xmlText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => ![...s].some(isControl) && s.trim() === s && s !== '');

function isControl(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f || code === 0xfffe || code === 0xffff;
}

test('domain XML: every fixture serializes back byte for byte, and again after a parse of its output', (t) => {
  for (const xml of DOMAINS) {
    const once = DomainXml.parse(xml).toString();
    t.is(once, xml);
    t.is(DomainXml.parse(once).toString(), once);
  }
});

test('domain XML: an owner and a repointed disk survive serialize and parse; nothing else changes', (t) => {
  checkProperty(
    t,
    fc.property(fixtureXml, xmlText, xmlText, (xml, owner, file) => {
      const original = DomainXml.parse(xml);
      const edited = DomainXml.parse(xml);
      edited.setOwner(owner);
      const local = edited.disks.find((d) => d.type === 'file' && d.device === 'disk');
      if (local) edited.repointDisk(local.targetDev, `/images/${file}`);
      const back = DomainXml.parse(edited.toString());
      return (
        back.owner === owner &&
        (!local ||
          back.disks.find((d) => d.targetDev === local.targetDev)?.source.file === `/images/${file}`) &&
        back.name === original.name &&
        back.uuid === original.uuid &&
        JSON.stringify(back.nics) === JSON.stringify(original.nics) &&
        back.disks.length === original.disks.length &&
        DomainXml.parse(back.toString()).toString() === back.toString()
      );
    }),
    150,
  );
});

test('domain XML: any text is a DomainXml or a RehomeError', (t) => {
  const mangled = fc
    .tuple(fixtureXml, fc.nat(), fc.nat(), fc.string({ maxLength: 8 }))
    .map(([xml, from, length, insert]) => {
      const at = from % xml.length;
      return xml.slice(0, at) + insert + xml.slice(at + (length % 20));
    });
  checkProperty(
    t,
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), mangled), (text) => {
      returnsOrThrows(() => {
        const xml = DomainXml.parse(text);
        void [xml.name, xml.uuid, xml.disks, xml.nics, xml.cpu, xml.owner];
      }, RehomeError);
      return true;
    }),
    300,
  );
});

test('config: any text, and any YAML document, loads or is a RehomeError of kind config', (t) => {
  const document = fc.jsonValue({ maxDepth: 4 }).map((value) => stringify({ hosts: [], ...asObject(value) }));
  const sectioned = fc
    .record({
      section: fc.constantFrom(
        'hosts',
        'tls',
        'ssh',
        'notify',
        'owners',
        'links',
        'migration',
        'placement',
        'disks',
      ),
      value: fc.jsonValue({ maxDepth: 3 }),
    })
    .map(({ section, value }) => stringify({ [section]: value }));
  checkProperty(
    t,
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), document, sectioned), (text) => {
      try {
        parseConfigText('/etc/rehome/config.yaml', text);
      } catch (err) {
        return err instanceof RehomeError && err.kind === 'config';
      }
      return true;
    }),
    400,
  );
});

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

const NOW = new Date('2026-12-01T10:00:00Z');

test('deadlines: any text is a date or a RehomeError; +N units and ISO instants with Z mean what they say', (t) => {
  checkProperty(
    t,
    fc.property(fc.string({ maxLength: 40 }), (text) => {
      returnsOrThrows(() => parseDeadline(text, NOW), RehomeError);
      return true;
    }),
    500,
  );
  const UNIT = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  checkProperty(
    t,
    fc.property(fc.integer({ min: 1, max: 999_999 }), fc.constantFrom('s', 'm', 'h', 'd'), (n, unit) => {
      const at = parseDeadline(`+${n}${unit}`, NOW).getTime();
      return (
        at - NOW.getTime() === n * UNIT[unit as keyof typeof UNIT] &&
        parseDuration(`${n}${unit}`) === n * UNIT[unit as keyof typeof UNIT]
      );
    }),
    300,
  );
  checkProperty(
    t,
    fc.property(
      fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
      (date) => {
        const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
        return parseDeadline(whole.toISOString().replace('.000Z', 'Z'), NOW).getTime() === whole.getTime();
      },
    ),
    300,
  );
});

test('bandwidth: any text is a positive byte rate or a RehomeError; units scale as documented', (t) => {
  checkProperty(
    t,
    fc.property(fc.string({ maxLength: 20 }), (text) => {
      try {
        const bytes = parseBandwidth(text);
        return Number.isInteger(bytes) && bytes >= 1;
      } catch (err) {
        return err instanceof RehomeError && err.kind === 'invalid-input';
      }
    }),
    500,
  );
  checkProperty(
    t,
    fc.property(fc.integer({ min: 1, max: 100_000 }), (n) => {
      return (
        parseBandwidth(`${n}`) === n * 1024 ** 2 &&
        parseBandwidth(`${n}K`) === n * 1024 &&
        parseBandwidth(`${n}MiB/s`) === n * 1024 ** 2 &&
        parseBandwidth(`${n}Mbit`) === Math.round((n * 1e6) / 8)
      );
    }),
    300,
  );
});

const SECRET = 'fuzz-secret-0123456789-abcdefghijklmnop';

test('link tokens: anything a stranger sends is refused with a reason, never an exception', (t) => {
  const near = fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([at, char]) => {
    const token = signLinkToken(SECRET, {
      migrationId: 'm-1',
      vmUuid: 'u-1',
      action: 'reboot',
      expiresAt: new Date('2026-12-15T00:00:00Z'),
    });
    const i = at % token.length;
    return token.slice(0, i) + char + token.slice(i + 1);
  });
  checkProperty(
    t,
    fc.property(
      fc.oneof(fc.string({ maxLength: 120 }), fc.base64String({ maxLength: 120 }), near),
      (token) => {
        const verdict = verifyLinkToken(SECRET, token, NOW);
        return verdict.ok
          ? verdict.payload.mid === 'm-1' // only the real token, when the "mutation" kept it as it was
          : ['malformed', 'bad-signature', 'expired'].includes(verdict.reason);
      },
    ),
    500,
  );
});

test('link tokens: a signed token verifies to its payload, and fails after its expiry', (t) => {
  checkProperty(
    t,
    fc.property(
      fc.string({ maxLength: 40 }),
      fc.uuid(),
      fc.constantFrom('reboot' as const, 'reschedule' as const),
      fc.integer({ min: 1, max: 365 * 86_400 }),
      (mid, vm, action, seconds) => {
        const expiresAt = new Date(NOW.getTime() + seconds * 1000);
        const token = signLinkToken(SECRET, { migrationId: mid, vmUuid: vm, action, expiresAt });
        const verdict = verifyLinkToken(SECRET, token, NOW);
        const later = verifyLinkToken(SECRET, token, new Date(expiresAt.getTime() + 1000));
        return (
          verdict.ok &&
          verdict.payload.mid === mid &&
          verdict.payload.vm === vm &&
          verdict.payload.action === action &&
          !later.ok &&
          later.reason === 'expired' &&
          !verifyLinkToken(`${SECRET}x`, token, NOW).ok
        );
      },
    ),
    200,
  );
});
