import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir, waitFor } from '@postern/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { readProcStat } from './proc.js'
import { runCommand, startService, stopAllServices, tailOfFile, tcpAccepts } from './services.js'

const dir = tempDir('bench-services-')
afterEach(async () => {
  await stopAllServices()
})
afterAll(() => dir.remove())

describe('startService', () => {
  it('waits for readiness and stops the whole tree, children included', async () => {
    const marker = join(dir.path, 'ready')
    const service = await startService({
      name: 'tree',
      command: 'sh',
      args: ['-c', `sleep 60 & sleep 60 & echo started; touch ${marker}; wait`],
      logFile: join(dir.path, 'tree.log'),
      ready: () => tailOfFile(join(dir.path, 'tree.log'), 100).includes('started'),
    })
    const children = (await runCommand('pgrep', ['-P', String(service.pid)])).stdout
      .trim()
      .split('\n')
      .map(Number)
    expect(children).toHaveLength(2)
    await service.stop(2000)
    expect(service.running()).toBe(false)
    // A killed child can still be running for a moment before the kernel marks it a zombie.
    for (const pid of children) {
      const state = await waitFor(
        () => {
          const current = readProcStat(pid)?.state ?? 'gone'
          return /gone|Z/.test(current) ? current : false
        },
        { timeoutMs: 10_000, what: `child ${pid} to end` },
      )
      expect(state).toMatch(/gone|Z/)
    }
  })

  it('runs the graceful stop first', async () => {
    const flag = join(dir.path, 'graceful')
    const service = await startService({
      name: 'graceful',
      command: 'sleep',
      args: ['60'],
      logFile: join(dir.path, 'graceful.log'),
      gracefulStop: async () => {
        writeFileSync(flag, 'yes')
        process.kill(service.pid, 'SIGTERM')
      },
    })
    await service.stop(2000)
    expect(tailOfFile(flag, 10)).toBe('yes')
    expect((await service.exited).signal).toBe('SIGTERM')
  })

  it('reports the log of a program that exits before it is ready', async () => {
    await expect(
      startService({
        name: 'broken',
        command: 'sh',
        args: ['-c', 'echo "config error: no such key"; exit 78'],
        logFile: join(dir.path, 'broken.log'),
        ready: () => tcpAccepts(1),
      }),
    ).rejects.toThrow(/broken exited \(exit code 78\)[\s\S]*config error: no such key/)
  })

  it('reports a program that dies while it is the only thing running (no exit code 13)', async () => {
    // In a process of its own: in this test runner other handles keep the event loop alive.
    const script = join(dir.path, 'lonely.mts')
    writeFileSync(
      script,
      [
        `import { startService } from ${JSON.stringify(new URL('./services.ts', import.meta.url).pathname)}`,
        'try {',
        `  await startService({ name: 'lonely', command: 'sh', args: ['-c', 'sleep 0.2; exit 78'], logFile: ${JSON.stringify(join(dir.path, 'lonely.log'))}, ready: async () => false })`,
        '} catch (err) {',
        '  console.log(`reported: ${(err as Error).message.split("\\n")[0]}`)',
        '}',
      ].join('\n'),
    )
    const result = await runCommand(process.execPath, ['--import', 'tsx', script], {
      cwd: new URL('../..', import.meta.url).pathname,
    })
    expect(result.stdout.trim()).toBe(
      'reported: lonely exited (exit code 78) before it was ready. Log ' +
        join(dir.path, 'lonely.log') +
        ':',
    )
    expect(result.code).toBe(0)
  })

  it('reports a program that cannot be run', async () => {
    await expect(
      startService({
        name: 'missing',
        command: join(dir.path, 'no-such-program'),
        args: [],
        logFile: join(dir.path, 'missing.log'),
      }),
    ).rejects.toThrow(/missing: cannot run/)
  })
})

describe('runCommand', () => {
  it('returns output and exit codes without throwing', async () => {
    expect(await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({
      code: 3,
      stdout: 'out\n',
      stderr: 'err\n',
    })
    expect((await runCommand(join(dir.path, 'nope'), [])).code).toBe(127)
  })
})

describe('tailOfFile', () => {
  it('cuts at a line start and tolerates a missing file', () => {
    const path = join(dir.path, 'tail.txt')
    writeFileSync(path, 'first line\nsecond line\nthird\n')
    expect(tailOfFile(path, 15)).toBe('third\n')
    expect(tailOfFile(path, 1000)).toBe('first line\nsecond line\nthird\n')
    expect(tailOfFile(join(dir.path, 'absent'), 10)).toBe('')
  })
})
