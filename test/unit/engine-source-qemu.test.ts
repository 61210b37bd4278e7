/**
 * The target starts as soon as the source's QEMU has exited, not when libvirt's destroy returns (libvirt looks at the
 * process again only every 200 ms, and answers nothing about the domain meanwhile). The fake's destroy behaves so: the
 * QEMU process goes at once, the domain is shut off `destroyLagMs` later. Never two QEMUs, whichever way it goes.
 */
import test, { type ExecutionContext } from 'ava';
import { Lab } from '../fake/engine-harness.js';
import { qemuPidFile } from '../fake/fake-host.js';
import { assertMoved, assertNeverTwoCopies } from '../fake/invariants.js';
import { isQemuOf, LifecycleEvent, liveArgv, runCutover } from '../fake/src-imports.js';

/** What the source looked like each time the target started. */
async function cutoverWatchingTheStart(t: ExecutionContext, lab: Lab) {
  const starts: { sourceState?: string; sourceQemu: boolean }[] = [];
  const emit = lab.fake.emit.bind(lab.fake);
  lab.fake.emit = (host, domain, event) => {
    if (host === 'dst' && event.kind === 'lifecycle' && event.event === LifecycleEvent.started) {
      const source = lab.fake.host('src').domainByUuid(lab.guest.uuid);
      starts.push({ sourceState: source?.state, sourceQemu: lab.fake.host('src').runsQemu(source) });
    }
    emit(host, domain, event);
  };
  const outcome = await runCutover(await lab.context(lab.process('cutover')));
  t.is(outcome, 'done');
  assertNeverTwoCopies(t, lab);
  assertMoved(t, lab, await lab.migration());
  return starts;
}

test('the target starts once the source QEMU exited, while libvirt still finishes its destroy', async (t) => {
  const lab = new Lab(t);
  lab.fake.destroyLagMs = 1000;
  await lab.arm();
  const starts = await cutoverWatchingTheStart(t, lab);
  t.deepEqual(starts, [{ sourceState: 'paused', sourceQemu: false }]);
  t.true((await lab.auditSteps()).includes('source-stopped:ok'), 'libvirt stopped the source in the end');
});

test('without the pid file of the source QEMU, the target starts only once libvirt stopped the source', async (t) => {
  const lab = new Lab(t);
  lab.fake.destroyLagMs = 200;
  await lab.arm();
  lab.fake.host('src').files.delete(qemuPidFile('vm1'));
  const starts = await cutoverWatchingTheStart(t, lab);
  t.deepEqual(starts, [{ sourceState: 'shutoff', sourceQemu: false }]);
});

test('a stale pid file (its process gone) is not taken for an exit of the source QEMU', async (t) => {
  const lab = new Lab(t);
  lab.fake.destroyLagMs = 200;
  await lab.arm();
  lab.fake.host('src').files.set(qemuPidFile('vm1'), { kind: 'text', text: '7777\n' });
  const starts = await cutoverWatchingTheStart(t, lab);
  t.deepEqual(starts, [{ sourceState: 'shutoff', sourceQemu: false }]);
});

test("a QEMU is the VM's when its -uuid is the VM's UUID", (t) => {
  const uuid = '6f1e1c2a-0d3b-4b7e-9a51-3c0d2e4f5a61';
  t.true(isQemuOf(['qemu-system-x86_64', '-name', 'guest=vm1', '-uuid', uuid], uuid));
  t.true(isQemuOf(['qemu', '-uuid', uuid.toUpperCase()], uuid));
  t.false(isQemuOf(['qemu', '-uuid', 'another'], uuid), 'another VM');
  t.false(isQemuOf(['qemu', '-name', uuid, '-uuid', 'another'], uuid), 'the UUID elsewhere');
  t.false(isQemuOf(['qemu', uuid], uuid), 'no -uuid');
  t.false(isQemuOf(['qemu', '-uuid'], uuid), 'nothing after -uuid');
});

test('a process read from /proc is live unless a zombie; its argv is its cmdline', (t) => {
  const proc = (state: string, ...argv: string[]) =>
    `4001 (qemu system) ${state} 1 4001\n${argv.join('\0')}\0`;
  t.deepEqual(liveArgv(proc('S', 'qemu', '-uuid', 'u u')), ['qemu', '-uuid', 'u u']);
  t.deepEqual(liveArgv(proc('R', 'a')), ['a']);
  t.is(liveArgv(proc('Z')), undefined, 'a zombie');
  t.is(liveArgv(proc('X')), undefined, 'dead');
  t.is(liveArgv(''), undefined, 'nothing read');
});
