import type { Notice, NoticeKind } from './notice.js';
import { canonicalTimeZone, describeTimeLeft, formatInstant, parseInstant } from './time.js';

export interface ViewOptions {
  /** Show source and target host names to owners. Off by default: owners rarely need them. */
  showHostNames?: boolean;
  /** BCP 47 locale for dates; English month names by default. */
  locale?: string;
}

/**
 * What a template sees as `it`. Prepared here so templates only print: dates already formatted, host names already
 * dropped unless allowed. Overriding templates get the same fields.
 */
export interface NoticeView {
  id: string;
  kind: NoticeKind;
  vm: { name: string; uuid: string };
  owner: { address: string; name?: string; timeZone?: string };
  /** The owner's name when known, else their address: for "Hello …". */
  greetingName: string;
  deadline: {
    iso: string;
    utc: string;
    /** In the owner's zone; absent when the zone is unknown or invalid. */
    local?: string;
  };
  /** From sentAt to the deadline, e.g. "24 hours". */
  timeLeft: string;
  rebootUrl?: string;
  rescheduleUrl?: string;
  /** Present only when host names may be shown. */
  hosts?: { source?: string; target?: string };
  ipAndMacKept: boolean;
  /** The deadline moved: this `scheduled` notice replaces an earlier one. */
  rescheduled: boolean;
  reason: string;
  error?: string;
  operator: { address: string; name?: string };
  sentAt: { iso: string; utc: string };
}

export function buildNoticeView(notice: Notice, options: ViewOptions = {}): NoticeView {
  const deadline = parseInstant(notice.deadline, 'deadline');
  const sentAt = parseInstant(notice.sentAt, 'sentAt');
  const zone = canonicalTimeZone(notice.owner.timeZone);
  const showHosts = options.showHostNames === true;
  return {
    id: notice.id,
    kind: notice.kind,
    vm: { name: notice.vm.name, uuid: notice.vm.uuid },
    owner: { address: notice.owner.address, name: notice.owner.name, timeZone: zone },
    greetingName: notice.owner.name?.trim() || notice.owner.address,
    deadline: {
      iso: deadline.toISOString(),
      utc: formatInstant(deadline, 'UTC', options.locale),
      local: zone && zone !== 'UTC' ? formatInstant(deadline, zone, options.locale) : undefined,
    },
    timeLeft: describeTimeLeft(sentAt, deadline),
    rebootUrl: notice.rebootUrl,
    rescheduleUrl: notice.rescheduleUrl,
    hosts: showHosts ? { source: notice.sourceHost, target: notice.targetHost } : undefined,
    ipAndMacKept: notice.ipAndMacKept,
    rescheduled: notice.rescheduled === true,
    reason: notice.reason,
    error: notice.error === undefined ? undefined : redactHosts(notice.error, notice, showHosts),
    operator: { address: notice.operator.address, name: notice.operator.name },
    sentAt: { iso: sentAt.toISOString(), utc: formatInstant(sentAt, 'UTC', options.locale) },
  };
}

/** Engine errors often name hosts; keep them out of owners' notices unless host names are allowed. */
function redactHosts(error: string, notice: Notice, showHosts: boolean): string {
  if (showHosts) return error;
  let redacted = error;
  for (const host of [notice.sourceHost, notice.targetHost]) {
    if (host) redacted = redacted.split(host).join('[host]');
  }
  return redacted;
}
