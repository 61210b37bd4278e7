import test from 'ava';
import type { Channel, DeliveryResult } from '../../src/notify/channel.js';
import { dispatchNotice } from '../../src/notify/dispatch.js';
import type { Notice } from '../../src/notify/notice.js';
import { NoticeRenderer, type RenderedNotice } from '../../src/notify/render.js';

const notice: Notice = {
  id: 'mig-1:completed:1',
  kind: 'completed',
  vm: { name: 'db-1', uuid: 'u-1' },
  owner: { address: 'owner@example.test' },
  deadline: '2026-12-15T22:00:00Z',
  ipAndMacKept: true,
  reason: 'host maintenance',
  operator: { address: 'ops@example.test' },
  sentAt: '2026-12-15T21:00:00Z',
};

function recordingChannel(name: string, behaviour: 'ok' | 'fail' | 'throw', seen: RenderedNotice[]): Channel {
  return {
    name,
    type: 'command',
    async send(rendered, recipient) {
      seen.push(rendered);
      if (behaviour === 'throw') throw new Error(`${name} exploded`);
      const result: DeliveryResult = {
        noticeId: rendered.id,
        noticeKind: rendered.kind,
        channel: name,
        channelType: 'command',
        recipient: recipient.address,
        ok: behaviour === 'ok',
        attempts: 1,
        error: behaviour === 'fail' ? 'nope' : undefined,
        startedAt: new Date().toISOString(),
        durationMs: 0,
      };
      return result;
    },
  };
}

test('renders once, sends to every channel, reports each, and never throws for failures', async (t) => {
  const seen: RenderedNotice[] = [];
  const logged: DeliveryResult[] = [];
  const outcome = await dispatchNotice(
    notice,
    [
      { channel: recordingChannel('a', 'ok', seen), recipient: { address: 'owner@example.test' } },
      { channel: recordingChannel('b', 'fail', seen), recipient: { address: 'owner@example.test' } },
      { channel: recordingChannel('c', 'throw', seen), recipient: { address: 'team-42' } },
    ],
    { renderer: new NoticeRenderer(), onDelivery: (r) => void logged.push(r) },
  );
  t.is(seen.length, 3);
  t.is(seen[0], seen[1], 'one rendering shared by all channels');
  t.deepEqual(
    outcome.results.map((r) => [r.channel, r.ok]),
    [
      ['a', true],
      ['b', false],
      ['c', false],
    ],
  );
  t.is(outcome.results[2]?.error, 'c exploded');
  t.is(outcome.results[2]?.recipient, 'team-42');
  t.is(logged.length, 3);
  t.is(outcome.rendered?.kind, 'completed');
});

test('a broken template fails every delivery as a result, not an exception', async (t) => {
  const seen: RenderedNotice[] = [];
  const logged: DeliveryResult[] = [];
  const broken = {
    render(): RenderedNotice {
      throw new Error('bad override template');
    },
  };
  const outcome = await dispatchNotice(
    notice,
    [{ channel: recordingChannel('a', 'ok', seen), recipient: { address: 'x' } }],
    { renderer: broken, onDelivery: (r) => void logged.push(r) },
  );
  t.is(seen.length, 0);
  t.is(outcome.rendered, undefined);
  t.false(outcome.results[0]?.ok);
  t.regex(outcome.results[0]?.error ?? '', /rendering failed: bad override template/);
  t.is(outcome.results[0]?.noticeId, notice.id);
  t.is(logged.length, 1);
});
