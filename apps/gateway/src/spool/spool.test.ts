import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, silentLogger } from '@postern/core'
import { tempDir } from '@postern/testkit'
import { Spool, type SpoolOptions } from './spool.js'
import type { MessageMeta, SpoolEntry } from './types.js'

const dirs: { remove(): void }[] = []
const spools: Spool[] = []

afterEach(async () => {
  for (const s of spools.splice(0)) await s.close()
  for (const d of dirs.splice(0)) d.remove()
})

function setup(overrides: Partial<SpoolOptions> = {}) {
  const dir = tempDir('postern-spool-')
  dirs.push(dir)
  const clock = new ManualClock(1_000_000)
  const commits: number[] = []
  const options: SpoolOptions = {
    dir: join(dir.path, 'spool'),
    segmentSize: 64 * 1024 * 1024,
    inlineMaxSize: 64 * 1024,
    maxBatchBytes: 16 * 1024 * 1024,
    compactAfterMs: 60_000,
    minFreeBytes: 0,
    freeSpaceRefreshMs: 1_000,
    clock,
    ...overrides,
  }
  const open = async () => {
    const spool = await Spool.open(options, silentLogger(), {
      onCommit: (_s, records) => commits.push(records),
    })
    spools.push(spool)
    return spool
  }
  /** Abandons a spool without closing it, as kill -9 would. */
  const crash = (spool: Spool) => {
    spools.splice(spools.indexOf(spool), 1)
  }
  return { options, open, crash, commits, clock }
}

function meta(mid: number, size: number): MessageMeta {
  return {
    mid,
    icid: mid,
    receivedAt: 1_000,
    direction: 'incoming',
    origin: 'smtp',
    envelope: {
      mailFrom: 'a@sender.example',
      recipients: ['b@corp.example', 'c@corp.example'],
      bodyType: '8bitmime',
      smtpUtf8: false,
    },
    client: {
      ip: '192.0.2.1',
      port: 5000,
      rdns: null,
      helo: 'x',
      listener: 'in',
      senderGroup: 'ALL',
      hatPolicy: 'ACCEPTED',
      tls: null,
      authUser: null,
    },
    headers: {
      messageId: null,
      subject: `m${mid}`,
      from: null,
      to: null,
      replyTo: null,
      date: null,
    },
    size,
    receivedHeader: 'Received: by test\r\n',
  }
}

function body(mid: number, size = 5000): Buffer {
  const line = `message ${mid} `.padEnd(78, 'x') + '\r\n'
  return Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size))
}

async function store(spool: Spool, mid: number, size = 5000): Promise<SpoolEntry> {
  const sink = spool.createBodySink(mid)
  const bytes = body(mid, size)
  for (let i = 0; i < bytes.length; i += 16_384) await sink.write(bytes.subarray(i, i + 16_384))
  return spool.storeMessage(meta(mid, size), await sink.finish())
}

describe('Spool', () => {
  it('shares one fsync between concurrent sessions (group commit)', async () => {
    const { open, commits } = setup()
    const spool = await open()
    const entries = await Promise.all(
      Array.from({ length: 50 }, () => store(spool, spool.allocateMid())),
    )
    expect(entries).toHaveLength(50)
    expect(commits.reduce((a, b) => a + b, 0)).toBe(50)
    expect(commits.length).toBeLessThan(50)
    expect((await spool.readBody(entries[7] as SpoolEntry)).equals(body(8))).toBe(true)
  })

  it('recovers every unfinished message with its state after a crash', async () => {
    const { open, crash } = setup()
    const first = await open()
    const entries: SpoolEntry[] = []
    for (let i = 0; i < 6; i++) entries.push(await store(first, first.allocateMid()))
    const [e1, e2, e3, e4] = entries as [SpoolEntry, SpoolEntry, SpoolEntry, SpoolEntry]
    await first.markDone(e1)
    await first.storeProcessed(
      e2,
      [
        { action: 'deliver', variant: 0 },
        { action: 'drop', reason: 'policy' },
      ],
      [Buffer.from('Subject: [TAGGED]\r\n\r\nhi\r\n')],
    )
    await first.markTargetsDone(e3, [1])
    await first.setHeld(e4, true)
    crash(first)

    const second = await open()
    const recovered = second.entries()
    expect(recovered.map((e) => e.meta.mid)).toEqual([2, 3, 4, 5, 6])
    const r2 = second.entry(2) as SpoolEntry
    expect(r2.processed?.outcomes[1]).toEqual({ action: 'drop', reason: 'policy' })
    expect((await second.readBody(r2, 0)).toString()).toContain('[TAGGED]')
    expect([...(second.entry(3) as SpoolEntry).doneTargets]).toEqual([1])
    expect(second.entry(4)?.held).toBe(true)
    expect((await second.readBody(second.entry(6) as SpoolEntry)).equals(body(6))).toBe(true)
    expect(second.allocateMid()).toBe(7)
  })

  it('ignores a torn record at the end and resynchronises after a damaged one', async () => {
    const { open, crash, options } = setup()
    const first = await open()
    for (let i = 0; i < 3; i++) await store(first, first.allocateMid())
    crash(first)
    const segments = join(options.dir, 'segments')
    const [name] = readdirSync(segments)
    const path = join(segments, name as string)
    // Damage a byte inside the body of the second message.
    const data = readFileSync(path)
    const at = data.indexOf(Buffer.from('message 2 '))
    data[at] = 0x00
    writeFileSync(path, data)
    appendFileSync(path, Buffer.from([0x50, 0x53, 0x52, 0x31, 0, 0, 0x10]))

    const second = await open()
    expect(second.entries().map((e) => e.meta.mid)).toEqual([1, 3])
  })

  it('streams large messages to their own file and deletes it when done', async () => {
    const { open, crash, options } = setup({ inlineMaxSize: 10_000 })
    const first = await open()
    const entry = await store(first, first.allocateMid(), 200_000)
    expect(entry.body.kind).toBe('file')
    crash(first)
    const second = await open()
    const recovered = second.entry(1) as SpoolEntry
    expect((await second.readBody(recovered)).equals(body(1, 200_000))).toBe(true)
    const chunks: Buffer[] = []
    for await (const c of second.openBody(recovered)) chunks.push(c as Buffer)
    expect(Buffer.concat(chunks).length).toBe(200_000)
    await second.markDone(recovered)
    expect(readdirSync(join(options.dir, 'large'))).toEqual([])
  })

  it('deletes finished segments oldest first and compacts long-lived messages', async () => {
    const { open, clock, options } = setup({ segmentSize: 20_000, compactAfterMs: 1_000 })
    const spool = await open()
    const entries: SpoolEntry[] = []
    for (let i = 0; i < 12; i++) entries.push(await store(spool, spool.allocateMid()))
    const segments = join(options.dir, 'segments')
    const before = readdirSync(segments).length
    expect(before).toBeGreaterThan(3)
    // Everything but the first message finishes: only it pins the oldest segment.
    for (const e of entries.slice(1)) await spool.markDone(e)
    expect(readdirSync(segments).length).toBe(before)
    clock.advance(2_000)
    expect(await spool.compactOnce()).toBe(1)
    expect(readdirSync(segments).length).toBe(1)
    expect((await spool.readBody(entries[0] as SpoolEntry)).equals(body(1))).toBe(true)
  })

  it('refuses a spool held by another live process and takes over a stale lock', async () => {
    const { open, options, crash } = setup()
    const first = await open()
    crash(first)
    const sleeper = spawn('sleep', ['30'])
    try {
      writeFileSync(join(options.dir, 'LOCK'), `${sleeper.pid}\n`)
      await expect(open()).rejects.toMatchObject({ code: 'GW_ERR_SPOOL_LOCKED' })
    } finally {
      sleeper.kill('SIGKILL')
      await new Promise((r) => sleeper.once('exit', r))
    }
    const second = await open()
    expect(existsSync(join(options.dir, 'LOCK'))).toBe(true)
    expect(second.entries()).toEqual([])
  })
})
