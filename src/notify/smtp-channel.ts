import type { ConnectionOptions } from 'node:tls';
import { createTransport, type Mail, type SMTPSentMessageInfo, type SMTPTransportOptions } from 'nodemailer';
import { isSingleAddress } from './address.js';
import { type Channel, type DeliveryResult, type Recipient, timedDelivery } from './channel.js';
import type { RenderedNotice } from './render.js';

/**
 * - `tls`: TLS from the first byte (usually port 465).
 * - `starttls`: upgrade with STARTTLS and refuse to send if the server cannot (the default).
 * - `opportunistic`: upgrade when offered, else send in clear.
 * - `none`: never upgrade (a local relay on loopback).
 */
export type SmtpSecurity = 'tls' | 'starttls' | 'opportunistic' | 'none';

export interface SmtpChannelOptions {
  name?: string;
  host: string;
  port: number;
  security?: SmtpSecurity;
  auth?: { user: string; pass: string };
  from: string | { name: string; address: string };
  /** CA, servername, etc. for the TLS connection. */
  tls?: ConnectionOptions;
  /** Per-phase timeout (connect, greeting, idle socket). */
  timeoutMs?: number;
}

/** Sends a multipart/alternative mail (text + HTML) per notice, through one SMTP server. */
export class SmtpChannel implements Channel {
  readonly name: string;
  readonly type = 'smtp' as const;
  private readonly transport: Mail<SMTPSentMessageInfo, SMTPTransportOptions>;
  private readonly from: SmtpChannelOptions['from'];

  constructor(options: SmtpChannelOptions) {
    this.name = options.name ?? 'smtp';
    this.from = options.from;
    const security = options.security ?? 'starttls';
    const timeout = options.timeoutMs ?? 30_000;
    this.transport = createTransport({
      host: options.host,
      port: options.port,
      secure: security === 'tls',
      requireTLS: security === 'starttls',
      ignoreTLS: security === 'none',
      opportunisticTLS: security === 'opportunistic',
      auth: options.auth,
      tls: options.tls,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  send(rendered: RenderedNotice, recipient: Recipient): Promise<DeliveryResult> {
    return timedDelivery(this, rendered, recipient, async () => {
      if (!isSingleAddress(recipient.address)) {
        return {
          ok: false,
          attempts: 1,
          error: `not one mail address: ${JSON.stringify(recipient.address)}`,
        };
      }
      const info = await this.transport.sendMail({
        from: this.from,
        to: recipient.name ? { name: recipient.name, address: recipient.address } : recipient.address,
        // The envelope names the one recipient itself: nothing in a header can add another.
        envelope: { from: envelopeFrom(this.from), to: [recipient.address] },
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        headers: { 'X-Rehome-Notice': `${rendered.kind} ${rendered.id}` },
      });
      const refused = info.rejected.map(String);
      if (refused.length > 0) return { ok: false, attempts: 1, error: `refused: ${refused.join(', ')}` };
      return { ok: true, attempts: 1, detail: info.response };
    });
  }

  close(): void {
    this.transport.close();
  }
}

function envelopeFrom(from: SmtpChannelOptions['from']): string {
  return typeof from === 'string' ? from : from.address;
}
