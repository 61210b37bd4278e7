import { hostname } from 'node:os';
import type { NotifyConfig } from '../config/schema.js';
import type { Channel } from './channel.js';
import { CommandChannel } from './command-channel.js';
import type { Delivery } from './dispatch.js';
import type { ResolvedOwner } from './owner.js';
import { SmtpChannel } from './smtp-channel.js';
import { WebhookChannel } from './webhook-channel.js';

export const DEFAULT_SMTP_CHANNEL = 'mail';

/** The channels of `notify.smtp`, `notify.webhooks` and `notify.commands`, by name. */
export function channelsFromConfig(notify: NotifyConfig | undefined): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  const add = (channel: Channel) => {
    if (channels.has(channel.name)) throw new RangeError(`Two notify channels are named ${channel.name}`);
    channels.set(channel.name, channel);
  };
  const smtp = notify?.smtp;
  if (smtp) {
    add(
      new SmtpChannel({
        name: smtp.name ?? DEFAULT_SMTP_CHANNEL,
        host: smtp.host,
        port: smtp.port ?? 25,
        security: smtp.security,
        auth: smtp.auth,
        from: smtp.from ?? `rehome <rehome@${hostname()}>`,
        timeoutMs: smtp.timeoutMs,
      }),
    );
  }
  for (const hook of notify?.webhooks ?? []) {
    add(
      new WebhookChannel({
        name: hook.name,
        url: hook.url,
        secret: hook.secret,
        headers: hook.headers,
        timeoutMs: hook.timeoutMs,
      }),
    );
  }
  for (const command of notify?.commands ?? []) {
    const [file, ...args] = command.argv;
    if (file === undefined) continue;
    add(new CommandChannel({ name: command.name, argv: [file, ...args], timeoutMs: command.timeoutMs }));
  }
  return channels;
}

/**
 * Where a notice for this owner goes: each of the owner's channels (all by default), to the owner's address. Names
 * of channels that are not configured are skipped (the config check refuses them at load).
 */
export function deliveriesFor(owner: ResolvedOwner, channels: ReadonlyMap<string, Channel>): Delivery[] {
  const names = owner.channels ?? [...channels.keys()];
  return names.flatMap((name) => {
    const channel = channels.get(name);
    return channel ? [{ channel, recipient: { address: owner.address, name: owner.name } }] : [];
  });
}

/** Closes pooled SMTP transports so that a one-shot command can exit. */
export function closeChannels(channels: ReadonlyMap<string, Channel>): void {
  for (const channel of channels.values()) {
    if (channel instanceof SmtpChannel) channel.close();
  }
}
