import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isTerminalPhase } from '../store/phases.js';
import type { MigrationRecord, Store } from '../store/types.js';
import { errorMessage } from './channel.js';
import { checkDeadline, DEFAULT_MAX_DEADLINE_DAYS, deadlineWindow, parseDeadline } from './deadline.js';
import { type LinkAction, type LinkPayload, verifyLinkToken } from './links.js';
import { LinkPages } from './links-page.js';
import { wallTimeIn, zonedWallTimeToUtc } from './local-time.js';
import { canonicalTimeZone, formatInstant } from './time.js';

/** What a valid request does. The migration engine provides these; the server only decides whether to call them. */
export interface LinkCallbacks {
  onReboot(migrationId: string): Promise<void> | void;
  onReschedule(migrationId: string, newDeadline: Date): Promise<void> | void;
}

export interface LinksServerOptions {
  store: Pick<Store, 'getMigration' | 'markTokenUsed' | 'appendAudit'>;
  secret: string | Buffer;
  callbacks: LinkCallbacks;
  /** `links.baseUrl`; its path (e.g. /rehome/) is served, and so is the bare /r/… a prefix-stripping proxy sends. */
  baseUrl?: string;
  maxDeadlineDays?: number;
  /** The owner's zone for the page, from the config (the server never reaches a host). */
  ownerTimeZone?: (migration: MigrationRecord) => string | undefined;
  /** "Questions? Contact …" on every page. */
  operatorContact?: string;
  now?: () => Date;
  templatesDir?: string;
  overrideDir?: string;
}

const MAX_BODY_BYTES = 8 * 1024;

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Robots-Tag': 'noindex, nofollow',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

type Rejection = 'malformed' | 'bad-signature' | 'expired' | 'unknown-migration' | 'reused' | 'wrong-action';

/**
 * GET /r/<token> shows what the link would do and never acts (mail scanners and chat previews fetch links). POST
 * verifies the token (signature, expiry, action, migration), claims it in the store (single use, atomic), then calls
 * the callback: claiming first means two racing POSTs cannot both act. Every refusal is a 403 with an audit entry.
 */
export function createLinksServer(options: LinksServerOptions): Server {
  const handler = new LinkRequestHandler(options);
  return createServer((request, response) => {
    handler.handle(request, response).catch((error) => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'Internal error\n');
      else response.destroy(error as Error);
    });
  });
}

export interface RunningLinksServer {
  server: Server;
  /** http://host:port of the listening socket. */
  origin: string;
  close(): Promise<void>;
}

export async function startLinksServer(
  options: LinksServerOptions,
  listen: { host: string; port: number },
): Promise<RunningLinksServer> {
  const server = createLinksServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    origin: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

class LinkRequestHandler {
  private readonly pages: LinkPages;
  private readonly prefix: string;
  private readonly now: () => Date;

  constructor(private readonly options: LinksServerOptions) {
    this.pages = new LinkPages({ templatesDir: options.templatesDir, overrideDir: options.overrideDir });
    this.prefix = options.baseUrl ? new URL(options.baseUrl).pathname.replace(/\/+$/, '') : '';
    this.now = options.now ?? (() => new Date());
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const token = this.tokenOf(request.url ?? '/');
    if (token === undefined) return this.result(response, 404, 'Not found', 'There is nothing here.');
    if (request.method === 'GET' || request.method === 'HEAD') return this.show(request, response, token);
    if (request.method === 'POST') return this.act(request, response, token);
    response.setHeader('Allow', 'GET, HEAD, POST');
    return this.result(response, 405, 'Method not allowed', 'Open the link in a browser.');
  }

  /** `<prefix>/r/<token>` or `/r/<token>`; undefined for any other path. */
  private tokenOf(url: string): string | undefined {
    const path = url.split('?')[0] ?? '';
    const local = this.prefix && path.startsWith(`${this.prefix}/`) ? path.slice(this.prefix.length) : path;
    return /^\/r\/([A-Za-z0-9_.-]+)\/?$/.exec(local)?.[1];
  }

  private async show(request: IncomingMessage, response: ServerResponse, token: string): Promise<void> {
    const checked = await this.check(request, token, 'GET');
    if (!checked.ok) return this.refuse(response, checked.reason);
    const { payload, migration } = checked;
    if (isTerminalPhase(migration.phase)) return this.over(response, migration);
    this.page(response, 200, this.actionPage(payload.action, migration));
  }

  private async act(request: IncomingMessage, response: ServerResponse, token: string): Promise<void> {
    const form = await readForm(request);
    if (form === undefined) return this.result(response, 413, 'Request too large', 'The form was too large.');
    const checked = await this.check(request, token, 'POST');
    if (!checked.ok) return this.refuse(response, checked.reason);
    const { payload, migration } = checked;
    if (form.get('action') !== payload.action) {
      await this.audit(
        request,
        'link.rejected',
        { reason: 'wrong-action', form: form.get('action') },
        migration,
      );
      return this.refuse(response, 'wrong-action');
    }
    if (isTerminalPhase(migration.phase)) return this.over(response, migration);
    let newDeadline: Date | undefined;
    if (payload.action === 'reschedule') {
      const parsed = this.requestedDeadline(form, migration);
      if ('error' in parsed)
        return this.page(response, 400, this.actionPage('reschedule', migration, parsed.error));
      newDeadline = parsed.deadline;
    }
    if (!(await this.options.store.markTokenUsed(payload.nonce, this.now()))) {
      await this.audit(request, 'link.rejected', { reason: 'reused', action: payload.action }, migration);
      return this.refuse(response, 'reused');
    }
    const step = payload.action === 'reboot' ? 'link.reboot-requested' : 'link.reschedule-requested';
    await this.audit(request, step, { deadline: newDeadline?.toISOString() }, migration, 'ok');
    try {
      if (newDeadline) await this.options.callbacks.onReschedule(migration.id, newDeadline);
      else await this.options.callbacks.onReboot(migration.id);
    } catch (error) {
      await this.audit(
        request,
        'link.action-failed',
        { action: payload.action, error: errorMessage(error) },
        migration,
      );
      return this.result(
        response,
        500,
        'That did not work',
        'rehome could not act on your request. The operator has been told in rehome’s log; please contact them.',
        migration,
      );
    }
    const message =
      payload.action === 'reboot'
        ? 'Your VM is being moved now: it reboots once, and keeps its IP and MAC addresses. You will be told when it is done.'
        : `The new deadline is ${formatInstant(newDeadline as Date, 'UTC')}. The VM still moves earlier if it reboots before then.`;
    return this.result(response, 202, 'Request accepted', message, migration);
  }

  private async check(
    request: IncomingMessage,
    token: string,
    method: string,
  ): Promise<
    { ok: true; payload: LinkPayload; migration: MigrationRecord } | { ok: false; reason: Rejection }
  > {
    const verdict = verifyLinkToken(this.options.secret, token, this.now());
    if (!verdict.ok) {
      // A forged token's claims are the attacker's words: kept as detail, never as the entry's migration or VM.
      const trusted = verdict.reason === 'expired' ? await this.migrationOf(verdict.claimed) : undefined;
      await this.audit(
        request,
        'link.rejected',
        { reason: verdict.reason, method, claimed: clip(verdict.claimed) },
        trusted,
      );
      return { ok: false, reason: verdict.reason };
    }
    const migration = await this.migrationOf(verdict.payload);
    if (!migration) {
      await this.audit(request, 'link.rejected', {
        reason: 'unknown-migration',
        method,
        claimed: clip(verdict.payload),
      });
      return { ok: false, reason: 'unknown-migration' };
    }
    return { ok: true, payload: verdict.payload, migration };
  }

  private async migrationOf(claimed: Partial<LinkPayload> | undefined): Promise<MigrationRecord | undefined> {
    if (typeof claimed?.mid !== 'string') return undefined;
    const migration = await this.options.store.getMigration(claimed.mid);
    return migration && migration.vmUuid === claimed.vm ? migration : undefined;
  }

  private requestedDeadline(
    form: URLSearchParams,
    migration: MigrationRecord,
  ): { deadline: Date } | { error: string } {
    const raw = (form.get('deadline') ?? '').trim();
    const zone = canonicalTimeZone(form.get('zone') ?? undefined) ?? 'UTC';
    let deadline: Date | undefined;
    try {
      deadline = zonedWallTimeToUtc(raw, zone) ?? parseDeadline(raw, this.now());
      checkDeadline(deadline, this.window(migration));
    } catch (error) {
      return { error: errorMessage(error) };
    }
    return { deadline };
  }

  private window(migration: MigrationRecord) {
    return deadlineWindow(
      new Date(migration.createdAt),
      this.now(),
      this.options.maxDeadlineDays ?? DEFAULT_MAX_DEADLINE_DAYS,
    );
  }

  private actionPage(action: LinkAction, migration: MigrationRecord, error?: string): string {
    const zone = canonicalTimeZone(this.options.ownerTimeZone?.(migration)) ?? 'UTC';
    const deadline = migration.deadline ? new Date(migration.deadline) : undefined;
    const window = this.window(migration);
    return this.pages.action({
      action,
      vm: { name: migration.vmName, uuid: migration.vmUuid },
      deadline: {
        utc: deadline ? formatInstant(deadline, 'UTC') : 'none set (at its next reboot)',
        local: deadline && zone !== 'UTC' ? formatInstant(deadline, zone) : undefined,
      },
      zone,
      window: {
        current: wallTimeIn(deadline ?? window.latest, zone),
        min: wallTimeIn(window.earliest, zone),
        max: wallTimeIn(window.latest, zone),
        latestUtc: formatInstant(window.latest, 'UTC'),
      },
      error,
      operator: this.options.operatorContact,
    });
  }

  private refuse(response: ServerResponse, reason: Rejection): void {
    const why: Record<Rejection, string> = {
      malformed: 'This link is not valid. Check that it was copied whole.',
      'bad-signature': 'This link is not valid.',
      expired: 'This link has expired.',
      'unknown-migration': 'This link is not valid any more.',
      reused: 'This link has already been used. Each link works once.',
      'wrong-action': 'This link does not allow that.',
    };
    this.result(response, 403, 'Link refused', `${why[reason]} Nothing was changed.`);
  }

  private over(response: ServerResponse, migration: MigrationRecord): void {
    this.result(
      response,
      410,
      'Nothing pending',
      'This move is over: there is nothing left to do.',
      migration,
    );
  }

  private result(
    response: ServerResponse,
    status: number,
    title: string,
    message: string,
    migration?: MigrationRecord,
  ): void {
    const vm = migration ? { name: migration.vmName, uuid: migration.vmUuid } : undefined;
    this.page(
      response,
      status,
      this.pages.result({ title, message, vm, operator: this.options.operatorContact }),
    );
  }

  private page(response: ServerResponse, status: number, html: string): void {
    send(response, status, 'text/html; charset=utf-8', html);
  }

  private async audit(
    request: IncomingMessage,
    step: string,
    detail: Record<string, unknown>,
    migration?: MigrationRecord,
    outcome: 'ok' | 'error' = 'error',
  ): Promise<void> {
    await this.options.store.appendAudit({
      migrationId: migration?.id ?? null,
      vm: migration?.vmUuid ?? 'unknown',
      step,
      outcome,
      detail: {
        ...detail,
        remoteAddress: request.socket.remoteAddress,
        forwardedFor: headerValue(request, 'x-forwarded-for'),
        userAgent: headerValue(request, 'user-agent'),
      },
    });
  }
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** The urlencoded form, or undefined when the body is larger than MAX_BODY_BYTES. */
async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value.join(', ') : value)?.slice(0, 300);
}

/** Claimed fields of a token, shortened: attacker-chosen text goes to the log, not whole. */
function clip(claimed: Partial<LinkPayload> | undefined): Record<string, unknown> | undefined {
  if (!claimed) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of ['mid', 'vm', 'action', 'exp'] as const) {
    const value = claimed[key];
    if (value !== undefined) out[key] = typeof value === 'string' ? value.slice(0, 80) : value;
  }
  return out;
}
