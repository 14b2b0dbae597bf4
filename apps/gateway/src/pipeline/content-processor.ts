import type { ContentPipeline } from './content-pipeline.js'
import type { TimelineEvent } from './events.js'
import type {
  AcceptedMessage,
  MessageProcessor,
  ProcessingContext,
  ProcessingResult,
} from './processor.js'

/**
 * The content pipeline as the gateway core's message processor: reads the accepted message
 * (from the queue's body cache when it is there, so the spool is not read again), runs the
 * pipeline, and hands back outcomes, variants, events and observables; the pipeline's own
 * rows go into the same tracking batch. A scanner that asks to defer makes `process` throw:
 * the core retries on its schedule, and the events explaining why are recorded first.
 */
export class ContentProcessor implements MessageProcessor {
  readonly name = 'content-pipeline'

  constructor(private readonly pipeline: ContentPipeline) {}

  async process(message: AcceptedMessage, context: ProcessingContext): Promise<ProcessingResult> {
    const raw = await message.readBody()
    let result
    try {
      result = await this.pipeline.process(
        {
          mid: message.mid,
          receivedAt: message.receivedAt,
          direction: message.direction,
          envelope: message.envelope,
          client: {
            ip: message.client.ip,
            rdns: message.client.rdns,
            helo: message.client.helo,
            authUser: message.client.authUser,
          },
          raw,
        },
        context.signal,
      )
    } catch (err) {
      const events = (err as { events?: TimelineEvent[] }).events
      if (events) context.tracking.events(events.map((e) => ({ ...e, mid: message.mid })))
      throw err
    }
    for (const rows of result.rows) context.tracking.rowsOf(rows.table, rows.rows)
    return {
      recipients: result.recipients,
      variants: result.variants,
      events: result.events,
      observables: result.observables,
    }
  }
}
