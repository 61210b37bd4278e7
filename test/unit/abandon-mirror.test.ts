import test from 'ava';
import { BlockJobAbortFlags, DomainState } from '../../src/libvirt/protocol/constants.js';
import type { BlockJobInfo } from '../../src/libvirt/protocol/messages.js';
import { abandonMirror, type BlockJobClient, endMirrorWithoutPivot } from '../../src/sync/block-copy.js';
import { cutConnectionsArgv } from '../../src/sync/export-connections.js';
import { copyJobDisk } from '../../src/sync/job-errors.js';

const domain = { name: 'vm1', uuid: '00000000-0000-0000-0000-000000000001', id: 1 };
const info: BlockJobInfo = { type: 2, bandwidth: 0n, cur: 10n, end: 20n };

/** A copy job that ends only once its NBD connection is cut (a target gone: QEMU waits for replies forever). */
function jobWaitingForADeadTarget() {
  const state = { cut: false, aborts: [] as number[] };
  const client = {
    getBlockJobInfo: async () => (state.cut ? null : info),
    blockJobAbort: async (_d: unknown, _disk: string, flags = 0) => {
      state.aborts.push(flags);
    },
  } as unknown as BlockJobClient;
  return { client, state };
}

test('a cancelled copy that does not end (its target vanished) ends once its connection is cut', async (t) => {
  const { client, state } = jobWaitingForADeadTarget();
  const started = Date.now();
  await abandonMirror(client, domain, 'vda', {
    stuckMs: 300,
    unstick: async () => {
      state.cut = true;
    },
  });
  t.deepEqual(state.aborts, [BlockJobAbortFlags.async], 'asked once, without waiting inside libvirt');
  t.true(state.cut);
  t.true(Date.now() - started < 5000);
});

test('a cancelled copy that never ends is an error, not a wait without end', async (t) => {
  const { client } = jobWaitingForADeadTarget();
  const error = await t.throwsAsync(abandonMirror(client, domain, 'vda', { stuckMs: 200 }));
  t.regex(error?.message ?? '', /vm1\/vda was cancelled but has not ended/);
});

test('a job that ends at its cancel is not cut; no job, no cancel', async (t) => {
  let calls = 0;
  let present = true;
  const client = {
    getBlockJobInfo: async () => (present ? info : null),
    blockJobAbort: async () => {
      calls++;
      present = false;
    },
  } as unknown as BlockJobClient;
  await abandonMirror(client, domain, 'vda', { unstick: async () => t.fail('cut a healthy job') });
  await abandonMirror(client, domain, 'vda');
  t.is(calls, 1);
});

test('the cut names the export’s address and port only (another target’s export on that port is left alone)', (t) => {
  t.deepEqual(cutConnectionsArgv({ address: '10.0.0.2', port: 10809 }), [
    'ss',
    '-K',
    '-t',
    'dst',
    '10.0.0.2',
    'dport',
    '=',
    ':10809',
  ]);
  t.is(cutConnectionsArgv({ address: 'fd00::2', port: 10810 })[4], '[fd00::2]');
});

test('the disk of a copy job’s QMP name', (t) => {
  t.is(copyJobDisk('copy-vda-libvirt-1-format'), 'vda');
  t.is(copyJobDisk('copy-sdb-libvirt-3-storage'), 'sdb');
  t.is(copyJobDisk('drive-virtio-disk0'), undefined);
});

/** A paused (or running) guest whose copy stands at cur/end, or has no job at all. */
function jobAt(state: { paused: boolean; job: BlockJobInfo | null }) {
  const aborts: number[] = [];
  const client = {
    getDomainState: async () => ({
      state: state.paused ? DomainState.paused : DomainState.running,
      reason: 0,
    }),
    getBlockJobInfo: async () => state.job,
    blockJobAbort: async (_d: unknown, _disk: string, flags = 0) => {
      aborts.push(flags);
    },
  } as unknown as BlockJobClient;
  return { client, aborts };
}

test('a mirror is ended without pivot only when the guest is paused and nothing is dirty', async (t) => {
  const converged = { type: 2, bandwidth: 0n, cur: 20n, end: 20n };
  const done = jobAt({ paused: true, job: converged });
  await endMirrorWithoutPivot(done.client, domain, 'vda');
  t.deepEqual(done.aborts, [BlockJobAbortFlags.none], 'a synchronous end, inside libvirt');
  const running = jobAt({ paused: false, job: converged });
  await t.throwsAsync(endMirrorWithoutPivot(running.client, domain, 'vda'), { message: /not paused/ });
  const dirty = jobAt({ paused: true, job: info });
  await t.throwsAsync(endMirrorWithoutPivot(dirty.client, domain, 'vda'), {
    message: /10 bytes not yet copied/,
  });
  // Gone before rehome ended it: failed or completed, nobody can tell now.
  const gone = jobAt({ paused: true, job: null });
  await t.throwsAsync(endMirrorWithoutPivot(gone.client, domain, 'vda'), { message: /cannot be trusted/ });
  t.deepEqual([...running.aborts, ...dirty.aborts, ...gone.aborts], [], 'no refused job was touched');
});
