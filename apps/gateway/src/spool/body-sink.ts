import { randomBytes } from 'node:crypto'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

export type SinkResult =
  | { kind: 'inline'; chunks: Buffer[]; size: number }
  /** Spilled to its own file, written and fsynced (its directory entry is not yet). */
  | { kind: 'file'; path: string; size: number }

/**
 * Collects a message body while it arrives. Small messages stay in memory and go into the
 * segment with their record (one write, one fsync shared with other sessions); a message that
 * grows past `inlineMax` is streamed to a file of its own instead of being held in memory.
 */
export class BodySink {
  private chunks: Buffer[] = []
  private file: { path: string; handle: FileHandle } | undefined
  private opening: Promise<void> | undefined
  private written = 0
  size = 0

  constructor(
    private readonly largeDir: string,
    private readonly inlineMax: number,
    private readonly name: string,
  ) {}

  /** Appends a chunk. Returns a promise only when the caller must wait (the file is written). */
  write(chunk: Buffer): Promise<void> | undefined {
    this.size += chunk.length
    if (!this.file && !this.opening && this.size <= this.inlineMax) {
      this.chunks.push(chunk)
      return undefined
    }
    this.chunks.push(chunk)
    return this.spill()
  }

  private async spill(): Promise<void> {
    if (!this.file) {
      this.opening ??= (async () => {
        const path = join(this.largeDir, `${this.name}-${randomBytes(6).toString('hex')}.eml`)
        this.file = { path, handle: await open(path, 'wx', 0o600) }
      })()
      await this.opening
    }
    const pending = this.chunks
    this.chunks = []
    if (pending.length === 0) return
    const file = this.file as { path: string; handle: FileHandle }
    const { bytesWritten } = await file.handle.writev(pending, this.written)
    this.written += bytesWritten
  }

  async finish(): Promise<SinkResult> {
    if (!this.file && !this.opening) {
      return { kind: 'inline', chunks: this.chunks, size: this.size }
    }
    await this.spill()
    const file = this.file as { path: string; handle: FileHandle }
    await file.handle.datasync()
    await file.handle.close()
    return { kind: 'file', path: file.path, size: this.size }
  }

  /** Drops whatever was collected (a rejected or aborted message). */
  async discard(): Promise<void> {
    this.chunks = []
    if (this.opening) await this.opening.catch(() => undefined)
    if (this.file) {
      const { path, handle } = this.file
      this.file = undefined
      await handle.close().catch(() => undefined)
      await unlink(path).catch(() => undefined)
    }
  }
}
