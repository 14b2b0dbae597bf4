/**
 * Progress for long CLI work: a redrawn bar on a terminal, a line every `logEvery` items
 * otherwise (so CI logs show progress without thousands of lines).
 */
export class Progress {
  private done = 0
  private readonly started = Date.now()
  private lastDraw = 0

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly logEvery = Math.max(1, Math.floor(total / 10)),
  ) {}

  tick(count = 1): void {
    const before = this.done
    this.done = Math.min(this.total, this.done + count)
    if (this.stream.isTTY) {
      const now = Date.now()
      if (now - this.lastDraw >= 100 || this.done === this.total) {
        this.lastDraw = now
        this.stream.write(`\r${this.line()}`)
      }
    } else if (
      Math.floor(before / this.logEvery) !== Math.floor(this.done / this.logEvery) ||
      this.done === this.total
    ) {
      this.stream.write(`${this.line()}\n`)
    }
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write(`\r${this.line()}\n`)
  }

  private line(): string {
    const width = 30
    const ratio = this.total === 0 ? 1 : this.done / this.total
    const filled = Math.round(ratio * width)
    const seconds = (Date.now() - this.started) / 1000
    const rate = seconds > 0 ? Math.round(this.done / seconds) : 0
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} (${rate}/s)`
  }
}
