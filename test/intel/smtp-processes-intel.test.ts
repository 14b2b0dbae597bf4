import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { slotOfId } from '@postern/gateway'
import { startProcess, tempDir, waitFor, type RunningProcess } from '@postern/testkit'
import { sendWithNodemailer } from '../gateway/support/clients.js'
import { startTestServer } from '../gateway/support/downstream.js'
import { testConfig, writeConfigFile } from '../gateway/support/gateway.js'
import {
  startMultiProcessGateway,
  waitForSmtpProcesses,
  type MultiProcessGateway,
} from '../gateway/support/multi-process.js'
import {
  POSTERN,
  ROOT,
  bootstrapHub,
  clientAccessToken,
  hubConfigFile,
  ok,
} from '../support/postern-cli.js'

// Replies of the hub API, read loosely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const PROCESSES = 2
const NODE = 0
const CAMPAIGN_URL = 'https://payroll.processes-campaign.test/login'
const WATCHED_DOMAIN = 'watched.processes-campaign.test'

/**
 * Hub private intelligence of a gateway with `smtpProcesses: 2`, run as users run it (a
 * `postern hub` and a `postern gateway`, registered through the CLI): a block the hub pushes
 * holds in both SMTP processes at once (their periodic reload is an hour away), the detections
 * of the mail both processes handle reach the hub's incident, and the hub's watchlist reaches
 * both processes — also one restarted after the watch was set — so their mail makes sightings.
 */
describe('hub intelligence of a gateway with two SMTP processes', () => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn()
  }, 120_000)

  it('reports the detections and sightings of mail every SMTP process handles', async () => {
    const dir = tempDir('postern-procs-intel-')
    cleanup.push(() => dir.remove())
    const downstream = await startTestServer()
    cleanup.push(() => downstream.close())

    const { file: hubConfig, url: hubUrl } = await hubConfigFile(dir.path, {
      // HUB_LISTENING, which the test waits for, is an info line.
      log: { level: 'info' },
    })
    const client = await bootstrapHub(hubConfig, {
      name: 'processes',
      scopes: 'private-intel response devices:read',
    })
    const hub: RunningProcess = startProcess(
      process.execPath,
      [POSTERN, 'hub', '--config', hubConfig],
      { cwd: ROOT },
    )
    cleanup.push(() => hub.kill9())
    await hub.waitForLine(/HUB_LISTENING/, 120_000)

    const dataDir = join(dir.path, 'gw')
    const configFile = join(dir.path, 'gateway.yaml')
    writeConfigFile(
      configFile,
      testConfig(dataDir, 'sqlite', {
        nodeNumber: NODE,
        smtpProcesses: PROCESSES,
        log: { level: 'warn' },
        smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${downstream.port}`] }],
        pipeline: {
          workers: 1,
          authentication: { enabled: false },
          // Only the primary's broadcast can bring the hub's block into the SMTP processes.
          blocklists: { refreshInterval: '1h' },
        },
        cloud: {
          machineName: 'gw-processes',
          servers: { nam: hubUrl },
          settingsPollSeconds: 0.5,
          reconnectMinMs: 100,
          reconnectMaxSeconds: 1,
        },
      }),
    )
    const gateway = await startMultiProcessGateway(configFile, dataDir, PROCESSES)
    cleanup.push(() => gateway.proc.kill9())
    await waitForSmtpProcesses(gateway, PROCESSES)

    const token = (await ok(['hub', 'token', 'create', '--config', hubConfig])).trim()
    await ok(['gateway', 'cloudserviceconfig', 'enable', '-c', configFile])
    await ok(['gateway', 'cloudserviceconfig', 'settrs', '--server', 'nam', '-c', configFile])
    // Threat Response on before the tunnel comes up: the hub's pushes are module calls.
    await ok(['gateway', 'cloudserviceconfig', 'securex', 'enable', '-c', configFile])
    await ok(['gateway', 'cloudserviceconfig', 'register', '--token', token, '-c', configFile])
    const accessToken = await clientAccessToken(hubUrl, client)
    const hubApi = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${hubUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${accessToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      return { status: res.status, body: (text ? JSON.parse(text) : null) as Json }
    }
    await waitFor(
      async () =>
        ((await hubApi('GET', '/api/v1/devices')).body.items as Json[]).some(
          (d) => d.status === 'connected',
        ),
      { timeoutMs: 60_000, what: 'the gateway connected to the hub' },
    )

    // The hub blocks the campaign's URL on its gateways (the primary applies it).
    const judgement = await hubApi('POST', '/ctia/judgement', {
      confidence: 'High',
      disposition: 2,
      observable: { type: 'url', value: CAMPAIGN_URL },
      priority: 95,
      severity: 'High',
      source: 'analyst',
    })
    expect(judgement.status, JSON.stringify(judgement.body)).toBe(201)
    const jid = (judgement.body.id as string).split('/').pop()
    const pushed = await hubApi('POST', `/api/v1/judgements/${jid}/blocks`, {})
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(200)
    expect(pushed.body.gateways).toEqual([expect.objectContaining({ ok: true, changed: 1 })])

    // One message per session until both SMTP processes accepted some of the campaign: each
    // detects it only if the block reached it, and reports it only through the shared outbox.
    const campaign = await sendUntilBothSlots(gateway, (i) => ({
      subject: `Payroll change ${i}`,
      text: `Confirm at ${CAMPAIGN_URL} today.`,
    }))
    const incidentMids = await waitFor(
      async () => {
        const found = (
          (await hubApi('GET', '/ctia/incident/search?limit=100')).body as Json[]
        ).filter((i) => String(i.title).includes(CAMPAIGN_URL))
        if (found.length !== 1) return false
        const bundle = await hubApi(
          'GET',
          `/ctia/bundle/export?ids=${encodeURIComponent(found[0].id)}`,
        )
        const mids = new Set<number>(
          (bundle.body.casebooks ?? []).flatMap((c: Json) =>
            (c.observables ?? [])
              .filter((o: Json) => o.type === 'cisco_mid')
              .map((o: Json) => Number(o.value)),
          ),
        )
        return campaign.every((mid) => mids.has(mid)) ? mids : false
      },
      { timeoutMs: 120_000, what: `one incident with the ${campaign.length} campaign messages` },
    )
    expect(new Set([...incidentMids].map((mid) => slotOfId(NODE, mid)))).toEqual(new Set([1, 2]))

    // A watch set on the hub reaches both processes: their mail with the domain is sighted.
    const watch = await hubApi('POST', '/api/v1/watchlist', {
      observable: { type: 'domain', value: WATCHED_DOMAIN },
      incident_mode: 'open',
    })
    expect(watch.status, JSON.stringify(watch.body)).toBe(201)
    const sightedSlots = async () =>
      new Set(
        ((await hubApi('GET', `/api/v1/watchlist/${watch.body.id}/sightings`)).body as Json[]).map(
          (s) => slotOfId(NODE, Number(s.message_ref)),
        ),
      )
    const newsletter = (i: number) => ({
      subject: `Offers ${i}`,
      text: `See https://${WATCHED_DOMAIN}/offers now.`,
    })
    let sent = 0
    await waitFor(
      async () => {
        await sendOne(gateway, newsletter(sent++))
        const slots = await sightedSlots()
        return slots.has(1) && slots.has(2)
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'sightings from both SMTP processes' },
    )

    // A process started after the watch was set (kill -9, restarted by the primary) gets the
    // current watchlist from the primary: its mail is sighted too.
    const pids = await gateway.smtpPids()
    const victim = pids.get(2) as number
    process.kill(victim, 'SIGKILL')
    await waitFor(
      async () => {
        const now = await gateway.smtpPids()
        return now.size === PROCESSES && now.get(2) !== victim
      },
      { timeoutMs: 120_000, what: 'SMTP process 2 restarted' },
    )
    const before = (await hubApi('GET', `/api/v1/watchlist/${watch.body.id}/sightings`))
      .body as Json[]
    const seenBefore = new Set(before.map((s) => Number(s.message_ref)))
    const fromRestarted: number[] = []
    await waitFor(
      async () => {
        const mid = await sendOne(gateway, newsletter(sent++))
        if (slotOfId(NODE, mid) === 2) fromRestarted.push(mid)
        const sightings = (await hubApi('GET', `/api/v1/watchlist/${watch.body.id}/sightings`))
          .body as Json[]
        return sightings.some(
          (s) =>
            !seenBefore.has(Number(s.message_ref)) && fromRestarted.includes(Number(s.message_ref)),
        )
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'a sighting from the restarted SMTP process' },
    )
  }, 900_000)
})

/** Sends one message in its own session; resolves with the MID of the 250 reply. */
async function sendOne(
  gateway: MultiProcessGateway,
  content: { subject: string; text: string },
): Promise<number> {
  const reply = await sendWithNodemailer({
    port: gateway.smtpPort,
    from: 'sender@ext.example',
    to: 'alice@corp.example',
    ...content,
  })
  const mid = Number(/queued as (\d+)/.exec(reply)?.[1])
  expect(Number.isInteger(mid), reply).toBe(true)
  return mid
}

/**
 * Sends at least 8 messages, one session each, and more until both SMTP processes accepted
 * some (the kernel spreads the connections): resolves with their MIDs.
 */
async function sendUntilBothSlots(
  gateway: MultiProcessGateway,
  content: (i: number) => { subject: string; text: string },
): Promise<number[]> {
  const mids: number[] = []
  await waitFor(
    async () => {
      mids.push(await sendOne(gateway, content(mids.length)))
      const slots = new Set(mids.map((mid) => slotOfId(NODE, mid)))
      return mids.length >= 8 && slots.has(1) && slots.has(2)
    },
    { timeoutMs: 180_000, what: 'messages accepted by both SMTP processes' },
  )
  return mids
}
