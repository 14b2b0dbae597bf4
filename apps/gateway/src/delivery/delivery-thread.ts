import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { parentPort, workerData } from 'node:worker_threads'
import { createLogger, describeError } from '@postern/core'
import { SmtpTransport } from './smtp-transport.js'
import {
  MessageBatcher,
  type DeliveryThreadData,
  type FromDeliveryThread,
  type ToDeliveryThread,
  type WireRequest,
} from './thread-protocol.js'
import { allRecipients, oneLine, type DeliveryRequest } from './transport.js'

/**
 * The delivery thread: runs the SMTP client side of every outbound connection (connection
 * pools, the protocol, dot-stuffing, the socket writes of the message) on its own event loop,
 * so that a gateway uses a second core and the main event loop only answers SMTP sessions,
 * writes the spool and decides. The main thread keeps everything durable: it allocates the
 * connection ids and records outcomes; a message whose delivery was in flight here when the
 * thread died is deferred there and retried (see `threaded-transport.ts`).
 */
const port = parentPort
if (!port) throw new Error('the delivery thread must run in a worker thread')
const outbox = new MessageBatcher<FromDeliveryThread>((messages) => port.postMessage(messages))
const post = (message: FromDeliveryThread): void => outbox.post(message)

const { logLevel } = workerData as DeliveryThreadData
const logger = createLogger({
  level: logLevel,
  destination: { write: (line: string) => post({ kind: 'log', line }) },
})

const transports = new Map<string, SmtpTransport>()
const closing: Promise<void>[] = []
const dcidWaiters = new Map<number, (dcid: number) => void>()
let nextDcidRequest = 1

function allocateDcid(): Promise<number> {
  const id = nextDcidRequest++
  return new Promise((resolve) => {
    dcidWaiters.set(id, resolve)
    post({ kind: 'dcid', id })
  })
}

function toRequest(wire: WireRequest): DeliveryRequest {
  const { file, body } = wire
  return {
    mid: wire.mid,
    from: wire.from,
    recipients: wire.recipients,
    bodyType: wire.bodyType,
    smtpUtf8: wire.smtpUtf8,
    size: wire.size,
    message: file
      ? () => Readable.from(streamFile(Buffer.from(file.prefix), file.path))
      : () => Buffer.from((body as Uint8Array).buffer, body?.byteOffset, body?.byteLength),
  }
}

async function* streamFile(prefix: Buffer, path: string): AsyncGenerator<Buffer> {
  if (prefix.length > 0) yield prefix
  for await (const chunk of createReadStream(path)) yield chunk as Buffer
}

port.on('message', (messages: ToDeliveryThread[]) => {
  for (const message of messages) handle(message)
})

function handle(message: ToDeliveryThread): void {
  switch (message.kind) {
    case 'destination': {
      const { destination } = message
      if (!transports.has(destination.key))
        transports.set(destination.key, new SmtpTransport({ ...destination, allocateDcid, logger }))
      return
    }
    case 'deliver': {
      const request = toRequest(message.request)
      const transport = transports.get(message.key)
      const delivered = transport
        ? transport.deliver(request)
        : Promise.reject(new Error(`unknown destination ${message.key}`))
      delivered
        .catch((err: unknown) =>
          allRecipients(request, 'deferred', `451 4.3.0 ${oneLine(describeError(err))}`, '4.3.0'),
        )
        .then((outcome) => post({ kind: 'outcome', id: message.id, outcome }))
      return
    }
    case 'dcid':
      dcidWaiters.get(message.id)?.(message.dcid)
      dcidWaiters.delete(message.id)
      return
    case 'close-destination': {
      const transport = transports.get(message.key)
      transports.delete(message.key)
      if (transport) closing.push(transport.close())
      return
    }
    case 'close':
      for (const transport of transports.values()) closing.push(transport.close())
      transports.clear()
      // One more turn of the loop lets the QUIT commands reach the sockets before goodbye.
      void Promise.all(closing)
        .then(() => new Promise((resolve) => setImmediate(resolve)))
        .then(() => post({ kind: 'closed' }))
      return
  }
}
