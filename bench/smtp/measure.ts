import { Progress } from '@postern/cli-kit'
import { delay, MemorySampler, sampleProcessTree } from '../lib/index.js'
import { startSource, type Sink, type SmtpTools, type SourceLoad } from './smtp-tools.js'

/** One measured run: smtp-source → relay (or the sink itself) → smtp-sink. */
export interface RunMeasurement {
  /** Messages per second smtp-source got a 250 for (until smtp-source exited). */
  acceptedPerSec: number
  /** Messages per second that reached smtp-sink (until the last one arrived). */
  endToEndPerSec: number
  acceptedSeconds: number
  endToEndSeconds: number
  /** CPU milliseconds of the relay's process tree per message; undefined without a relay. */
  cpuMsPerMessage: number | undefined
  /** Peak memory of the relay's process tree during the run, bytes. */
  peakRss: number | undefined
  peakPss: number | undefined
  /** Messages the sink received beyond those sent (duplicates); should be 0. */
  extraDeliveries: number
}

export interface MeasureOptions {
  tools: SmtpTools
  dir: string
  sink: Sink
  /** Where smtp-source connects: the relay, or the sink for the ceiling row. */
  targetPort: number
  /** The relay's root process, measured for CPU and memory. */
  relayPid: number | undefined
  /** Services the relay depends on (rspamd, clamd): their CPU counts as the relay's. */
  helperPids?: number[]
  load: SourceLoad
  warmup: number
  label: string
  /** How long delivery may make no progress before the run is declared failed. */
  stallMs?: number
}

const POLL_MS = 20

export async function measureRun(options: MeasureOptions): Promise<RunMeasurement> {
  const { tools, dir, sink, targetPort, load } = options
  const stallMs = options.stallMs ?? 60_000
  if (options.warmup > 0) {
    // Not measured: lets JIT compilers, caches and connection pools reach their steady state.
    const base = sink.received()
    const warm = await startSource(
      tools,
      dir,
      targetPort,
      { ...load, messages: options.warmup },
      'warmup',
    )
    try {
      await warm.done
    } finally {
      await warm.stop()
    }
    await waitForDeliveries(sink, base + options.warmup, stallMs, `${options.label} warm-up`)
  }

  const base = sink.received()
  const cpuPids =
    options.relayPid === undefined ? [] : [options.relayPid, ...(options.helperPids ?? [])]
  const cpuBefore = cpuPids.length === 0 ? undefined : cpuOf(cpuPids)
  const memory =
    options.relayPid === undefined ? undefined : new MemorySampler(options.relayPid).start()
  const started = performance.now()
  const source = await startSource(tools, dir, targetPort, load, 'measured')
  let acceptedAt: number | undefined
  let sourceError: unknown
  void source.done.then(
    () => (acceptedAt = performance.now()),
    (err: unknown) => (sourceError = err),
  )

  const progress = new Progress(options.label, load.messages)
  let delivered = 0
  let deliveredAt: number | undefined
  let cpuAfter: number | undefined
  let lastChange = performance.now()
  try {
    while (deliveredAt === undefined || acceptedAt === undefined) {
      if (sourceError) throw sourceError
      await delay(POLL_MS)
      const now = performance.now()
      const count = sink.received() - base
      if (count !== delivered) {
        progress.tick(Math.min(count, load.messages) - Math.min(delivered, load.messages))
        delivered = count
        lastChange = now
      }
      if (deliveredAt === undefined && delivered >= load.messages) {
        deliveredAt = now
        if (cpuPids.length > 0) cpuAfter = cpuOf(cpuPids)
      }
      if (deliveredAt === undefined && now - lastChange > stallMs)
        throw new Error(
          `${options.label}: ${delivered} of ${load.messages} messages reached smtp-sink and none arrived for ${stallMs / 1000} s (smtp-source ${acceptedAt === undefined ? 'still running' : 'finished'})`,
        )
    }
  } finally {
    progress.finish()
    await source.stop()
  }
  const peak = memory?.stop()
  // Anything arriving beyond the messages sent is a duplicate delivery.
  await delay(1000)
  const extraDeliveries = Math.max(0, sink.received() - base - load.messages)
  const acceptedSeconds = ((acceptedAt as number) - started) / 1000
  const endToEndSeconds = (deliveredAt - started) / 1000
  return {
    acceptedPerSec: load.messages / acceptedSeconds,
    endToEndPerSec: load.messages / endToEndSeconds,
    acceptedSeconds,
    endToEndSeconds,
    cpuMsPerMessage:
      cpuBefore !== undefined && cpuAfter !== undefined
        ? (cpuAfter - cpuBefore) / load.messages
        : undefined,
    peakRss: peak?.peakRss,
    peakPss: peak?.peakPss,
    extraDeliveries,
  }
}

/** CPU milliseconds of several process trees together. */
function cpuOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + sampleProcessTree(pid, { memory: false }).cpuMs, 0)
}

async function waitForDeliveries(
  sink: Sink,
  target: number,
  stallMs: number,
  what: string,
): Promise<void> {
  let last = sink.received()
  let lastChange = performance.now()
  while (last < target) {
    await delay(POLL_MS * 5)
    const count = sink.received()
    if (count !== last) {
      last = count
      lastChange = performance.now()
    } else if (performance.now() - lastChange > stallMs) {
      throw new Error(`${what}: smtp-sink stopped at ${last} of ${target} messages`)
    }
  }
}
