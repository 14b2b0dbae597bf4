import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { oncePerTurn, singleFlight } from './coalesce.js'

describe('oncePerTurn', () => {
  it('runs once for every call made in one turn, and again in a later turn', async () => {
    let runs = 0
    const notice = oncePerTurn(() => runs++)
    for (let i = 0; i < 50; i++) notice()
    expect(runs).toBe(0)
    await nextTurn()
    expect(runs).toBe(1)
    notice()
    await nextTurn()
    expect(runs).toBe(2)
  })
})

describe('singleFlight', () => {
  /** A task whose runs finish when the test says so. */
  const gatedTask = () => {
    const gates: (() => void)[] = []
    let runs = 0
    const task = singleFlight(async () => {
      runs++
      await new Promise<void>((resolve) => gates.push(resolve))
    })
    return { task, runs: () => runs, finishNext: () => gates.shift()?.() }
  }

  it.each([1, 2, 50])('%i calls during a run cost one more run after it', async (calls) => {
    const { task, runs, finishNext } = gatedTask()
    const first = task()
    const later = Array.from({ length: calls }, () => task())
    expect(runs()).toBe(1)
    finishNext()
    await first
    await nextTurn()
    expect(runs()).toBe(2)
    finishNext()
    await Promise.all(later)
    expect(runs()).toBe(2)
  })

  it('runs again when called after a run failed', async () => {
    let runs = 0
    const task = singleFlight(async () => {
      runs++
      if (runs === 1) throw new Error('database unavailable')
    })
    const first = task()
    const queued = task()
    await expect(first).rejects.toThrow('database unavailable')
    await queued
    expect(runs).toBe(2)
    await task()
    expect(runs).toBe(3)
  })
})
