import { describe, expect, it } from 'vitest'
import { overdue, type WatchedSession, type WatchdogLimits } from './session-watchdog.js'

const limits: WatchdogLimits = {
  commandTimeoutMs: 10_000,
  dataRateFloor: 100,
  dataRateGraceMs: 5_000,
}
const idle = (lastCommandAt: number): WatchedSession => ({
  lastCommandAt,
  data: undefined,
  waitingForServer: false,
})
const sending = (startedAt: number, bytes: number): WatchedSession => ({
  lastCommandAt: 0,
  data: { startedAt, bytes },
  waitingForServer: false,
})

describe('session watchdog deadlines', () => {
  it.each([
    ['a command still within its time', idle(1_000), 10_999, undefined],
    ['a command past its time (slowloris trickling bytes)', idle(1_000), 11_000, 'COMMAND_TIMEOUT'],
    [
      'a waiting client is never timed out by us',
      { ...idle(0), waitingForServer: true },
      1e9,
      undefined,
    ],
    ['data within the grace period, however slow', sending(0, 0), 4_999, undefined],
    ['data at the floor after the grace period', sending(0, 500), 5_000, undefined],
    ['data below the floor after the grace period', sending(0, 499), 5_000, 'DATA_TOO_SLOW'],
    ['data phase has no command deadline', sending(0, 1e9), 1e6, undefined],
    ['the floor can be turned off', sending(0, 0), 1e6, undefined, { ...limits, dataRateFloor: 0 }],
  ] as const)('%s', (_name, session, now, expected, custom?: WatchdogLimits) => {
    expect(overdue(session, now, custom ?? limits)).toBe(expected)
  })
})
