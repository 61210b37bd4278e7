/** templates/ops: the systemd unit runs `watch` with flags it has, and its readiness check polls where it serves. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import Watch from '../../commands/watch.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const unit = readFileSync(new URL('../../templates/ops/rehome-watch.service', import.meta.url), 'utf8');
const setting = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1] ?? '';

test('ExecStart runs watch with flags watch has, serving on loopback', (t) => {
  const [binary, command, ...args] = setting('ExecStart').split(/\s+/);
  t.is(binary, '/usr/bin/rehome');
  t.is(command, 'watch');
  const flags = args.filter((arg) => arg.startsWith('--')).map((arg) => arg.slice(2));
  const known = new Set([...Object.keys(Watch.flags), ...Object.keys(Watch.baseFlags), 'json']);
  for (const flag of flags) t.true(known.has(flag), `watch has no --${flag}`);
  t.true(args.includes('--json'), 'events go to the journal as JSON lines');
  t.is(args[args.indexOf('--serve') + 1], '127.0.0.1:9180');
});

test('the readiness check polls the address watch serves, and restarts skip what cannot heal', (t) => {
  t.true(setting('ExecStartPost').includes('http://127.0.0.1:9180/metrics'));
  t.is(setting('Restart'), 'on-failure');
  t.deepEqual(setting('RestartPreventExitStatus').split(' ').map(Number), [ExitCode.usage, ExitCode.config]);
  t.true(Number(setting('TimeoutStopSec')) >= 300, 'time to finish a cutover on SIGTERM');
});
