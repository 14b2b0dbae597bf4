import { describe, expect, it } from 'vitest'
import type { RunMeasurement } from './measure.js'
import { benchRows, type RowId } from './rows.js'
import {
  compare,
  evaluateTargets,
  summarizeRow,
  type IdleResult,
  type RowSummary,
} from './summary.js'

const MiB = 1024 * 1024

function run(endToEnd: number, extra: Partial<RunMeasurement> = {}): RunMeasurement {
  return {
    acceptedPerSec: endToEnd * 1.1,
    endToEndPerSec: endToEnd,
    acceptedSeconds: 20_000 / (endToEnd * 1.1),
    endToEndSeconds: 20_000 / endToEnd,
    cpuMsPerMessage: 2,
    peakRss: 100 * MiB,
    peakPss: 80 * MiB,
    extraDeliveries: 0,
    ...extra,
  }
}

function row(id: RowId) {
  const found = benchRows().find((r) => r.id === id)
  if (!found) throw new Error(id)
  return found
}

function measured(id: RowId, endToEnd: number[]): RowSummary {
  return summarizeRow(
    row(id),
    id,
    endToEnd.map((e) => run(e)),
  )
}

describe('summarizeRow', () => {
  it('takes medians over the runs and the highest memory peak', () => {
    const summary = summarizeRow(row('postfix'), 'Postfix 3.7.11', [
      run(700, { cpuMsPerMessage: 2.3, peakPss: 90 * MiB }),
      run(650, { cpuMsPerMessage: 2.5, peakPss: 95 * MiB }),
      run(720, { cpuMsPerMessage: 2.1, peakPss: 91 * MiB }),
    ])
    expect(summary).toMatchObject({
      status: 'measured',
      endToEndPerSec: 700,
      endToEndMin: 650,
      endToEndMax: 720,
      cpuMsPerMessage: 2.3,
      peakPss: 95 * MiB,
      extraDeliveries: 0,
    })
    expect(summary.acceptedPerSec).toBeCloseTo(770, 6)
  })

  it('leaves CPU out for the ceiling row and reports a row that never ran', () => {
    const sink = summarizeRow(row('sink'), 'smtp-sink alone', [
      run(11_000, { cpuMsPerMessage: undefined, peakRss: undefined, peakPss: undefined }),
    ])
    expect(sink.cpuMsPerMessage).toBeUndefined()
    expect(sink.peakPss).toBeUndefined()

    const postern = summarizeRow(row('postern'), 'Postern', [], {
      status: 'not available',
      reason: 'not merged yet',
    })
    expect(postern).toMatchObject({ status: 'not available', reason: 'not merged yet' })
    expect(postern.endToEndPerSec).toBeUndefined()
  })

  it('keeps the figures of a row that failed after some runs, with the reason', () => {
    const summary = summarizeRow(row('haraka'), 'Haraka', [run(400)], {
      status: 'failed',
      reason: 'smtp-sink stopped at 19 000',
    })
    expect(summary).toMatchObject({
      status: 'failed',
      endToEndPerSec: 400,
      reason: expect.any(String),
    })
  })

  it('adds up duplicate deliveries', () => {
    const summary = summarizeRow(row('postern'), 'Postern', [
      run(1500, { extraDeliveries: 2 }),
      run(1500, { extraDeliveries: 1 }),
    ])
    expect(summary.extraDeliveries).toBe(3)
  })
})

describe('compare and evaluateTargets', () => {
  const summaries = [
    measured('sink', [11_000]),
    measured('postfix', [700]),
    measured('haraka', [400]),
    measured('haraka-nodelay', [700]),
    measured('postern', [1500]),
    measured('postern-pipeline', [650]),
    summarizeRow(row('postern-scanners'), 'scanners', [], { status: 'not available', reason: 'x' }),
  ]

  it('compares every measured Postern row with every measured peer', () => {
    const comparisons = compare(summaries)
    expect(comparisons.map((c) => `${c.postern}/${c.peer}`)).toEqual([
      'postern/postfix',
      'postern/haraka',
      'postern/haraka-nodelay',
      'postern-pipeline/postfix',
      'postern-pipeline/haraka',
      'postern-pipeline/haraka-nodelay',
    ])
    expect(comparisons[0]?.endToEnd).toBeCloseTo(1500 / 700, 10)
    expect(comparisons[1]?.endToEnd).toBeCloseTo(3.75, 10)
    expect(comparisons[0]?.accepted).toBeCloseTo(1500 / 700, 10)
  })

  it('judges the targets of issues 2 and 3', () => {
    const idle: IdleResult[] = [
      {
        id: 'postern',
        label: 'Postern',
        requested: 1000,
        established: 1000,
        failures: {},
        baselineRss: 90 * MiB,
        rss: 140 * MiB,
      },
    ]
    const targets = evaluateTargets(summaries, compare(summaries), idle)
    expect(targets.map((t) => [t.measured, t.met])).toEqual([
      ['2.14×', true],
      ['0.93×', false],
      ['140.0 MiB at 1 000', true],
    ])
  })

  it('does not judge what was not measured, or measured on fewer sessions than the target', () => {
    const idle: IdleResult[] = [
      {
        id: 'postern',
        label: 'Postern',
        requested: 100,
        established: 100,
        failures: {},
        baselineRss: 90 * MiB,
        rss: 95 * MiB,
      },
    ]
    const targets = evaluateTargets([measured('postfix', [700])], [], idle)
    expect(targets.map((t) => t.met)).toEqual([undefined, undefined, undefined])
    expect(targets[2]?.measured).toBe('95.0 MiB at 100')
  })

  it('flags duplicate deliveries as a failed check', () => {
    const dup = summarizeRow(row('postern'), 'Postern', [run(1500, { extraDeliveries: 4 })])
    const targets = evaluateTargets([dup], [], [])
    expect(targets.at(-1)).toMatchObject({ source: 'correctness', measured: '4 extra', met: false })
  })
})
