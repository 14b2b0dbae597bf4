import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_NODE_NUMBER, nodeIdRange } from '@postern/store'
import { tempDir } from '@postern/testkit'
import {
  MAX_SMTP_PROCESSES,
  PROCESS_SLOTS,
  processIdRange,
  resolveSmtpProcesses,
  slotOfId,
  spoolDirOf,
  spoolSlots,
} from './numbering.js'

const dir = tempDir('postern-numbering-')
afterAll(() => dir.remove())

describe('the ids of the processes of gateway nodes', () => {
  it('gives every slot of every node a range of its own, inside its node range', () => {
    const ranges = [0, 1, 7, MAX_NODE_NUMBER].flatMap((node) =>
      Array.from({ length: PROCESS_SLOTS }, (_, slot) => ({
        node,
        range: processIdRange(node, slot),
      })),
    )
    for (const { node, range } of ranges) {
      expect(range.from).toBeGreaterThanOrEqual(nodeIdRange(node).from)
      expect(range.below).toBeLessThanOrEqual(nodeIdRange(node).below)
      expect(Number.isSafeInteger(range.below - 1)).toBe(true)
    }
    const sorted = ranges.map((r) => r.range).sort((a, b) => a.from - b.from)
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]?.from).toBeGreaterThanOrEqual(sorted[i - 1]?.below as number)
    }
  })

  it('tells the slot of an id, and nothing for another node’s or a hostile one', () => {
    const range = processIdRange(3, 5)
    expect(slotOfId(3, range.from)).toBe(5)
    expect(slotOfId(3, range.below - 1)).toBe(5)
    expect(slotOfId(3, range.below)).toBe(6)
    expect(slotOfId(2, range.from)).toBeUndefined()
    expect(slotOfId(3, Number.NaN)).toBeUndefined()
    expect(slotOfId(3, -1)).toBeUndefined()
    expect(slotOfId(3, 2 ** 60)).toBeUndefined()
  })

  it('keeps a one-process gateway on slot 0: the ids it always used', () => {
    expect(processIdRange(0, 0).from).toBe(0)
    expect(processIdRange(4, 0).from).toBe(nodeIdRange(4).from)
  })
})

describe('spools and counts of SMTP processes', () => {
  it('puts slot 0 in dataDir/spool and slot N in dataDir/spool-N', () => {
    expect(spoolDirOf('/d', 0)).toBe('/d/spool')
    expect(spoolDirOf('/d', 3)).toBe('/d/spool-3')
  })

  it('finds the spools of SMTP processes, ignoring anything else', () => {
    for (const name of ['spool', 'spool-2', 'spool-10', 'spool-x', 'spool-0', 'spool-99', 'tls']) {
      mkdirSync(join(dir.path, name))
    }
    expect(spoolSlots(dir.path)).toEqual([2, 10])
    expect(spoolSlots(join(dir.path, 'missing'))).toEqual([])
  })

  it('resolves auto to one process per CPU, within the slots', () => {
    expect(resolveSmtpProcesses(4)).toBe(4)
    const auto = resolveSmtpProcesses('auto')
    expect(auto).toBeGreaterThanOrEqual(1)
    expect(auto).toBeLessThanOrEqual(MAX_SMTP_PROCESSES)
  })
})
