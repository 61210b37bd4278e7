import { execa } from 'execa';
import { type Channel, type DeliveryResult, type Recipient, timedDelivery } from './channel.js';
import type { RenderedNotice } from './render.js';

export interface CommandChannelOptions {
  name?: string;
  /** Program and arguments, run without a shell. */
  argv: [string, ...string[]];
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** What the command inherits of rehome's environment: enough to run a program, nothing that grants access. */
const INHERITED = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

/**
 * The command's whole environment: PATH, the locale and TZ from rehome's, the channel's own `env`, and the notice's
 * variables. Nothing else: not SSH_AUTH_SOCK (the fleet's root keys), not a database URL, not the SMTP password.
 */
export function commandEnvironment(
  own: Record<string, string> | undefined,
  notice: Record<string, string>,
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin' };
  for (const name of INHERITED) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...own, ...notice };
}

/**
 * Runs a program with the notice's JSON payload on stdin, and REHOME_NOTICE_ID, REHOME_NOTICE_KIND and
 * REHOME_RECIPIENT in its environment (see commandEnvironment: it gets none of the rest of rehome's). Exit 0 is
 * delivered; anything else fails with the program's stderr.
 */
export class CommandChannel implements Channel {
  readonly name: string;
  readonly type = 'command' as const;

  constructor(private readonly options: CommandChannelOptions) {
    this.name = options.name ?? 'command';
  }

  send(rendered: RenderedNotice, recipient: Recipient): Promise<DeliveryResult> {
    return timedDelivery(this, rendered, recipient, async () => {
      const [file, ...args] = this.options.argv;
      const result = await execa(file, args, {
        input: JSON.stringify(rendered.payload),
        timeout: this.options.timeoutMs ?? 30_000,
        reject: false,
        extendEnv: false,
        env: commandEnvironment(this.options.env, {
          REHOME_NOTICE_ID: rendered.id,
          REHOME_NOTICE_KIND: rendered.kind,
          REHOME_RECIPIENT: recipient.address,
        }),
      });
      if (!result.failed) return { ok: true, attempts: 1, detail: 'exit 0' };
      const stderr = result.stderr.trim().slice(0, 2000);
      const why = result.timedOut
        ? `timed out after ${this.options.timeoutMs ?? 30_000} ms`
        : result.exitCode !== undefined
          ? `exit ${result.exitCode}`
          : result.shortMessage;
      return { ok: false, attempts: 1, error: stderr ? `${why}: ${stderr}` : why };
    });
  }
}
