import { userInfo } from 'node:os';
import { execa } from 'execa';
import { RehomeError } from '../errors.js';

/** What OpenSSH would use to reach one host, as `ssh -G` resolved it. */
export interface ResolvedSshHost {
  /** The name that was resolved (the `Host` pattern side). */
  alias: string;
  hostname: string;
  user: string;
  port: number;
  /** Absolute paths, in OpenSSH's order; files may not exist. */
  identityFiles: string[];
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** yes | no | ask | accept-new (OpenSSH also prints true/false for yes/no). */
  strictHostKeyChecking: string;
  hashKnownHosts: boolean;
  /** `undefined` when no ProxyJump is configured. */
  proxyJump?: string;
  /** Seconds; 0 means off. */
  serverAliveInterval: number;
  serverAliveCountMax: number;
  /** Seconds; `undefined` means OpenSSH's default (the system TCP timeout). */
  connectTimeout?: number;
  hostKeyAlias?: string;
}

export interface SshConfigOptions {
  /** Passed as `ssh -F FILE`: tests and the lab use their own file instead of ~/.ssh/config. */
  configFile?: string;
  /** The ssh binary; `ssh` on PATH by default. */
  sshBinary?: string;
}

/** Run `ssh -G HOST` and parse what it prints. `user`/`port` act like `ssh -l`/`-p` (ProxyJump hops use them). */
export async function resolveSshHost(
  host: string,
  options: SshConfigOptions = {},
  overrides: { user?: string; port?: number } = {},
): Promise<ResolvedSshHost> {
  if (host === '' || host.startsWith('-')) {
    throw new RehomeError(`Invalid SSH destination: ${JSON.stringify(host)}`, 'invalid-input');
  }
  const args = [
    ...(options.configFile ? ['-F', options.configFile] : []),
    ...(overrides.user ? ['-l', overrides.user] : []),
    ...(overrides.port ? ['-p', String(overrides.port)] : []),
    '-G',
    '--',
    host,
  ];
  const result = await execa(options.sshBinary ?? 'ssh', args, { reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0 || result.failed) {
    throw new RehomeError(
      `ssh -G ${host} failed: ${(result.stderr || result.message || '').trim()}`,
      'config',
      ['Check your ssh configuration (ssh -G prints what OpenSSH would use)'],
    );
  }
  return parseSshG(host, result.stdout);
}

/** Parse `ssh -G` output. Exported for tests; `home`/`localUser` default to the current user as OpenSSH sees it. */
export function parseSshG(
  alias: string,
  text: string,
  env: { home?: string; localUser?: string } = {},
): ResolvedSshHost {
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    const key = (match[1] as string).toLowerCase();
    const value = match[2] as string;
    single.set(key, value);
    multi.set(key, [...(multi.get(key) ?? []), value]);
  }
  const hostname = single.get('hostname') ?? alias;
  const user = single.get('user') ?? userInfo().username;
  const port = Number(single.get('port') ?? '22');
  const tokens: Record<string, string> = {
    '%': '%',
    d: env.home ?? openSshHome(),
    u: env.localUser ?? userInfo().username,
    h: hostname,
    r: user,
    p: String(port),
    n: alias,
  };
  const expand = (path: string) => expandPath(path, tokens);
  const words = (key: string) => (single.get(key) ?? '').split(/\s+/).filter((w) => w !== '' && w !== 'none');
  const proxyJump = single.get('proxyjump');
  const proxyCommand = single.get('proxycommand');
  if (proxyCommand && proxyCommand !== 'none') {
    // ssh2 cannot run it, and connecting directly instead would bypass what the operator set up: refuse.
    throw new RehomeError(
      `${alias} has ProxyCommand ${JSON.stringify(proxyCommand)} in the ssh config: rehome does not run proxy commands`,
      'config',
      [
        'Use ProxyJump to a jump host instead (rehome supports one hop), or give rehome an ssh config file without it (ssh.configFile).',
      ],
      { subject: { code: 'proxy-command', host: alias } },
    );
  }
  const connectTimeout = single.get('connecttimeout');
  return {
    alias,
    hostname,
    user,
    port,
    identityFiles: (multi.get('identityfile') ?? []).filter((f) => f !== 'none').map(expand),
    userKnownHostsFiles: words('userknownhostsfile').map(expand),
    globalKnownHostsFiles: words('globalknownhostsfile').map(expand),
    strictHostKeyChecking: single.get('stricthostkeychecking') ?? 'ask',
    hashKnownHosts: single.get('hashknownhosts') === 'yes',
    proxyJump: proxyJump && proxyJump !== 'none' ? proxyJump : undefined,
    serverAliveInterval: Number(single.get('serveraliveinterval') ?? '0') || 0,
    serverAliveCountMax: Number(single.get('serveralivecountmax') ?? '3') || 3,
    connectTimeout: connectTimeout && connectTimeout !== 'none' ? Number(connectTimeout) : undefined,
    hostKeyAlias: single.get('hostkeyalias'),
  };
}

/** `~` and the `%` tokens OpenSSH leaves unexpanded in `ssh -G` output. */
export function expandPath(path: string, tokens: Record<string, string>): string {
  const home = tokens.d ?? openSshHome();
  let out = path.replace(/^~(?=\/|$)/, home);
  out = out.replace(/%(.)/g, (whole, token: string) => tokens[token] ?? whole);
  return out;
}

/** OpenSSH takes the home directory from the password database, not from $HOME. */
function openSshHome(): string {
  return userInfo().homedir;
}
