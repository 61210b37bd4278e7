/** The virtio-serial port name guests open (`/dev/virtio-ports/org.rehome.maintenance.0`). */
export const GUEST_SIGNAL_CHANNEL = 'org.rehome.maintenance.0';
export const GUEST_SIGNAL_SCHEMA = 'rehome.maintenance/v1';

export const GUEST_SIGNAL_STATES = [
  'scheduled',
  'rescheduled',
  'started',
  'completed',
  'rolled-back',
  'cancelled',
] as const;
export type GuestSignalState = (typeof GUEST_SIGNAL_STATES)[number];

export interface GuestSignalInput {
  state: GuestSignalState;
  vm: { name: string; uuid: string };
  /** ISO 8601; the move happens at the guest's next reboot, or at this instant at the latest. */
  deadline: string;
  rebootUrl?: string;
  /** ISO 8601; when this event was produced. */
  at: string;
  /** The migration id, so that a guest tool can tell one move from the next. */
  migrationId: string;
}

/** One event, as written on the channel. Field order is fixed; absent fields are left out, never null. */
export interface GuestSignal {
  schema: typeof GUEST_SIGNAL_SCHEMA;
  state: GuestSignalState;
  vm: string;
  uuid: string;
  migration: string;
  deadline: string;
  rebootUrl?: string;
  at: string;
}

/**
 * One JSON line (UTF-8, "\n"-terminated, no raw newlines inside since JSON escapes them), for the guest to read on
 * the virtio-serial channel. Times are normalised to UTC ISO 8601 with milliseconds.
 */
export function formatGuestSignal(input: GuestSignalInput): string {
  if (!(GUEST_SIGNAL_STATES as readonly string[]).includes(input.state)) {
    throw new RangeError(`Unknown guest signal state ${JSON.stringify(input.state)}`);
  }
  const signal: GuestSignal = {
    schema: GUEST_SIGNAL_SCHEMA,
    state: input.state,
    vm: input.vm.name,
    uuid: input.vm.uuid,
    migration: input.migrationId,
    deadline: utc(input.deadline, 'deadline'),
    ...(input.rebootUrl ? { rebootUrl: input.rebootUrl } : {}),
    at: utc(input.at, 'at'),
  };
  return `${JSON.stringify(signal)}\n`;
}

function utc(iso: string, what: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime()))
    throw new RangeError(`${what} is not a valid date: ${JSON.stringify(iso)}`);
  return date.toISOString();
}

/**
 * The <channel> to add under the domain's <devices>. No source path: libvirt picks one per domain under its channel
 * directory (…/qemu/channel/target/domain-*\/org.rehome.maintenance.0), which the host side connects to.
 */
export function guestSignalChannelXml(indent = '    '): string {
  return [
    `${indent}<channel type='unix'>`,
    `${indent}  <source mode='bind'/>`,
    `${indent}  <target type='virtio' name='${GUEST_SIGNAL_CHANNEL}'/>`,
    `${indent}</channel>`,
  ].join('\n');
}
