import { oncePerTurn } from '../coalesce.js'
import type { SmtpDestination } from './smtp-transport.js'
import type { DeliveryOutcome } from './transport.js'

/** A delivery request as it crosses to the delivery thread (no functions, bytes shared). */
export interface WireRequest {
  mid: number
  from: string
  recipients: string[]
  bodyType: '7bit' | '8bitmime'
  smtpUtf8: boolean
  size: number
  /** The whole message, in shared memory; absent when `file` is set. */
  body?: Uint8Array
  file?: { prefix: Uint8Array; path: string }
}

export type ToDeliveryThread =
  /** Sent once per destination and thread, before its first delivery. */
  | { kind: 'destination'; destination: SmtpDestination }
  | { kind: 'deliver'; id: number; key: string; request: WireRequest }
  | { kind: 'dcid'; id: number; dcid: number }
  | { kind: 'close-destination'; key: string }
  | { kind: 'close' }

export type FromDeliveryThread =
  | { kind: 'outcome'; id: number; outcome: DeliveryOutcome }
  | { kind: 'dcid'; id: number }
  /** A log line of the thread's logger (JSON, as pino writes it). */
  | { kind: 'log'; line: string }
  | { kind: 'closed' }

export interface DeliveryThreadData {
  logLevel: string
}

/**
 * Messages for the other side of a thread boundary, sent as one array per turn of the event
 * loop: under load a turn dispatches or finishes many deliveries, and every `postMessage` costs
 * a serialisation on this side and a wake-up and an event on the other (both threads run at
 * their limit in a busy relay). A message waits at most until the end of the current turn.
 */
export class MessageBatcher<T> {
  private outbox: T[] = []
  private readonly flushSoon = oncePerTurn(() => {
    const messages = this.outbox
    this.outbox = []
    this.send(messages)
  })

  constructor(private readonly send: (messages: T[]) => void) {}

  post(message: T): void {
    this.outbox.push(message)
    this.flushSoon()
  }
}
