/**
 * `tsx test/pg/with-postgres.ts <command> [args…]`: runs the command with REHOME_TEST_PG_URL set. A URL already in
 * the environment is used as is; otherwise a private cluster is started for the command (one for the whole test run,
 * instead of one per test file) and stopped when it ends, whatever its outcome. Exits with the command's status.
 */
import { spawn } from 'node:child_process';
import { startPrivateCluster, type TestPostgres } from './private-cluster.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: tsx test/pg/with-postgres.ts <command> [args…]\n');
  process.exit(2);
}

let server: TestPostgres | undefined;
if (!process.env.REHOME_TEST_PG_URL) {
  server = startPrivateCluster();
  process.stderr.write(`with-postgres: private cluster, postmaster pid ${server.pid}\n`);
}
const child = spawn(command, args, {
  stdio: 'inherit',
  env: { ...process.env, REHOME_TEST_PG_URL: process.env.REHOME_TEST_PG_URL ?? server?.url },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  server?.stop();
  process.exit(code ?? (signal ? 128 : 1));
});
