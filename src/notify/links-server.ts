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

/**
 * Uses up the link's token (single use, atomic in the store). False: another request used it first; do nothing then.
 */
export type ClaimToken = () => Promise<boolean>;

/**
 * What a valid request does. The migration engine provides these; the server only decides whether to call them.
 * Each must call `claim` once its action is accepted (the VM's lock held, the phase right), before it acts, and act
 * only when it returned true: a link is used up only by an action that happens. An error thrown before `claim`
 * leaves the link usable; one of kind `locked` is answered "already in progress".
 */
export interface LinkCallbacks {
  onReboot(migrationId: string, claim: ClaimToken): Promise<void> | void;
  onReschedule(migrationId: string, newDeadline: Date, claim: ClaimToken): Promise<void> | void;
}

/** Bounds on what one client can hold of the server. */
export interface LinksServerLimits {
  /** All request headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this many are closed at once. */
  maxConnections: number;
}

export const DEFAULT_LINKS_LIMITS: LinksServerLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 64,
};

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
  limits?: Partial<LinksServerLimits>;
  /** Paths answered before the links (`watch --serve`'s /metrics and /healthz); true when it answered. */
  extraRoutes?: ExtraRoutes;
}

export type ExtraRoutes = (request: IncomingMessage, response: ServerResponse) => Promise<boolean> | boolean;

const MAX_BODY_BYTES = 8 * 1024;
/** Distinct clients counted per minute; the rest of that minute's rejections are counted under one "other". */
const MAX_COUNTED_CLIENTS = 1_000;

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
 * verifies the token (signature, expiry, action, migration) and calls the callback, which claims the token in the
 * store (single use, atomic) once its action is accepted and before it acts: two racing POSTs cannot both act, and a
 * VM that is busy does not use the link up. Every refusal is a 403. A token that verifies is audited; one that does
 * not (forged, expired, malformed) is counted per client and minute, in one audit entry each.
 */
export function createLinksServer(options: LinksServerOptions): Server {
  return buildLinksServer(options).server;
}

function buildLinksServer(options: LinksServerOptions): { server: Server; handler: LinkRequestHandler } {
  const limits = { ...DEFAULT_LINKS_LIMITS, ...options.limits };
  const handler = new LinkRequestHandler(options);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (request, response) => {
      handler.handle(request, response).catch((error) => {
        if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'Internal error\n');
        else response.destroy(error as Error);
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  // A connection that goes silent (a body trickling at 1 byte/s stops resetting this) is closed.
  server.setTimeout(limits.requestTimeoutMs, (socket) => socket.destroy());
  server.on('close', () => void handler.flushRejections());
  return { server, handler };
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
  const { server, handler } = buildLinksServer(options);
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
    close: async () => {
      if (server.listening) {
        await new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        });
      }
      await handler.flushRejections();
    },
  };
}

/** Rejections of one client in one minute. */
interface RejectionCount {
  client: string;
  minute: string;
  count: number;
  reasons: Partial<Record<Rejection, number>>;
}

class LinkRequestHandler {
  private readonly pages: LinkPages;
  private readonly prefix: string;
  private readonly now: () => Date;
  /** Rejected tokens that did not verify, by "minute client", not yet written. */
  private readonly rejections = new Map<string, RejectionCount>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: LinksServerOptions) {
    this.pages = new LinkPages({ templatesDir: options.templatesDir, overrideDir: options.overrideDir });
    this.prefix = options.baseUrl ? new URL(options.baseUrl).pathname.replace(/\/+$/, '') : '';
    this.now = options.now ?? (() => new Date());
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (await this.options.extraRoutes?.(request, response)) return;
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
    const checked = await this.check(request, token);
    if (!checked.ok) return this.refuse(response, checked.reason);
    const { payload, migration } = checked;
    if (isTerminalPhase(migration.phase)) return this.over(response, migration);
    this.page(response, 200, this.actionPage(payload.action, migration));
  }

  private async act(request: IncomingMessage, response: ServerResponse, token: string): Promise<void> {
    const form = await readForm(request);
    if (form === undefined) {
      response.setHeader('Connection', 'close');
      return this.result(response, 413, 'Request too large', 'The form was too large.');
    }
    const checked = await this.check(request, token);
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
    // The callback claims the token once its action is accepted: a busy VM does not use the link up.
    let claimed: boolean | undefined;
    const claim: ClaimToken = async () => {
      if (claimed !== undefined) return false;
      claimed = await this.options.store.markTokenUsed(payload.nonce, this.now());
      if (claimed) {
        const step = payload.action === 'reboot' ? 'link.reboot-requested' : 'link.reschedule-requested';
        await this.audit(request, step, { deadline: newDeadline?.toISOString() }, migration, 'ok');
      }
      return claimed;
    };
    let failure: unknown;
    try {
      if (newDeadline) await this.options.callbacks.onReschedule(migration.id, newDeadline, claim);
      else await this.options.callbacks.onReboot(migration.id, claim);
    } catch (error) {
      failure = error;
    }
    if (claimed === false) {
      await this.audit(request, 'link.rejected', { reason: 'reused', action: payload.action }, migration);
      return this.refuse(response, 'reused');
    }
    if (claimed === undefined && failure === undefined)
      failure = new Error('the action returned without claiming the link');
    if (failure !== undefined) {
      await this.audit(
        request,
        'link.action-failed',
        { action: payload.action, error: errorMessage(failure), linkStillValid: claimed === undefined },
        migration,
      );
      if (claimed === undefined && (failure as { kind?: string }).kind === 'locked') {
        return this.result(
          response,
          409,
          'Already in progress',
          'rehome is working on this VM right now (a move or a change is already in progress). Nothing was changed by this request, and this link still works: try it again in a few minutes if you still need it.',
          migration,
        );
      }
      return this.result(
        response,
        claimed === undefined ? 503 : 500,
        'That did not work',
        claimed === undefined
          ? 'rehome could not act on your request now. Nothing was changed, and this link still works: try again later, or contact the operator.'
          : 'rehome could not act on your request. The operator has been told in rehome’s log; please contact them.',
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
  ): Promise<
    { ok: true; payload: LinkPayload; migration: MigrationRecord } | { ok: false; reason: Rejection }
  > {
    const verdict = verifyLinkToken(this.options.secret, token, this.now());
    if (!verdict.ok) {
      // Counted, not audited one by one: anyone can send these, as fast as they like.
      this.countRejection(request, verdict.reason);
      return { ok: false, reason: verdict.reason };
    }
    const migration = await this.migrationOf(verdict.payload);
    if (!migration) {
      this.countRejection(request, 'unknown-migration');
      return { ok: false, reason: 'unknown-migration' };
    }
    return { ok: true, payload: verdict.payload, migration };
  }

  private countRejection(request: IncomingMessage, reason: Rejection): void {
    const minute = this.now().toISOString().slice(0, 16);
    let client = request.socket.remoteAddress ?? 'unknown';
    if (!this.rejections.has(`${minute} ${client}`)) {
      const clients = [...this.rejections.values()].filter((entry) => entry.minute === minute).length;
      if (clients >= MAX_COUNTED_CLIENTS) client = 'other';
    }
    const key = `${minute} ${client}`;
    const entry = this.rejections.get(key) ?? { client, minute, count: 0, reasons: {} };
    entry.count++;
    entry.reasons[reason] = (entry.reasons[reason] ?? 0) + 1;
    this.rejections.set(key, entry);
    // Minutes that are over are written now: one audit entry per client and minute.
    if ([...this.rejections.values()].some((e) => e.minute < minute)) void this.flushRejections(minute);
  }

  /** Writes the counts of minutes before `beforeMinute` (all of them without it). Never throws. */
  flushRejections(beforeMinute?: string): Promise<void> {
    const due = [...this.rejections].filter(([, e]) => beforeMinute === undefined || e.minute < beforeMinute);
    for (const [key] of due) this.rejections.delete(key);
    this.flushing = this.flushing.then(async () => {
      for (const [, entry] of due) {
        await this.options.store
          .appendAudit({
            migrationId: null,
            vm: 'unknown',
            step: 'link.rejected',
            outcome: 'error',
            detail: { ...entry },
          })
          .catch(() => undefined);
      }
    });
    return this.flushing;
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

/**
 * The urlencoded form, or undefined when the body is larger than MAX_BODY_BYTES. An oversized body is still read to
 * its end and thrown away (the request timeout bounds how long that may take), so that the client receives the 413
 * instead of a connection reset.
 */
function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () =>
      resolve(
        size > MAX_BODY_BYTES ? undefined : new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      ),
    );
    request.on('error', reject);
    request.on('close', () => reject(new Error('the request was aborted')));
  });
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value.join(', ') : value)?.slice(0, 300);
}
