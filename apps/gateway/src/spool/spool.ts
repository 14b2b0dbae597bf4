import {
  closeSync,
  constants as fsConstants,
  fsyncSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { mkdir, open, readFile, readdir, rm, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describeError, systemClock, type Clock, type Logger } from '@postern/core'
import { gwErrors } from '../errors.js'
import type { RecipientOutcome } from '../pipeline/processor.js'
import { BodySink, type SinkResult } from './body-sink.js'
import { allocateSharedBody } from './shared-body.js'
import { FreeSpaceGuard } from './free-space.js'
import {
  decodeRecord,
  encodeRecord,
  findNextMagic,
  RecordType,
  type DecodedRecord,
  type EncodedRecord,
} from './record.js'
import type { BodyRef, MessageMeta, SpoolEntry } from './types.js'

export interface SpoolOptions {
  /** The spool directory (`dataDir/spool`). */
  dir: string
  segmentSize: number
  inlineMaxSize: number
  maxBatchBytes: number
  compactAfterMs: number
  /** Free space kept on the spool's filesystem; new mail is refused below it (0: no check). */
  minFreeBytes: number
  /** How long a free-space measurement is trusted. */
  freeSpaceRefreshMs: number
  clock?: Clock
}

export interface SpoolHooks {
  /** After every group commit: how long write + fsync took, and what it carried. */
  onCommit?(seconds: number, records: number, bytes: number): void
}

interface Segment {
  id: number
  path: string
  handle: FileHandle
  size: number
  /** Messages with records here that are not finished yet. */
  mids: Set<number>
  /** Message records written into this segment (for the compaction ratio). */
  messages: number
  sealedAt: number | undefined
  readers: number
  deleted: boolean
}

interface Tracked {
  entry: SpoolEntry
  /** Segments holding records of this message. */
  segments: Set<number>
}

interface PendingWrite {
  mid: number | undefined
  /** The write stores a new message (not yet tracked when the commit completes). */
  creates: boolean
  records: EncodedRecord[]
  /** A body file whose directory entry must be durable before the record that names it. */
  newFile: boolean
  resolve(positions: { segment: number; offset: number }[]): void
  reject(err: Error): void
}

/**
 * Segments are opened with O_DSYNC: a write returns once its data (and the metadata needed to
 * read it back) is on stable storage (POSIX), so a group commit is one write call instead of a
 * write and an fdatasync — one thread-pool round trip less on the path to every 250. Where the
 * flag does not exist, an explicit fdatasync follows the write.
 */
const DSYNC = fsConstants.O_DSYNC ?? 0

const SEGMENT_PREFIX = 'seg-'
const SEGMENT_SUFFIX = '.psl'
const FORMAT_VERSION = 1

function segmentName(id: number): string {
  return `${SEGMENT_PREFIX}${String(id).padStart(10, '0')}${SEGMENT_SUFFIX}`
}

/**
 * The durable spool. Every accepted message is appended to the active segment file and is on
 * stable storage (O_DSYNC write, or write + fdatasync) before the client gets its 250; concurrent sessions share one write
 * and one fsync (group commit): while one commit is on its way to the disk, the next batch
 * gathers. Later records (pipeline result, finished targets, holds, done markers) ride the
 * same commits. A finished segment is deleted once no message needs it, oldest first, and a
 * sealed segment still pinned by a few long-lived messages has them rewritten into the active
 * segment (compaction). On start every segment is read back, CRC-checked, and the messages
 * that were accepted but not finished are handed to the queue.
 */
export class Spool {
  private readonly segments = new Map<number, Segment>()
  private readonly tracked = new Map<number, Tracked>()
  private active!: Segment
  private readonly pending: PendingWrite[] = []
  private committing = false
  private failure: Error | undefined
  private closed = false
  private compactTimer: NodeJS.Timeout | undefined
  private compacting = false
  private nextMidValue = 1
  private nextIcidValue = 1
  private nextDcidValue = 1
  private readonly clock: Clock
  private readonly segmentsDir: string
  private readonly largeDir: string
  private readonly lockPath: string
  /** Room left on the spool's filesystem (checked before mail is accepted). */
  readonly space: FreeSpaceGuard

  private constructor(
    private readonly options: SpoolOptions,
    private readonly logger: Logger,
    private readonly hooks: SpoolHooks,
  ) {
    this.clock = options.clock ?? systemClock
    this.segmentsDir = join(options.dir, 'segments')
    this.largeDir = join(options.dir, 'large')
    this.lockPath = join(options.dir, 'LOCK')
    this.space = new FreeSpaceGuard(
      {
        dir: options.dir,
        reserveBytes: options.minFreeBytes,
        refreshMs: options.freeSpaceRefreshMs,
        clock: this.clock,
      },
      logger,
    )
  }

  /** Opens (and recovers) the spool. Refuses a spool another live process holds. */
  static async open(options: SpoolOptions, logger: Logger, hooks: SpoolHooks = {}): Promise<Spool> {
    const spool = new Spool(options, logger, hooks)
    try {
      await mkdir(spool.segmentsDir, { recursive: true, mode: 0o700 })
      await mkdir(spool.largeDir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw gwErrors.SPOOL_UNAVAILABLE(
        { dir: options.dir, reason: describeError(err) },
        { cause: err },
      )
    }
    spool.acquireLock()
    try {
      await spool.space.refresh()
      await spool.recover()
      await spool.startSegment()
    } catch (err) {
      spool.releaseLock()
      throw err
    }
    spool.compactTimer = setInterval(
      () => void spool.compactOnce().catch((e) => spool.logCompactError(e)),
      Math.max(1_000, Math.min(options.compactAfterMs, 60_000)),
    )
    spool.compactTimer.unref()
    return spool
  }

  // --- Ids ------------------------------------------------------------------------------------

  allocateMid(): number {
    return this.nextMidValue++
  }

  allocateIcid(): number {
    return this.nextIcidValue++
  }

  allocateDcid(): number {
    return this.nextDcidValue++
  }

  /** Continues after ids already used elsewhere (the tracking database knows rejected MIDs). */
  raiseIds(ids: { mid: number; icid: number; dcid: number }): void {
    this.nextMidValue = Math.max(this.nextMidValue, ids.mid + 1)
    this.nextIcidValue = Math.max(this.nextIcidValue, ids.icid + 1)
    this.nextDcidValue = Math.max(this.nextDcidValue, ids.dcid + 1)
  }

  // --- Writing --------------------------------------------------------------------------------

  /** A collector for a message body arriving over SMTP. */
  createBodySink(mid: number): BodySink {
    return new BodySink(this.largeDir, this.options.inlineMaxSize, String(mid))
  }

  /**
   * Stores an accepted message durably: resolves only once its record is fsynced (and, for a
   * large body, its file and directory entry). Only then may the client be told 250.
   */
  async storeMessage(
    meta: MessageMeta,
    body: SinkResult,
    processed?: { outcomes: RecipientOutcome[]; variants: Buffer[] },
  ): Promise<SpoolEntry> {
    const records: EncodedRecord[] = []
    const messageRecord =
      body.kind === 'inline'
        ? encodeRecord(RecordType.Message, meta, body.chunks)
        : encodeRecord(RecordType.Message, { ...meta, bodyFile: body.path }, [])
    records.push(messageRecord)
    if (processed) records.push(this.encodeProcessed(meta.mid, processed))
    const positions = await this.enqueue(meta.mid, records, body.kind === 'file', true)
    this.space.consumed(body.size)
    const at = positions[0] as { segment: number; offset: number }
    const entry: SpoolEntry = {
      meta,
      body:
        body.kind === 'inline'
          ? {
              kind: 'segment',
              segment: at.segment,
              offset: at.offset + messageRecord.bodyOffset,
              length: messageRecord.bodyLength,
            }
          : { kind: 'file', path: body.path, length: body.size },
      processed: processed
        ? {
            outcomes: processed.outcomes,
            variants: this.variantRefs(
              records[1] as EncodedRecord,
              positions[1],
              processed.variants,
            ),
          }
        : undefined,
      doneTargets: new Set(),
      held: false,
    }
    const tracked = this.tracked.get(meta.mid)
    if (tracked) tracked.entry = entry
    else this.tracked.set(meta.mid, { entry, segments: new Set(positions.map((p) => p.segment)) })
    return entry
  }

  /** Records the pipeline's result; resolves once the record is durable. */
  async storeProcessed(
    entry: SpoolEntry,
    outcomes: RecipientOutcome[],
    variants: readonly Buffer[],
  ): Promise<void> {
    const record = this.encodeProcessed(entry.meta.mid, { outcomes, variants })
    const [position] = await this.enqueue(entry.meta.mid, [record], false)
    entry.processed = { outcomes, variants: this.variantRefs(record, position, variants) }
  }

  /**
   * Notes a result that delivers the message as received to every recipient, in memory only:
   * it needs no record, since after a restart the message is processed again and that gives the
   * same deliveries. A pure relay thus writes two records per message (message, done).
   */
  noteProcessed(entry: SpoolEntry, outcomes: RecipientOutcome[]): void {
    entry.processed = { outcomes, variants: [] }
  }

  /** Records finished delivery targets (so that a restart does not deliver them again). */
  async markTargetsDone(entry: SpoolEntry, targets: readonly number[]): Promise<void> {
    if (targets.length === 0) return
    for (const t of targets) entry.doneTargets.add(t)
    await this.enqueue(
      entry.meta.mid,
      [encodeRecord(RecordType.TargetsDone, { mid: entry.meta.mid, targets })],
      false,
    )
  }

  async setHeld(entry: SpoolEntry, held: boolean): Promise<void> {
    entry.held = held
    await this.enqueue(
      entry.meta.mid,
      [encodeRecord(RecordType.Hold, { mid: entry.meta.mid, held })],
      false,
    )
  }

  /**
   * The message is finished (delivered, bounced, deleted): once the marker is durable, the
   * spool forgets it, deletes its body file, and deletes segments nothing needs any more.
   */
  async markDone(entry: SpoolEntry): Promise<void> {
    const mid = entry.meta.mid
    await this.enqueue(undefined, [encodeRecord(RecordType.Done, { mid })], false)
    const tracked = this.tracked.get(mid)
    if (!tracked) return
    this.tracked.delete(mid)
    for (const id of tracked.segments) this.segments.get(id)?.mids.delete(mid)
    if (entry.body.kind === 'file') await unlink(entry.body.path).catch(() => undefined)
    await this.deleteFinishedSegments()
  }

  // --- Reading --------------------------------------------------------------------------------

  /** Messages accepted and not finished, oldest first (after `open`, the recovered ones). */
  entries(): SpoolEntry[] {
    return [...this.tracked.values()].map((t) => t.entry).sort((a, b) => a.meta.mid - b.meta.mid)
  }

  entry(mid: number): SpoolEntry | undefined {
    return this.tracked.get(mid)?.entry
  }

  /** The message as received, or a pipeline variant of it. */
  async readBody(entry: SpoolEntry, variant?: number): Promise<Buffer> {
    const ref = this.refFor(entry, variant)
    if (ref.kind === 'file') return readFile(ref.path)
    const segment = this.segments.get(ref.segment)
    if (!segment) throw new Error(`spool segment ${ref.segment} is gone`)
    segment.readers++
    try {
      const buffer = allocateSharedBody(ref.length)
      let done = 0
      while (done < ref.length) {
        const { bytesRead } = await segment.handle.read(
          buffer,
          done,
          ref.length - done,
          ref.offset + done,
        )
        if (bytesRead === 0) throw new Error(`spool segment ${ref.segment} is truncated`)
        done += bytesRead
      }
      return buffer
    } finally {
      segment.readers--
      if (segment.deleted && segment.readers === 0) await segment.handle.close().catch(() => {})
    }
  }

  /** A stream of the body (a large body file is streamed, not loaded). */
  openBody(entry: SpoolEntry, variant?: number): Readable {
    const ref = this.refFor(entry, variant)
    if (ref.kind === 'file') {
      return Readable.from(
        (async function* () {
          const handle = await open(ref.path, 'r')
          try {
            yield* handle.createReadStream({ autoClose: false })
          } finally {
            await handle.close()
          }
        })(),
      )
    }
    return Readable.from(
      (async function* (spool: Spool) {
        yield await spool.readBody(entry, variant)
      })(this),
    )
  }

  private refFor(entry: SpoolEntry, variant: number | undefined): BodyRef {
    if (variant === undefined) return entry.body
    const ref = entry.processed?.variants[variant]
    if (!ref) throw new Error(`message ${entry.meta.mid} has no variant ${variant}`)
    return ref
  }

  /** Bytes held in segment files (for metrics and `queue summary`). */
  diskUsage(): { segments: number; bytes: number } {
    let bytes = 0
    for (const s of this.segments.values()) bytes += s.size
    return { segments: this.segments.size, bytes }
  }

  /** True once a write or fsync failed: nothing more is accepted until a restart. */
  get failed(): boolean {
    return this.failure !== undefined
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.compactTimer) clearInterval(this.compactTimer)
    while (this.committing || this.pending.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    for (const segment of this.segments.values()) await segment.handle.close().catch(() => {})
    this.releaseLock()
  }

  // --- Group commit ---------------------------------------------------------------------------

  private enqueue(
    mid: number | undefined,
    records: EncodedRecord[],
    newFile: boolean,
    creates = false,
  ): Promise<{ segment: number; offset: number }[]> {
    if (this.failure) {
      return Promise.reject(gwErrors.SPOOL_WRITE_FAILED({ reason: this.failure.message }))
    }
    if (this.closed) {
      return Promise.reject(gwErrors.SPOOL_WRITE_FAILED({ reason: 'the spool is closed' }))
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ mid, creates, records, newFile, resolve, reject })
      if (!this.committing) void this.commitLoop()
    })
  }

  private async commitLoop(): Promise<void> {
    this.committing = true
    try {
      while (this.pending.length > 0) {
        const batch = this.takeBatch()
        await this.commit(batch)
      }
    } finally {
      this.committing = false
    }
  }

  private takeBatch(): PendingWrite[] {
    const batch: PendingWrite[] = []
    let bytes = 0
    while (this.pending.length > 0) {
      const next = this.pending[0] as PendingWrite
      const size = next.records.reduce((n, r) => n + r.size, 0)
      if (batch.length > 0 && bytes + size > this.options.maxBatchBytes) break
      batch.push(next)
      this.pending.shift()
      bytes += size
    }
    return batch
  }

  private async commit(batch: PendingWrite[]): Promise<void> {
    const started = process.hrtime.bigint()
    let bytes = 0
    let records = 0
    for (const w of batch) {
      for (const r of w.records) {
        bytes += r.size
        records++
      }
    }
    try {
      if (this.active.size > 0 && this.active.size + bytes > this.options.segmentSize) {
        await this.rotate()
      }
      if (batch.some((w) => w.newFile)) await fsyncDirectory(this.largeDir)
      const segment = this.active
      const start = segment.size
      const buffers: Buffer[] = []
      const positions: { segment: number; offset: number }[][] = []
      let offset = start
      for (const w of batch) {
        const mine: { segment: number; offset: number }[] = []
        for (const r of w.records) {
          mine.push({ segment: segment.id, offset })
          offset += r.size
          for (const b of r.buffers) buffers.push(b)
        }
        positions.push(mine)
      }
      await writeFully(segment.handle, buffers, start, bytes)
      if (DSYNC === 0) await segment.handle.datasync()
      segment.size = offset
      for (const [i, w] of batch.entries()) {
        if (w.mid !== undefined) this.noteRecords(segment, w)
        w.resolve(positions[i] as { segment: number; offset: number }[])
      }
      this.hooks.onCommit?.(Number(process.hrtime.bigint() - started) / 1e9, records, bytes)
    } catch (err) {
      await this.handleCommitFailure(err, batch)
    }
  }

  /**
   * Notes that `segment` holds records of a message, unless the message finished meanwhile
   * (a compaction copy landing after its done marker must not pin the segment).
   */
  private noteRecords(segment: Segment, write: PendingWrite): void {
    const mid = write.mid as number
    const tracked = this.tracked.get(mid)
    if (!write.creates && !tracked) return
    segment.mids.add(mid)
    tracked?.segments.add(segment.id)
    for (const r of write.records) if (r.type === RecordType.Message) segment.messages++
  }

  private async handleCommitFailure(err: unknown, batch: PendingWrite[]): Promise<void> {
    const reason = describeError(err)
    const full = (err as NodeJS.ErrnoException).code === 'ENOSPC'
    // Cut a partial write off so later records follow a valid one.
    const truncated = await this.active.handle
      .truncate(this.active.size)
      .then(() => true)
      .catch(() => false)
    if (!full || !truncated) {
      // After a failed fsync the page cache can no longer be trusted (the "fsyncgate"
      // lesson): refuse everything until an operator restarts the gateway.
      this.failure = err instanceof Error ? err : new Error(reason)
      this.logger.fatal(
        { event: 'SPOOL_FAILED', err: reason },
        'spool write failed; no more mail is accepted until the gateway is restarted',
      )
    } else {
      this.logger.error({ event: 'SPOOL_FULL', err: reason }, 'spool disk full')
    }
    const error = gwErrors.SPOOL_WRITE_FAILED({ reason }, { cause: err })
    ;(error as { full?: boolean }).full = full
    for (const w of batch) w.reject(error)
  }

  private encodeProcessed(
    mid: number,
    processed: { outcomes: readonly RecipientOutcome[]; variants: readonly Buffer[] },
  ): EncodedRecord {
    return encodeRecord(
      RecordType.Processed,
      { mid, outcomes: processed.outcomes, variantSizes: processed.variants.map((v) => v.length) },
      [...processed.variants],
    )
  }

  private variantRefs(
    record: EncodedRecord,
    position: { segment: number; offset: number } | undefined,
    variants: readonly { length: number }[],
  ): BodyRef[] {
    if (!position) return []
    let offset = position.offset + record.bodyOffset
    return variants.map((v) => {
      const ref: BodyRef = { kind: 'segment', segment: position.segment, offset, length: v.length }
      offset += v.length
      return ref
    })
  }

  // --- Segments -------------------------------------------------------------------------------

  private async startSegment(): Promise<void> {
    const id = Math.max(0, ...this.segments.keys()) + 1
    const path = join(this.segmentsDir, segmentName(id))
    const handle = await open(
      path,
      fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | DSYNC,
      0o600,
    )
    const header = encodeRecord(RecordType.Header, {
      version: FORMAT_VERSION,
      segment: id,
      createdAt: this.clock.now(),
      nextMid: this.nextMidValue,
      nextIcid: this.nextIcidValue,
      nextDcid: this.nextDcidValue,
    })
    await writeFully(handle, header.buffers, 0, header.size)
    if (DSYNC === 0) await handle.datasync()
    await fsyncDirectory(this.segmentsDir)
    const segment: Segment = {
      id,
      path,
      handle,
      size: header.size,
      mids: new Set(),
      messages: 0,
      sealedAt: undefined,
      readers: 0,
      deleted: false,
    }
    this.segments.set(id, segment)
    this.active = segment
  }

  private async rotate(): Promise<void> {
    const previous = this.active
    previous.sealedAt = this.clock.now()
    await this.startSegment()
    this.logger.debug({ event: 'SPOOL_SEGMENT_ROTATED', segment: this.active.id }, 'new segment')
    await this.deleteFinishedSegments()
  }

  /**
   * Deletes sealed segments whose messages are all finished, oldest first: a done marker must
   * outlive every older record of its message, and deleting in order guarantees it.
   */
  private async deleteFinishedSegments(): Promise<void> {
    const ids = [...this.segments.keys()].sort((a, b) => a - b)
    for (const id of ids) {
      const segment = this.segments.get(id) as Segment
      if (segment === this.active || segment.mids.size > 0) return
      this.segments.delete(id)
      segment.deleted = true
      await unlink(segment.path).catch(() => undefined)
      if (segment.readers === 0) await segment.handle.close().catch(() => undefined)
      this.logger.debug({ event: 'SPOOL_SEGMENT_DELETED', segment: id }, 'segment deleted')
    }
  }

  /**
   * Rewrites the unfinished messages of the oldest sealed segment into the active one when it
   * has been sealed for `compactAfterMs` and mostly holds finished mail (or finished segments
   * wait behind it), so that it can be deleted.
   */
  async compactOnce(): Promise<number> {
    if (this.compacting || this.closed || this.failure) return 0
    const ids = [...this.segments.keys()].sort((a, b) => a - b)
    const oldest = this.segments.get(ids[0] as number)
    if (!oldest || oldest === this.active || oldest.sealedAt === undefined) return 0
    if (this.clock.now() - oldest.sealedAt < this.options.compactAfterMs) return 0
    const deadBehind = ids
      .slice(1)
      .some((id) => this.segments.get(id) !== this.active && this.segments.get(id)?.mids.size === 0)
    const mostlyDead = oldest.mids.size * 2 < Math.max(1, oldest.messages)
    if (!deadBehind && !mostlyDead) return 0
    this.compacting = true
    let moved = 0
    try {
      for (const mid of [...oldest.mids]) {
        const tracked = this.tracked.get(mid)
        if (!tracked) continue
        await this.rewrite(tracked)
        moved++
      }
      await this.deleteFinishedSegments()
      if (moved > 0) {
        this.logger.info(
          { event: 'SPOOL_COMPACTED', segment: oldest.id, messages: moved },
          'long-lived messages moved out of an old segment',
        )
      }
      return moved
    } finally {
      this.compacting = false
    }
  }

  private async rewrite(tracked: Tracked): Promise<void> {
    const { entry } = tracked
    const mid = entry.meta.mid
    const body = entry.body.kind === 'segment' ? await this.readBody(entry) : undefined
    const variants = entry.processed
      ? await Promise.all(entry.processed.variants.map((_, i) => this.readBody(entry, i)))
      : []
    const records: EncodedRecord[] = [
      body
        ? encodeRecord(RecordType.Message, entry.meta, [body])
        : encodeRecord(RecordType.Message, {
            ...entry.meta,
            bodyFile: (entry.body as { path: string }).path,
          }),
    ]
    if (entry.processed) {
      records.push(this.encodeProcessed(mid, { outcomes: entry.processed.outcomes, variants }))
    }
    if (entry.doneTargets.size > 0) {
      records.push(encodeRecord(RecordType.TargetsDone, { mid, targets: [...entry.doneTargets] }))
    }
    if (entry.held) records.push(encodeRecord(RecordType.Hold, { mid, held: true }))
    const positions = await this.enqueue(mid, records, false)
    if (!this.tracked.has(mid)) return
    const first = positions[0] as { segment: number; offset: number }
    if (body) {
      entry.body = {
        kind: 'segment',
        segment: first.segment,
        offset: first.offset + (records[0] as EncodedRecord).bodyOffset,
        length: body.length,
      }
    }
    if (entry.processed) {
      entry.processed.variants = this.variantRefs(
        records[1] as EncodedRecord,
        positions[1],
        variants,
      )
    }
    for (const id of tracked.segments) {
      if (id !== first.segment) this.segments.get(id)?.mids.delete(mid)
    }
    tracked.segments = new Set([first.segment])
  }

  private logCompactError(err: unknown): void {
    this.logger.error(
      { event: 'SPOOL_COMPACTION_FAILED', err: describeError(err) },
      'compaction failed',
    )
  }

  // --- Recovery -------------------------------------------------------------------------------

  private async recover(): Promise<void> {
    const names = (await readdir(this.segmentsDir))
      .filter((n) => n.startsWith(SEGMENT_PREFIX) && n.endsWith(SEGMENT_SUFFIX))
      .sort()
    const done = new Set<number>()
    const referencedFiles = new Set<string>()
    for (const [index, name] of names.entries()) {
      const id = Number(name.slice(SEGMENT_PREFIX.length, -SEGMENT_SUFFIX.length))
      const path = join(this.segmentsDir, name)
      const data = await readFile(path)
      const handle = await open(path, 'r')
      const segment: Segment = {
        id,
        path,
        handle,
        size: data.length,
        mids: new Set(),
        messages: 0,
        sealedAt: this.clock.now(),
        readers: 0,
        deleted: false,
      }
      this.segments.set(id, segment)
      let offset = 0
      while (offset < data.length) {
        const result = decodeRecord(data, offset)
        if (result.kind === 'record') {
          this.apply(segment, result.record, done)
          offset += result.record.size
          continue
        }
        const last = index === names.length - 1
        if (result.kind === 'incomplete' && last) {
          this.logger.warn(
            { event: 'SPOOL_TORN_TAIL', segment: id, offset, bytes: data.length - offset },
            'incomplete record at the end of the spool ignored (it was never acknowledged)',
          )
          break
        }
        const reason = result.kind === 'corrupt' ? result.reason : 'truncated record'
        this.logger.error(
          { event: 'SPOOL_CORRUPT_RECORD', segment: id, offset, reason },
          gwErrors.SPOOL_CORRUPT({ segment: id, offset, reason }).message,
        )
        const next = findNextMagic(data, offset + 1)
        if (next < 0) break
        offset = next
      }
    }
    for (const { entry } of this.tracked.values()) {
      if (entry.body.kind === 'file') referencedFiles.add(entry.body.path)
    }
    for (const name of await readdir(this.largeDir)) {
      const path = join(this.largeDir, name)
      if (!referencedFiles.has(path)) await rm(path, { force: true })
    }
    await this.deleteFinishedSegments()
    if (this.tracked.size > 0 || names.length > 0) {
      this.logger.info(
        {
          event: 'SPOOL_RECOVERED',
          segments: names.length,
          messages: this.tracked.size,
          nextMid: this.nextMidValue,
        },
        'spool recovered',
      )
    }
  }

  private apply(segment: Segment, record: DecodedRecord, done: Set<number>): void {
    const meta = record.meta as Record<string, unknown>
    if (record.type === RecordType.Header) {
      this.raiseIds({
        mid: Number(meta.nextMid ?? 1) - 1,
        icid: Number(meta.nextIcid ?? 1) - 1,
        dcid: Number(meta.nextDcid ?? 1) - 1,
      })
      return
    }
    const mid = Number(meta.mid)
    if (!Number.isSafeInteger(mid)) return
    if (record.type === RecordType.Done) {
      done.add(mid)
      const tracked = this.tracked.get(mid)
      if (tracked) {
        this.tracked.delete(mid)
        for (const id of tracked.segments) this.segments.get(id)?.mids.delete(mid)
      }
      return
    }
    if (done.has(mid)) return
    if (record.type === RecordType.Message) {
      const { bodyFile, ...messageMeta } = meta as unknown as MessageMeta & { bodyFile?: string }
      this.raiseIds({ mid, icid: messageMeta.icid, dcid: 0 })
      segment.messages++
      const body: BodyRef =
        bodyFile !== undefined
          ? { kind: 'file', path: bodyFile, length: messageMeta.size }
          : {
              kind: 'segment',
              segment: segment.id,
              offset: record.offset + record.bodyOffset,
              length: record.bodyLength,
            }
      const existing = this.tracked.get(mid)
      if (existing) {
        existing.entry.meta = messageMeta
        existing.entry.body = body
        existing.segments.add(segment.id)
      } else {
        this.tracked.set(mid, {
          entry: {
            meta: messageMeta,
            body,
            processed: undefined,
            doneTargets: new Set(),
            held: false,
          },
          segments: new Set([segment.id]),
        })
      }
      segment.mids.add(mid)
      return
    }
    const tracked = this.tracked.get(mid)
    if (!tracked) return
    tracked.segments.add(segment.id)
    segment.mids.add(mid)
    const entry = tracked.entry
    if (record.type === RecordType.Processed) {
      const sizes = (meta.variantSizes as number[] | undefined) ?? []
      let offset = record.offset + record.bodyOffset
      entry.processed = {
        outcomes: meta.outcomes as RecipientOutcome[],
        variants: sizes.map((length) => {
          const ref: BodyRef = { kind: 'segment', segment: segment.id, offset, length }
          offset += length
          return ref
        }),
      }
    } else if (record.type === RecordType.TargetsDone) {
      for (const t of (meta.targets as number[] | undefined) ?? []) entry.doneTargets.add(t)
    } else if (record.type === RecordType.Hold) {
      entry.held = meta.held === true
    }
  }

  // --- Lock -----------------------------------------------------------------------------------

  private acquireLock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600)
        writeSync(fd, `${process.pid}\n`)
        fsyncSync(fd)
        closeSync(fd)
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw gwErrors.SPOOL_UNAVAILABLE(
            { dir: this.options.dir, reason: describeError(err) },
            { cause: err },
          )
        }
        const pid = readLockPid(this.lockPath)
        if (pid !== undefined && pid !== process.pid && processAlive(pid)) {
          throw gwErrors.SPOOL_LOCKED({ dir: this.options.dir, pid })
        }
        // A stale lock left by a process that died (kill -9, power loss): take it over.
        rmSyncQuiet(this.lockPath)
      }
    }
    throw gwErrors.SPOOL_UNAVAILABLE({ dir: this.options.dir, reason: 'cannot create the lock' })
  }

  private releaseLock(): void {
    if (readLockPid(this.lockPath) === process.pid) rmSyncQuiet(this.lockPath)
  }
}

async function writeFully(
  handle: FileHandle,
  buffers: Buffer[],
  position: number,
  total: number,
): Promise<void> {
  let written = 0
  let remaining = buffers
  while (written < total) {
    const { bytesWritten } = await handle.writev(remaining, position + written)
    if (bytesWritten <= 0) throw new Error('short write to the spool')
    written += bytesWritten
    if (written < total) remaining = skipBytes(remaining, bytesWritten)
  }
}

function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  const out: Buffer[] = []
  let skip = count
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length
      continue
    }
    out.push(skip > 0 ? b.subarray(skip) : b)
    skip = 0
  }
  return out
}

/** Makes a directory's entries (new or removed files) durable (fsync on the directory). */
async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function readLockPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function rmSyncQuiet(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
