import { z } from 'zod'

/**
 * Value types shared by every part of the gateway's configuration: durations (`30s`, `5m`,
 * `4h`, `5d` or milliseconds) and byte sizes (`512KB`, `10MB` or bytes).
 */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
}

/** `250ms`, `30s`, `5m`, `4h`, `5d`, or a number of milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim())
  if (!match) return Number.NaN
  return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] as string] as number))
}

/** A duration in the config (`30s`, `5m`, `4h`, `5d`, or milliseconds), parsed to milliseconds. */
export function duration(description: string) {
  return z
    .union([z.number().int().nonnegative(), z.string()])
    .transform((value, ctx) => {
      const ms = parseDuration(value)
      if (!Number.isFinite(ms) || ms < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is not a duration: write e.g. 500ms, 30s, 5m, 4h, 5d`,
        })
        return z.NEVER
      }
      return ms
    })
    .meta({ description, 'x-format': 'duration' })
}

/** A byte size (`10MB`, `512KB`, `1GB` with 1024 multiples, or a number of bytes). */
export function byteSize(description: string) {
  return z
    .union([z.number().int().positive(), z.string()])
    .transform((value, ctx) => {
      if (typeof value === 'number') return value
      const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)$/i.exec(value.trim())
      if (!match) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is not a size: write e.g. 512KB, 10MB or a number of bytes`,
        })
        return z.NEVER
      }
      const unit = (match[2] as string).toUpperCase()
      const factor =
        unit === 'GB' ? 1024 ** 3 : unit === 'MB' ? 1024 ** 2 : unit === 'KB' ? 1024 : 1
      return Math.round(Number(match[1]) * factor)
    })
    .meta({ description, 'x-format': 'size' })
}
