import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@postern/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { CounterFile, lastMatch } from './counter-file.js'

const SINK = /sess=\d+ quit=\d+ mesg=(\d+)\r/g
const SOURCE = /(\d+)\r/g
const dir = tempDir('bench-counter-')
afterAll(() => dir.remove())

describe('lastMatch', () => {
  it.each([
    { text: '', pattern: SINK, expected: 0 },
    { text: 'sess=0 quit=0 mesg=1\rsess=1 quit=1 mesg=2\r', pattern: SINK, expected: 2 },
    // A record still being written is not counted.
    { text: 'sess=1 quit=1 mesg=2\rsess=1 quit=1 mesg=3', pattern: SINK, expected: 2 },
    { text: '1\r2\r3\r', pattern: SOURCE, expected: 3 },
    { text: '19999\r20000\rsmtp-source: fatal: x', pattern: SOURCE, expected: 20000 },
  ])('$text → $expected', ({ text, pattern, expected }) => {
    expect(lastMatch(text, pattern)).toBe(expected)
  })
})

describe('CounterFile', () => {
  it('follows a growing file and reads 0 before it exists', () => {
    const path = join(dir.path, 'sink.out')
    const counter = new CounterFile(path, SINK)
    expect(counter.read()).toBe(0)
    writeFileSync(path, '')
    expect(counter.read()).toBe(0)
    let text = ''
    for (let i = 1; i <= 5000; i++) text += `sess=${i} quit=${i} mesg=${i}\r`
    appendFileSync(path, text)
    expect(counter.read()).toBe(5000)
    appendFileSync(path, 'sess=5001 quit=5001 mesg=5001\r')
    expect(counter.read()).toBe(5001)
    counter.close()
  })

  it('insists on a global pattern', () => {
    expect(() => new CounterFile('x', /(\d+)/)).toThrow(/global/)
  })
})
