export { gatewayCommand } from './cli/index.js'
export {
  Gateway,
  type GatewayExtension,
  type GatewayOptions,
  type GatewayAddresses,
  type GatewayRole,
} from './gateway.js'
export {
  MAX_SMTP_PROCESSES,
  processIdRange,
  resolveSmtpProcesses,
  slotOfId,
} from './smtp-processes/numbering.js'
export { runGateway, defaultExtensions } from './main.js'
export * from './config.js'
export { gwErrors } from './errors.js'
export * from './pipeline/processor.js'
export * from './smtp/session-policy.js'
export {
  SMTP_REPLIES,
  reply,
  replyLine,
  type SmtpReply,
  type SmtpReplyKey,
} from './smtp/replies.js'
export type { TrackingWriter } from './tracking/writer.js'
export type { DeliveryQueue, QueueItemView, QueueState } from './delivery/queue.js'
export type { Spool } from './spool/spool.js'
export type { SpoolEntry, MessageMeta } from './spool/types.js'
export type { Principal } from './api/auth.js'
export { roleAllows } from './api/credentials.js'
export type { GatewayMetrics } from './metrics/metrics.js'
