/** Facts only the host's shell knows, read over its SSH connection. Each command is an argv. */
import { RehomeError } from '../errors.js';
import type { SshConnection } from '../host/ssh-connection.js';

const TIMEOUT_MS = 15_000;

/** What these commands need of an SSH connection. */
export type NodeShell = Pick<SshConnection, 'exec' | 'name'>;

async function run(ssh: NodeShell, argv: string[]): Promise<string> {
  const result = await ssh.exec(argv, { timeoutMs: TIMEOUT_MS });
  if (result.code !== 0) {
    throw new RehomeError(
      `${argv[0]} on ${ssh.name} exited ${result.code ?? result.signal}: ${result.stderr.trim()}`,
      'internal',
    );
  }
  return result.stdout;
}

/** Free bytes for an unprivileged writer in the file system holding `dir` (`df -B1 --output=avail`). */
export async function freeBytesIn(ssh: NodeShell, dir: string): Promise<number> {
  return parseDfAvail(await run(ssh, ['df', '-B1', '--output=avail', '--', dir]));
}

export function parseDfAvail(output: string): number {
  const value = output.trim().split('\n').at(-1)?.trim() ?? '';
  if (!/^\d+$/.test(value))
    throw new RehomeError(`Unexpected df output: ${JSON.stringify(output)}`, 'internal');
  return Number(value);
}

/** Names of the host's Linux bridges (`ip -j link show type bridge`). */
export async function bridgeNames(ssh: NodeShell): Promise<string[]> {
  return parseIpLinkBridges(await run(ssh, ['ip', '-j', 'link', 'show', 'type', 'bridge']));
}

export function parseIpLinkBridges(output: string): string[] {
  const trimmed = output.trim();
  if (trimmed === '') return [];
  const links = JSON.parse(trimmed) as { ifname?: unknown }[];
  if (!Array.isArray(links)) throw new RehomeError('Unexpected ip -j link output', 'internal');
  return links
    .map((link) => link.ifname)
    .filter((name): name is string => typeof name === 'string')
    .sort();
}
