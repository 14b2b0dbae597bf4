import type { MalformedReason } from './types.js'

/**
 * Thrown inside the analysis when a message goes over one of its caps. It never leaves the
 * analysis: `analyseMessage` turns it into a `malformed` verdict.
 */
export class CapExceeded extends Error {
  constructor(
    readonly reason: MalformedReason,
    detail: string,
  ) {
    super(detail)
    this.name = 'CapExceeded'
  }
}

/** Decoded bytes a message may still produce (transfer decoding, nested messages, archives). */
export class DecodedBudget {
  private used = 0

  constructor(private readonly limit: number) {}

  charge(bytes: number): void {
    this.used += bytes
    if (this.used > this.limit) {
      throw new CapExceeded(
        'decoded-size',
        `decoded content exceeds ${this.limit} bytes (limit pipeline.limits.maxDecodedBytes)`,
      )
    }
  }

  isExceeded(err: unknown): boolean {
    return err instanceof CapExceeded
  }
}

/** A wall-clock deadline checked between steps (the worker pool also enforces it from outside). */
export class Deadline {
  private readonly at: number

  constructor(private readonly budgetMs: number) {
    this.at = Date.now() + budgetMs
  }

  check(): void {
    if (Date.now() > this.at) {
      throw new CapExceeded(
        'time',
        `parsing took longer than ${this.budgetMs} ms (limit pipeline.limits.maxParseMs)`,
      )
    }
  }
}
