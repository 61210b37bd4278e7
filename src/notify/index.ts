export type { BackoffOptions } from './backoff.js';
export type { Channel, ChannelType, DeliveryResult, Recipient } from './channel.js';
export { CommandChannel, type CommandChannelOptions } from './command-channel.js';
export { type Delivery, type DispatchOptions, type DispatchOutcome, dispatchNotice } from './dispatch.js';
export { isNoticeKind, NOTICE_KINDS, type Notice, type NoticeKind, type OperatorContact } from './notice.js';
export { NOTICE_PAYLOAD_SCHEMA, type NoticePayload } from './payload.js';
export { NoticeRenderer, type NoticeRendererOptions, type RenderedNotice } from './render.js';
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
