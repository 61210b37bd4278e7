/** What a notice is about. One template set per kind lives in templates/. */
export const NOTICE_KINDS = [
  'scheduled',
  'reminder',
  'started',
  'completed',
  'failed',
  'rolled-back',
  'cancelled',
] as const;

export type NoticeKind = (typeof NOTICE_KINDS)[number];

export interface NoticeVm {
  name: string;
  uuid: string;
}

export interface NoticeOwner {
  /** Where the owner is reached (an e-mail address, or an id the webhook or command understands). */
  address: string;
  /** IANA zone such as "Europe/Paris"; an unknown zone is ignored and only UTC is shown. */
  timeZone?: string;
  name?: string;
}

export interface OperatorContact {
  address: string;
  name?: string;
}

/**
 * The record a notice is rendered from. The migration engine builds it from its journal, never from live hosts, so a
 * notice can be rendered again (for a retried delivery) and say the same thing.
 */
export interface Notice {
  /** Stable across retries of the same notice, so receivers can drop duplicates. */
  id: string;
  kind: NoticeKind;
  vm: NoticeVm;
  owner: NoticeOwner;
  /** ISO 8601 instant; the cutover happens then at the latest. */
  deadline: string;
  rebootUrl?: string;
  rescheduleUrl?: string;
  /** Rendered only when the renderer's `showHostNames` is true. */
  sourceHost?: string;
  targetHost?: string;
  ipAndMacKept: true;
  /** Why the VM moves, e.g. "host maintenance". */
  reason: string;
  /** A `scheduled` notice sent again because the deadline moved. */
  rescheduled?: true;
  /** What went wrong, for `failed` and `rolled-back`. */
  error?: string;
  operator: OperatorContact;
  /** ISO 8601 instant the notice was (first) produced. */
  sentAt: string;
}

export function isNoticeKind(value: string): value is NoticeKind {
  return (NOTICE_KINDS as readonly string[]).includes(value);
}
