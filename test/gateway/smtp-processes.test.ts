import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { BACKENDS, createTestDatabase } from '@postern/store/testing'
import { tempDir, waitFor } from '@postern/testkit'
import { processIdRange, slotOfId } from '@postern/gateway'
import { metricValue } from '../faults/support/gateway-process.js'
import { RawSmtp, sendWithNodemailer } from './support/clients.js'
import { startTestServer, type TestServer } from './support/downstream.js'
import { writeConfigFile } from './support/gateway.js'
import {
  processAlive,
  startMultiProcessGateway,
  waitForSmtpProcesses,
  type MultiProcessGateway,
} from './support/multi-process.js'

const run = promisify(execFile)
const POSTERN = new URL('../../bin/postern.js', import.meta.url).pathname
const PROCESSES = 2
/** An external sender an incoming policy blocks as soon as one of its messages arrives. */
const COMPROMISED = 'mallory@compromised.example'

interface QueueList {
  total: number
  items: { mid: number; state: string }[]
}

/**
 * `smtpProcesses: 2`, run as users run it (`postern gateway --config`): a primary with the
 * API and two SMTP processes sharing the listener, each with its own spool and MID slot.
 * Deferred messages (the downstream answers 451 for one recipient) stay in the SMTP
 * processes' queues, so the API and the CLI must reach the process that owns each MID; the
 * quarantine, block lists, metrics and health of the primary must cover every process.
 */
describe.each(BACKENDS)('a gateway with two SMTP processes (%s)', (dialect) => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })

  const setUp = async (nodeNumber: number, policies?: Record<string, unknown>) => {
    const downstream = await startTestServer({
      rcpt: (recipient) =>
        recipient === 'defer@corp.example'
          ? { code: 451, message: '4.3.0 try again later' }
          : undefined,
    })
    cleanup.push(() => downstream.close())
    const dir = tempDir('postern-procs-')
    cleanup.push(() => dir.remove())
    let database = 'sqlite'
    if (dialect === 'postgres') {
      const db = await createTestDatabase('postgres')
      cleanup.push(() => db.drop())
      database = db.configValue
    }
    const dataDir = join(dir.path, 'data')
    const configFile = join(dir.path, 'gateway.yaml')
    const writeConfig = (smtpProcesses: number) =>
      writeConfigFile(configFile, {
        dataDir,
        database,
        nodeNumber,
        smtpProcesses,
        hostname: 'gw.test',
        http: '127.0.0.1:0',
        log: { level: 'warn' },
        rdns: { forTracking: false },
        api: { publicMetrics: true },
        tracking: { flushInterval: '20ms' },
        listeners: [
          {
            name: 'inbound',
            smtp: '127.0.0.1:0',
            rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
          },
        ],
        smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${downstream.port}`] }],
        // Deferred messages wait an hour: they stay in their process's queue for the test.
        queue: { retry: { initialDelay: '1h', maxDelay: '1h' } },
        pipeline: {
          workers: 1,
          // Only the primary's broadcast can make a new entry apply before an hour.
          blocklists: { refreshInterval: '1h' },
          authentication: { dns: { servers: ['127.0.0.1:9'], timeout: '200ms', tries: 1 } },
          ...(policies ? { policies } : {}),
        },
      })
    const start = async (processes: number) => {
      writeConfig(processes)
      const gateway = await startMultiProcessGateway(configFile, dataDir, processes)
      cleanup.push(() => gateway.proc.kill9())
      return gateway
    }
    const gateway = await start(PROCESSES)
    return { downstream, gateway, configFile, dataDir, start }
  }

  const sendDeferred = (gateway: MultiProcessGateway, i: number) =>
    sendWithNodemailer({
      port: gateway.smtpPort,
      from: 'sender@ext.example',
      to: 'defer@corp.example',
      subject: `defer ${i}`,
    })

  const deferredQueue = async (gateway: MultiProcessGateway, count: number) =>
    waitFor(
      async () => {
        const { json } = await gateway.api('GET', '/api/v1/queue?state=deferred')
        const list = json as QueueList
        return list.total === count ? list : undefined
      },
      { timeoutMs: 60_000, what: `${count} deferred messages` },
    )

  it('accepts on every process, routes queue operations by MID, restarts a killed process', async () => {
    const nodeNumber = 3
    const { downstream, gateway, configFile } = await setUp(nodeNumber)
    const pids = await waitForSmtpProcesses(gateway, PROCESSES)
    expect(new Set(pids.values()).size).toBe(PROCESSES)
    expect([...pids.values()]).not.toContain(gateway.proc.child.pid)

    // Real SMTP, one message per connection: every 250 arrives downstream.
    const sent = 12
    for (let i = 0; i < sent; i++) {
      const reply = await sendWithNodemailer({
        port: gateway.smtpPort,
        from: 'sender@ext.example',
        to: 'ok@corp.example',
        subject: `ok ${i}`,
      })
      expect(reply).toMatch(/^250/)
    }
    const deferred = 4
    for (let i = 0; i < deferred; i++) await sendDeferred(gateway, i)
    await waitFor(() => received(downstream, 'ok@corp.example') === sent, {
      timeoutMs: 60_000,
      what: `${sent} messages downstream`,
    })

    // /metrics adds up every process's counters.
    const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text()
    expect(metricValue(metrics, 'postern_smtp_messages_accepted_total')).toBe(sent + deferred)

    // Every MID was numbered by an SMTP process, in its slot of this node's range.
    const queue = await deferredQueue(gateway, deferred)
    for (const item of queue.items) {
      const slot = slotOfId(nodeNumber, item.mid)
      expect(slot).toBeGreaterThanOrEqual(1)
      expect(slot).toBeLessThanOrEqual(PROCESSES)
      expect(item.mid).toBeGreaterThanOrEqual(processIdRange(nodeNumber, slot as number).from)
    }
    const [held, released, deleted, bounced] = queue.items.map((item) => item.mid) as [
      number,
      number,
      number,
      number,
    ]

    // The CLI (through the primary's API) reaches the owner of each message.
    const cli = (...args: string[]) =>
      run(process.execPath, [POSTERN, 'gateway', 'queue', ...args, '--config', configFile])
    await cli('hold', String(held))
    await cli('hold', String(released))
    await cli('release', String(released))
    const view = async (mid: number) =>
      (await gateway.api('GET', `/api/v1/queue/${mid}`)).json as { state: string }
    expect((await view(held)).state).toBe('held')
    expect((await view(released)).state).not.toBe('held')
    expect((await gateway.api('DELETE', `/api/v1/queue/${deleted}`)).status).toBe(200)
    expect((await gateway.api('GET', `/api/v1/queue/${deleted}`)).status).toBe(404)
    expect((await gateway.api('POST', `/api/v1/queue/${bounced}/bounce`)).status).toBe(200)
    // The bounce (a DSN to the sender) leaves from the owner's queue like any message.
    await waitFor(() => received(downstream, 'sender@ext.example') === 1, {
      timeoutMs: 60_000,
      what: 'the DSN of the bounced message',
    })
    // The bounced message leaves its queue once its DSN is queued: the DSN may arrive first.
    const summary = await waitFor(
      async () => {
        const { json } = await gateway.api('GET', '/api/v1/queue/summary')
        const counts = json as { total: number; held: number }
        return counts.total === 2 ? counts : undefined
      },
      { timeoutMs: 60_000, what: 'the held and the released message left in the queues' },
    )
    expect(summary.held).toBe(1)
    // Message tracking (one shared database) knows what each process did.
    const tracked = (await gateway.api('GET', `/api/v1/tracking/messages/${held}`)).status
    expect(tracked).toBe(200)

    // A message an SMTP process's pipeline quarantined is released through the primary: the
    // copy is queued and delivered (as a new MID of the primary's own slot).
    const phish = [
      'From: IT <it@phish.example>',
      'To: ok@corp.example',
      'Subject: Reset your password',
      'Content-Type: text/html',
      '',
      '<form action="https://phish.example/p"><input type="password" name="p"></form>',
      '',
    ].join('\r\n')
    const queuedAs = await sendWithNodemailer({
      port: gateway.smtpPort,
      from: 'it@phish.example',
      to: 'ok@corp.example',
      raw: phish,
    })
    const phishMid = Number(/queued as (\d+)/.exec(queuedAs)?.[1])
    const quarantined = await waitFor(
      async () => {
        const { json } = await gateway.api('GET', `/api/v1/quarantine/messages?mid=${phishMid}`)
        return (json as { items: { id: number }[] }).items[0]
      },
      { timeoutMs: 60_000, what: `MID ${phishMid} quarantined` },
    )
    const release = await gateway.api(
      'POST',
      `/api/v1/quarantine/messages/${quarantined.id}/release`,
    )
    expect(release.status).toBe(200)
    await waitFor(
      () => downstream.messages.some((m) => m.text.includes('Subject: Reset your password')),
      { timeoutMs: 60_000, what: 'the released message downstream' },
    )

    // A block list entry added through the primary applies in every SMTP process at once
    // (their own reload is an hour away): each connection lands on either process.
    const added = await gateway.api('POST', '/api/v1/blocklists', {
      kind: 'sender_domain',
      value: 'spam.example',
      reason: 'test',
    })
    expect(added.status).toBe(201)
    await waitFor(
      async () => {
        for (let i = 0; i < 8; i++) if (!(await refusedAtMail(gateway.smtpPort))) return false
        return true
      },
      { timeoutMs: 30_000, what: 'the blocked domain refused by every process' },
    )

    // kill -9 of an SMTP process: the primary forks it again and it recovers its own spool.
    const owner = slotOfId(nodeNumber, held) as number
    const victim = pids.get(owner) as number
    process.kill(victim, 'SIGKILL')
    const after = await waitFor(
      async () => {
        const now = await gateway.smtpPids()
        return now.size === PROCESSES && now.get(owner) !== victim ? now : undefined
      },
      { timeoutMs: 120_000, what: `SMTP process ${owner} restarted` },
    )
    expect(after.get(owner)).not.toBe(victim)
    // The primary logged it, with its own process name and the SMTP process concerned.
    const exited = gateway.proc
      .output()
      .split('\n')
      .find((line) => line.includes('"event":"GATEWAY_SMTP_PROCESS_EXITED"'))
    expect(exited).toContain('"process":"primary"')
    expect(exited).toContain(`"smtpProcess":"smtp-${owner}"`)
    expect((await view(held)).state).toBe('held')
    expect((await gateway.health()).status).toBe(200)

    // SIGTERM to the primary: every process drains and exits.
    await gateway.proc.stop(60_000)
    for (const pid of after.values()) {
      await waitFor(() => !processAlive(pid), { timeoutMs: 60_000, what: `pid ${pid} gone` })
    }
  }, 600_000)

  it('a block a policy adds in one SMTP process refuses the next message in the other', async () => {
    const { gateway } = await setUp(0, {
      incoming: [
        {
          name: 'compromised',
          senders: [`@${COMPROMISED.split('@')[1] as string}`],
          rules: [
            {
              name: 'block-sender',
              then: { blockSender: { reason: 'compromised' }, quarantine: 'policy' },
            },
          ],
        },
      ],
    })
    await waitForSmtpProcesses(gateway, PROCESSES)
    // The policy blocks the sender while the process that took this message handles it.
    const first = await sendWithNodemailer({
      port: gateway.smtpPort,
      from: COMPROMISED,
      to: 'ok@corp.example',
      subject: 'first',
    })
    const origin = slotOfId(0, Number(/queued as (\d+)/.exec(first)?.[1]))
    // Each session learns its process from the MID of an innocent message, then tries the
    // blocked sender. Only the primary's broadcast can make the sibling refuse it: the
    // periodic reload is an hour away and nothing went through the API.
    const refusedIn = new Set<number>()
    await waitFor(
      async () => {
        const tried = await mailFromAfterInnocentMessage(gateway.smtpPort, COMPROMISED)
        if (tried.reply?.startsWith('550')) refusedIn.add(tried.slot)
        return refusedIn.size === PROCESSES
      },
      { timeoutMs: 60_000, what: `${COMPROMISED} refused by both SMTP processes` },
    )
    expect(refusedIn.has(origin as number)).toBe(true)
    // The primary's own lists followed as well (the gauge adds up every process's entries).
    await waitFor(
      async () => {
        const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text()
        return metricValue(metrics, 'postern_blocklist_entries') === PROCESSES + 1
      },
      { timeoutMs: 30_000, what: 'the entry in force in the primary and both SMTP processes' },
    )
    await gateway.proc.stop(60_000)
  }, 300_000)

  it('delivers the spool of a process beyond a lowered smtpProcesses, then removes it', async () => {
    const { downstream, gateway, dataDir, start } = await setUp(0)
    await waitForSmtpProcesses(gateway, PROCESSES)
    // Deferred mail until some of it sits in the spool of SMTP process 2.
    let sent = 0
    await waitFor(
      async () => {
        await sendDeferred(gateway, sent++)
        const { json } = await gateway.api('GET', '/api/v1/queue?state=deferred')
        return (json as QueueList).items.some((item) => slotOfId(0, item.mid) === PROCESSES)
      },
      { timeoutMs: 120_000, what: 'a deferred message in SMTP process 2' },
    )
    await deferredQueue(gateway, sent)
    await gateway.proc.stop(60_000)

    // One SMTP process now; the downstream accepts everything again.
    downstream.script.rcpt = undefined
    const smaller = await start(1)
    await waitFor(
      async () => {
        await smaller.api('POST', '/api/v1/queue/flush')
        return received(downstream, 'defer@corp.example') >= sent
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: `${sent} deferred messages delivered` },
    )
    await waitFor(() => !existsSync(join(dataDir, `spool-${PROCESSES}`)), {
      timeoutMs: 60_000,
      what: `spool-${PROCESSES} removed once drained`,
    })
    await waitFor(async () => (await smaller.health()).status === 200, {
      timeoutMs: 60_000,
      what: 'a healthy gateway after the drained process retired',
    })
    expect(Object.keys((await smaller.health()).checks)).not.toContain(`smtp-${PROCESSES}`)
    await smaller.proc.stop(60_000)
  }, 600_000)

  it('its SMTP processes exit when the primary is killed, freeing the port', async () => {
    const { gateway } = await setUp(0)
    const pids = await waitForSmtpProcesses(gateway, PROCESSES)
    await gateway.proc.kill9()
    for (const pid of pids.values()) {
      await waitFor(() => !processAlive(pid), { timeoutMs: 60_000, what: `pid ${pid} gone` })
    }
    await waitFor(() => refused(gateway.smtpPort), {
      timeoutMs: 30_000,
      what: 'the SMTP port closed',
    })
  }, 300_000)
})

function received(downstream: TestServer, recipient: string): number {
  return downstream.messages.filter((m) => m.to.includes(recipient)).length
}

/**
 * One session: a message from an innocent sender (its MID names the SMTP process serving the
 * session), then MAIL FROM `sender`; resolves with that process's slot and the MAIL reply.
 */
async function mailFromAfterInnocentMessage(
  port: number,
  sender: string,
): Promise<{ slot: number; reply: string | null }> {
  const smtp = await RawSmtp.open(port)
  try {
    await smtp.reply(10_000)
    await smtp.command('EHLO client.test')
    await smtp.command('MAIL FROM:<innocent@ext.example>')
    await smtp.command('RCPT TO:<ok@corp.example>')
    await smtp.command('DATA')
    const queued = await smtp.command('Subject: innocent\r\n\r\nhello\r\n.')
    const mid = Number(/queued as (\d+)/.exec(queued ?? '')?.[1])
    if (!Number.isSafeInteger(mid)) throw new Error(`innocent message not queued: ${queued}`)
    return { slot: slotOfId(0, mid) as number, reply: await smtp.command(`MAIL FROM:<${sender}>`) }
  } finally {
    smtp.close()
  }
}

/** One session that tries MAIL from the blocked domain: true when it is refused with 550. */
async function refusedAtMail(port: number): Promise<boolean> {
  const smtp = await RawSmtp.open(port)
  try {
    await smtp.reply(10_000)
    await smtp.command('EHLO client.test')
    const reply = await smtp.command('MAIL FROM:<someone@spam.example>')
    return reply?.startsWith('550') ?? false
  } finally {
    smtp.close()
  }
}

/** Whether a TCP connection to the port is refused (nothing listens any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}
