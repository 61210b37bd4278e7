import type { NoticeKind } from './notice.js';
import type { NoticeView } from './view.js';

export const NOTICE_PAYLOAD_SCHEMA = 'rehome.notice/v1';

/**
 * The JSON body of a webhook and the stdin of a command channel. Built in code rather than from a template so it is
 * always valid JSON, whatever the names contain.
 */
export interface NoticePayload {
  schema: typeof NOTICE_PAYLOAD_SCHEMA;
  id: string;
  kind: NoticeKind;
  sentAt: string;
  vm: { name: string; uuid: string };
  owner: { address: string; name?: string; timeZone?: string };
  /** ISO 8601, UTC. */
  deadline: string;
  reason: string;
  ipAndMacKept: boolean;
  /** Present (true) on a `scheduled` notice sent again because the deadline moved. */
  rescheduled?: true;
  links: { reboot?: string; reschedule?: string };
  /** Present only when host names may be shown. */
  hosts?: { source?: string; target?: string };
  error?: string;
  operator: { address: string; name?: string };
  /** The same message as the mail, for chat relays. */
  message: { subject: string; text: string };
}

/** The result has no undefined members, so it equals its own JSON round trip. */
export function buildNoticePayload(
  view: NoticeView,
  message: { subject: string; text: string },
): NoticePayload {
  return withoutUndefined({
    schema: NOTICE_PAYLOAD_SCHEMA,
    id: view.id,
    kind: view.kind,
    sentAt: view.sentAt.iso,
    vm: { ...view.vm },
    owner: { ...view.owner },
    deadline: view.deadline.iso,
    reason: view.reason,
    ipAndMacKept: view.ipAndMacKept,
    rescheduled: view.rescheduled ? true : undefined,
    links: { reboot: view.rebootUrl, reschedule: view.rescheduleUrl },
    hosts: view.hosts ? { ...view.hosts } : undefined,
    error: view.error,
    operator: { ...view.operator },
    message: { ...message },
  });
}

function withoutUndefined<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue;
    out[key] = member !== null && typeof member === 'object' ? withoutUndefined(member) : member;
  }
  return out as T;
}
