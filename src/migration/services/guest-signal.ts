import type { Duplex } from 'node:stream';
import type { LibvirtClient } from '../../libvirt/client.js';
import { attr, child, childElements, libvirtXmlParser } from '../../libvirt/domain-xml/dom.js';
import { DomainAffect, DomainState, DomainXmlFlags } from '../../libvirt/protocol/constants.js';
import {
  defaultDeadline,
  formatGuestSignal,
  GUEST_SIGNAL_CHANNEL,
  type GuestSignalState,
  guestSignalChannelXml,
  linkUrl,
  loadLinkSecret,
  signLinkToken,
} from '../../notify/index.js';
import type { MigrationContext } from '../engine/context.js';
import type { Runtime } from '../runtime.js';

/** The whole signal (hot-plug, connect, write) gives up after this: it must never hold a migration up. */
const SIGNAL_TIMEOUT_MS = 10_000;
/** How long to wait for a reader in the guest to open the port (when none has, the line is written anyway). */
const READER_WAIT_MS = 5_000;
/** How long the socket stays open after the line, so that QEMU reads it before it sees the hang-up. */
const LINGER_MS = 300;

export interface GuestSignalChannel {
  /** The domain has a virtio-serial controller (libvirt cannot hot-plug one). */
  controller: boolean;
  /** The host side of the channel's socket, when the domain has the channel. */
  socketPath?: string;
  /** libvirt's view of the guest side: a reader has the port open (QEMU drops what arrives while none has). */
  guestConnected?: boolean;
}

/** What a live domain XML says about the maintenance channel. */
export function readGuestSignalChannel(domainXml: string): GuestSignalChannel {
  const devices = child(libvirtXmlParser().parseFromString(domainXml, 'text/xml').documentElement, 'devices');
  const controller = childElements(devices, 'controller').some((c) => attr(c, 'type') === 'virtio-serial');
  const channel = childElements(devices, 'channel').find(
    (c) => attr(child(c, 'target'), 'name') === GUEST_SIGNAL_CHANNEL,
  );
  const socketPath = channel && attr(child(channel, 'source'), 'path');
  const state = channel && attr(child(channel, 'target'), 'state');
  return {
    controller,
    ...(socketPath ? { socketPath } : {}),
    ...(state ? { guestConnected: state === 'connected' } : {}),
  };
}

interface UnixSocketOpener {
  openUnixSocket(path: string): Promise<Duplex>;
}

type Outcome =
  | { sent: true; socketPath: string; hotplugged: boolean; guestListening: boolean }
  | { sent: false; reason: string };

/**
 * Tells the guest, on its source host, that a move is pending (or no longer is): one JSON line on the
 * org.rehome.maintenance.0 virtio-serial channel, hot-plugged live only, so that the inactive XML (the target's
 * definition) never carries it. Never throws and gives up after SIGNAL_TIMEOUT_MS; every outcome is audited.
 */
export async function signalGuest(
  rt: Runtime,
  ctx: MigrationContext,
  state: GuestSignalState,
): Promise<void> {
  try {
    const outcome = await withTimeout(deliver(rt, ctx, state), SIGNAL_TIMEOUT_MS);
    await ctx.audit('guest-signal', outcome.sent ? 'ok' : 'info', { state, ...outcome });
  } catch (err) {
    await ctx.audit('guest-signal', 'error', { state, error: (err as Error).message }).catch(() => undefined);
  }
}

async function deliver(rt: Runtime, ctx: MigrationContext, state: GuestSignalState): Promise<Outcome> {
  const client = await ctx.source();
  const { state: domainState } = await client.getDomainState(ctx.domain);
  if (domainState !== DomainState.running && domainState !== DomainState.paused)
    return { sent: false, reason: 'the domain is not running' };
  let channel = readGuestSignalChannel(await client.getDomainXml(ctx.domain, DomainXmlFlags.none));
  let hotplugged = false;
  if (!channel.socketPath) {
    if (state !== 'scheduled' && state !== 'rescheduled')
      return { sent: false, reason: 'the guest was never told of this move' };
    if (!channel.controller) {
      return {
        sent: false,
        reason: 'no virtio-serial controller in the domain (libvirt cannot hot-plug one)',
      };
    }
    await client.attachDevice(ctx.domain, guestSignalChannelXml(''), DomainAffect.live);
    hotplugged = true;
    channel = readGuestSignalChannel(await client.getDomainXml(ctx.domain, DomainXmlFlags.none));
    if (!channel.socketPath)
      return { sent: false, reason: 'libvirt gave the hot-plugged channel no socket path' };
  }
  const listening = channel.guestConnected || (await waitForReader(client, ctx));
  const shell = (await ctx.hosts.ssh(ctx.record.sourceHost)) as Partial<UnixSocketOpener>;
  if (typeof shell.openUnixSocket !== 'function')
    return { sent: false, reason: 'this host connection cannot open unix sockets' };
  const line = formatGuestSignal({
    state,
    vm: { name: ctx.record.vmName, uuid: ctx.record.vmUuid },
    deadline: deadlineOf(rt, ctx).toISOString(),
    ...withRebootUrl(state === 'cancelled' ? undefined : await rebootUrl(rt, ctx)),
    at: new Date().toISOString(),
    migrationId: ctx.record.id,
  });
  await writeLine(await shell.openUnixSocket(channel.socketPath), line);
  return { sent: true, socketPath: channel.socketPath, hotplugged, guestListening: listening };
}

/** A freshly plugged port needs a moment before the guest's reader opens it. */
async function waitForReader(client: LibvirtClient, ctx: MigrationContext): Promise<boolean> {
  const until = Date.now() + READER_WAIT_MS;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (readGuestSignalChannel(await client.getDomainXml(ctx.domain, DomainXmlFlags.none)).guestConnected)
      return true;
  }
  return false;
}

function withRebootUrl(url: string | undefined): { rebootUrl?: string } {
  return url ? { rebootUrl: url } : {};
}

async function writeLine(stream: Duplex, line: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.write(line, (err) => (err ? reject(err) : resolve()));
    });
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS));
  } finally {
    stream.end();
    stream.destroy();
  }
}

function deadlineOf(rt: Runtime, ctx: MigrationContext): Date {
  if (ctx.record.deadline) return new Date(ctx.record.deadline);
  return defaultDeadline(new Date(ctx.record.createdAt), rt.config.notify?.maxDeadlineDays);
}

/** The self-service reboot link (its own single-use token), when links are configured. */
async function rebootUrl(rt: Runtime, ctx: MigrationContext): Promise<string | undefined> {
  const baseUrl = rt.config.links?.baseUrl;
  if (!baseUrl) return undefined;
  const secret = rt.configDir
    ? (await loadLinkSecret(rt.configDir, rt.config.links?.secret)).secret
    : rt.config.links?.secret;
  if (!secret) return undefined;
  const token = signLinkToken(secret, {
    migrationId: ctx.record.id,
    vmUuid: ctx.record.vmUuid,
    action: 'reboot',
    expiresAt: deadlineOf(rt, ctx),
  });
  return linkUrl(baseUrl, token);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
