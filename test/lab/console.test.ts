import test from 'ava';
import { judgeNothingLost, parseConsole } from './console.js';

const bootOne = 'init: start\nBOOT boot=1 resume=0\nACK boot=1 n=1\nACK boot=1 n=2\nACK boot=1 n=3\n';

test('a reboot that resumes from the last acknowledged counter loses nothing', (t) => {
  const report = judgeNothingLost([
    parseConsole('lab-a', `${bootOne}reboot: Restarting system\nBOOT boot=2 resume=3\n`),
  ]);
  t.true(report.ok);
  t.deepEqual(report.transitions, [
    { boot: 2, lastAckedBefore: 3, resumedFrom: 3, bootedOn: 'lab-a', ok: true },
  ]);
});

test('a disk older than the last acknowledged counter is a loss', (t) => {
  const report = judgeNothingLost([parseConsole('lab-a', `${bootOne}BOOT boot=2 resume=2\n`)]);
  t.false(report.ok);
  t.regex(report.problems.join('\n'), /disk had 2, but 3 was acknowledged/);
});

test('a guest that moved is judged across the consoles of both hosts', (t) => {
  const report = judgeNothingLost([
    parseConsole('lab-a', bootOne),
    parseConsole('lab-b', 'BOOT boot=2 resume=1\nACK boot=2 n=2\n'),
  ]);
  t.false(report.ok);
  t.is(report.transitions[0]?.bootedOn, 'lab-b');
});

test('a line cut by a kernel message does not count', (t) => {
  const record = parseConsole('lab-a', 'ACK boot=1 n=4[   3.1] virtio_net\nACK boot=1 n=5\n');
  t.deepEqual(record.acks, [{ boot: 1, n: 5 }]);
});

test('a boot whose predecessor left no record is reported, not passed', (t) => {
  const report = judgeNothingLost([parseConsole('lab-b', 'BOOT boot=2 resume=9\n')]);
  t.false(report.ok);
});
