import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import {
  descendantsOf,
  parseProcStat,
  parseSmapsRollup,
  readProcStat,
  sampleProcessTree,
  systemConstants,
} from './proc.js'

// A real line from /proc/PID/stat of a Postfix master (fields 1–52 of proc(5)).
const masterStat =
  '2264 (master) S 2173 2264 2264 0 -1 4194624 2611 31826 0 2 3 7 1480 393 20 0 1 0 8763 ' +
  '42938368 1199 18446744073709551615 1 1 0 0 0 0 0 4096 82435 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0'

describe('parseProcStat', () => {
  it('reads the fields the bench uses', () => {
    expect(parseProcStat(masterStat)).toEqual({
      pid: 2264,
      comm: 'master',
      state: 'S',
      ppid: 2173,
      utime: 3,
      stime: 7,
      cutime: 1480,
      cstime: 393,
      numThreads: 1,
      rssPages: 1199,
    })
  })

  it.each(['(sd-pam) x', 'a) (b', 'tricky name ) 1 2'])(
    'keeps a command name with spaces and parentheses: %s',
    (comm) => {
      const line = masterStat.replace('(master)', `(${comm})`)
      const stat = parseProcStat(line)
      expect(stat.comm).toBe(comm)
      expect(stat.ppid).toBe(2173)
      expect(stat.rssPages).toBe(1199)
    },
  )

  it.each(['', 'garbage', '12 (short) S 1'])('rejects a malformed line: %j', (line) => {
    expect(() => parseProcStat(line)).toThrow()
  })
})

describe('parseSmapsRollup', () => {
  it('reads Rss and Pss in bytes', () => {
    const text = [
      '55d0c0a00000-7ffd3b9f6000 ---p 00000000 00:00 0                          [rollup]',
      'Rss:               48532 kB',
      'Pss:               41234 kB',
      'Pss_Anon:          30000 kB',
      'Shared_Clean:       7000 kB',
    ].join('\n')
    expect(parseSmapsRollup(text)).toEqual({ rss: 48532 * 1024, pss: 41234 * 1024 })
  })

  it('leaves Pss undefined on kernels without it and refuses text without Rss', () => {
    expect(parseSmapsRollup('Rss: 10 kB\n')).toEqual({ rss: 10240, pss: undefined })
    expect(() => parseSmapsRollup('Size: 10 kB\n')).toThrow()
  })
})

describe('descendantsOf', () => {
  it('walks the tree breadth first and ignores other trees', () => {
    const parentOf = new Map([
      [1, 0],
      [10, 1],
      [11, 10],
      [12, 10],
      [13, 11],
      [20, 1],
      [21, 20],
    ])
    expect(descendantsOf(10, parentOf)).toEqual([10, 11, 12, 13])
    expect(descendantsOf(21, parentOf)).toEqual([21])
  })

  it('survives a cycle in a stale snapshot', () => {
    const parentOf = new Map([
      [5, 6],
      [6, 5],
    ])
    expect(descendantsOf(5, parentOf)).toEqual([5, 6])
  })
})

describe('sampleProcessTree', () => {
  it('finds the children of a real process and measures their CPU', async () => {
    // A shell whose child burns CPU for a moment and exits, then a sleeping child stays.
    const shell = spawn(
      'sh',
      ['-c', 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done & wait; sleep 30 & wait'],
      { stdio: 'ignore' },
    )
    try {
      const pid = shell.pid as number
      const before = sampleProcessTree(pid)
      let after = before
      for (let i = 0; i < 600 && !after.pids.some((p) => p !== pid && isSleep(p)); i++) {
        await new Promise((r) => setTimeout(r, 50))
        after = sampleProcessTree(pid)
      }
      expect(after.pids[0]).toBe(pid)
      expect(after.pids.length).toBeGreaterThanOrEqual(2)
      // The busy child has been reaped by the shell: its time is in the shell's cutime.
      expect(after.cpuMs - before.cpuMs).toBeGreaterThan(0)
      expect(after.rss).toBeGreaterThan(0)
      expect(systemConstants().clockTicks).toBeGreaterThan(0)
    } finally {
      shell.kill('SIGKILL')
      await new Promise((r) => shell.once('exit', r))
    }
  })

  it('fails clearly for a process that is gone', () => {
    expect(() => sampleProcessTree(2 ** 22 + 7)).toThrow(/not running/)
  })
})

function isSleep(pid: number): boolean {
  return readProcStat(pid)?.comm === 'sleep'
}
