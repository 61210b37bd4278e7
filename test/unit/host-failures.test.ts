/** A refused host key is exit 5 everywhere; a VM looked up while hosts cannot be searched is not "not found". */
import test from 'ava';
import { ExitCode, exitCodeForHostFailures, exitCodeForKind } from '../../src/cli/exit-codes.js';
import { planHostDrain } from '../../src/drain/plan.js';
import { RehomeError } from '../../src/errors.js';
import { targetFor } from '../../src/inventory/choose-target.js';
import type { PlacementInput } from '../../src/inventory/placement-facts.js';
import { LibvirtError, LibvirtErrorCode } from '../../src/libvirt/errors.js';
import type { Runtime } from '../../src/migration/index.js';
import { locateVm } from '../../src/migration/services/locate.js';
import { host } from './placement-fixtures.js';

const refusedKey = {
  message: 'Host key for hv1 is not known',
  kind: 'host-key' as const,
  hints: ['ssh-keyscan hv1'],
};
const down = { message: 'connect ECONNREFUSED', kind: 'unreachable' as const, hints: [] };

function unread(failures: PlacementInput['failures']): PlacementInput {
  return { hosts: [host('hv2')], vms: [], unreachable: Object.keys(failures ?? {}), failures };
}

test('inventory: a refused host key among the failures exits 5, else the first failure’s code', (t) => {
  t.is(exitCodeForHostFailures(['unreachable', 'host-key']), ExitCode.hostKeyRejected);
  t.is(exitCodeForHostFailures(['unreachable']), ExitCode.hostUnreachable);
  t.is(exitCodeForHostFailures(['libvirt', 'unreachable']), ExitCode.libvirt);
  t.is(exitCodeForHostFailures([]), ExitCode.ok);
});

test('plan drain and placement: an unread source keeps its reason, and a refused key its kind', (t) => {
  const speed = { linkSpeed: { mibPerSec: 100, source: 'flag' as const } };
  const keyError = t.throws(() => planHostDrain('hv1', unread({ hv1: refusedKey }), speed), {
    instanceOf: RehomeError,
  });
  t.is(keyError?.kind, 'host-key');
  t.is(exitCodeForKind(keyError?.kind ?? 'internal'), 5);
  t.regex(
    keyError?.message ?? '',
    /hv1 could not be read, so its VMs are unknown: Host key for hv1 is not known/,
  );
  t.deepEqual(keyError?.hints, ['ssh-keyscan hv1']);
  t.is(
    t.throws(() => planHostDrain('hv1', unread({ hv1: down }), speed))?.message.includes('ECONNREFUSED'),
    true,
  );
  const placed = t.throws(
    () => targetFor({ name: 'web', uuid: 'u', source: 'hv1' }, unread({ hv1: refusedKey })),
    {
      instanceOf: RehomeError,
    },
  );
  t.is(placed?.kind, 'host-key');
});

function runtime(hosts: Record<string, () => Promise<unknown>>): Runtime {
  return {
    config: { hosts: Object.keys(hosts).map((name) => ({ name })) },
    hosts: { libvirt: async (name: string) => ({ lookupDomainByName: hosts[name] }) },
  } as unknown as Runtime;
}

const noDomain = () =>
  Promise.reject(
    new LibvirtError({
      code: LibvirtErrorCode.noDomain,
      domain: 10,
      message: 'Domain not found',
      level: 2,
      str1: null,
      str2: null,
      str3: null,
      int1: 0,
      int2: 0,
    }),
  );

test('migrate: a VM looked up while hosts cannot be searched is their error (4, or 5 for a key), not "not found"', async (t) => {
  const allDown = await t.throwsAsync(
    locateVm(
      runtime({ hv1: () => Promise.reject(new RehomeError('connect ECONNREFUSED', 'unreachable')) }),
      'web',
    ),
    { instanceOf: RehomeError },
  );
  t.is(allDown?.kind, 'unreachable');
  t.regex(allDown?.message ?? '', /VM web was not found, but hv1 could not be searched/);
  const oneKey = await t.throwsAsync(
    locateVm(
      runtime({
        hv1: noDomain,
        hv2: () => Promise.reject(new RehomeError('Host key for hv2 is not known', 'host-key')),
      }),
      'web',
    ),
    { instanceOf: RehomeError },
  );
  t.is(oneKey?.kind, 'host-key');
  const nowhere = await t.throwsAsync(locateVm(runtime({ hv1: noDomain, hv2: noDomain }), 'web'), {
    instanceOf: RehomeError,
  });
  t.is(nowhere?.kind, 'not-found');
  t.is(nowhere?.message, 'No VM named web on any configured host');
});
