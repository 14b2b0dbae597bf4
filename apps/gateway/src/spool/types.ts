import type { Direction } from '@postern/store'
import type {
  ClientInfo,
  HeaderSummary,
  MessageEnvelope,
  RecipientOutcome,
} from '../pipeline/processor.js'

/** Where the bytes of a body are: inside a segment record, or in a file of their own. */
export type BodyRef =
  | { kind: 'segment'; segment: number; offset: number; length: number }
  | { kind: 'file'; path: string; length: number }

/** Everything about an accepted message except its bytes, as stored in its Message record. */
export interface MessageMeta {
  mid: number
  icid: number
  receivedAt: number
  direction: Direction
  /**
   * `smtp`: received by a listener; `dsn`: a bounce report the gateway generated; `release`: a
   * copy released from a quarantine; `notification`: a policy notification.
   */
  origin: 'smtp' | 'dsn' | 'release' | 'notification'
  envelope: MessageEnvelope
  client: ClientInfo
  headers: HeaderSummary
  size: number
  receivedHeader: string
}

/** The pipeline's decision, as stored in the Processed record. */
export interface ProcessedState {
  outcomes: RecipientOutcome[]
  variants: BodyRef[]
}

/** A message the spool holds: what the queue needs to finish it after a restart. */
export interface SpoolEntry {
  meta: MessageMeta
  body: BodyRef
  processed: ProcessedState | undefined
  /** Delivery targets (see `deliveryTargets`) already finished. */
  doneTargets: Set<number>
  held: boolean
}
