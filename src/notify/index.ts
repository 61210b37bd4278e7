export type { BackoffOptions } from './backoff.js';
export type { Channel, ChannelType, DeliveryResult, Recipient } from './channel.js';
export { CommandChannel, type CommandChannelOptions } from './command-channel.js';
export { channelsFromConfig, closeChannels, deliveriesFor } from './config-channels.js';
export {
  checkDeadline,
  DEFAULT_MAX_DEADLINE_DAYS,
  type DeadlineWindow,
  deadlineWindow,
  defaultDeadline,
  parseDeadline,
  parseDuration,
} from './deadline.js';
export {
  DEFAULT_DELIVERY_BACKOFF,
  type DeliveryOptions,
  type DeliveryReport,
  deliverNotice,
  deliveryKey,
  retryDueDeliveries,
} from './delivery.js';
export { type Delivery, type DispatchOptions, type DispatchOutcome, dispatchNotice } from './dispatch.js';
export {
  formatGuestSignal,
  GUEST_SIGNAL_CHANNEL,
  GUEST_SIGNAL_SCHEMA,
  type GuestSignalInput,
  type GuestSignalState,
  guestSignalChannelXml,
} from './guest-signal.js';
export { type LinkSecret, loadLinkSecret } from './link-secret.js';
export { type LinkAction, type LinkPayload, linkUrl, signLinkToken, verifyLinkToken } from './links.js';
export {
  createLinksServer,
  type LinkCallbacks,
  type LinksServerOptions,
  startLinksServer,
} from './links-server.js';
export { isNoticeKind, NOTICE_KINDS, type Notice, type NoticeKind, type OperatorContact } from './notice.js';
export { type OwnerFacts, type OwnerMetadata, type ResolvedOwner, resolveOwner } from './owner.js';
export { formatOwnerElement, REHOME_METADATA_NS, readOwnerMetadata } from './owner-metadata.js';
export { type SetOwnerInput, type SetOwnerResult, setVmOwner } from './owner-set.js';
export { NOTICE_PAYLOAD_SCHEMA, type NoticePayload } from './payload.js';
export { type DueReminder, dueNotices, reminderKey, reminderOffsets } from './reminders.js';
export { NoticeRenderer, type NoticeRendererOptions, type RenderedNotice } from './render.js';
export { parseListen, serveLinks } from './serve-links.js';
export { SmtpChannel, type SmtpChannelOptions, type SmtpSecurity } from './smtp-channel.js';
export { canonicalTimeZone } from './time.js';
export type { NoticeView, ViewOptions } from './view.js';
export { WebhookChannel, type WebhookChannelOptions } from './webhook-channel.js';
export {
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  type VerifyOptions,
  verifyWebhookSignature,
} from './webhook-signature.js';
