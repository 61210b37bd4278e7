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

/**
 * Runs a program with the notice's JSON payload on stdin, and REHOME_NOTICE_ID, REHOME_NOTICE_KIND and
 * REHOME_RECIPIENT in its environment. Exit 0 is delivered; anything else fails with the program's stderr.
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
        env: {
          ...this.options.env,
          REHOME_NOTICE_ID: rendered.id,
          REHOME_NOTICE_KIND: rendered.kind,
          REHOME_RECIPIENT: recipient.address,
        },
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
