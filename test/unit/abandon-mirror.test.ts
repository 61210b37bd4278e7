import test from 'ava';
import { BlockJobAbortFlags } from '../../src/libvirt/protocol/constants.js';
import type { BlockJobInfo } from '../../src/libvirt/protocol/messages.js';
import { abandonMirror, type BlockJobClient } from '../../src/sync/block-copy.js';
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
