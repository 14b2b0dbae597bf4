import { join } from 'node:path'
import { expect } from 'vitest'
import { Database, HubOutboxStore, resolveDatabaseTarget, type GatewaySchema } from '@postern/store'
import { startProcess, tempDir, waitFor, type RunningProcess } from '@postern/testkit'
import {
  POSTERN,
  ROOT,
  bootstrapHub,
  clientAccessToken,
  hubConfigFile,
  ok,
} from '../../support/postern-cli.js'
import { gatewayConfigFile, relayTo, metricValue, startGatewayProcess } from './gateway-process.js'
import { CountingDownstream, startLoad } from './load.js'

// Replies of the hub API, read loosely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const CAMPAIGN_URL = 'https://payroll.outage-campaign.test/login'
const MACHINE = 'gw-outage'
/** Every tenth load message carries the campaign's URL, which the gateway's block list knows. */
const isCampaign = (id: number) => id % 10 === 3

/**
 * The hub is killed (`kill -9`) in the middle of a load and stays down for at least `downMs`:
 * the gateway (its own process, registered with the hub) goes on accepting, delivering and
 * tracking every message, keeps the detections the hub must hear of in its durable queue, and,
 * once the hub is back on the same address, reconnects by itself and sends them, so the hub
 * groups the whole campaign — before, during and after the outage — into one incident.
 */
export async function hubOutage(options: {
  messages: number
  downMs: number
  /** Tunnel heartbeat of both ends; a short one proves the hub answers it while catching up. */
  heartbeatSeconds?: number
}): Promise<void> {
  const heartbeat =
    options.heartbeatSeconds === undefined
      ? undefined
      : { heartbeatSeconds: options.heartbeatSeconds }
  const dir = tempDir('postern-hub-outage-')
  const processes: RunningProcess[] = []
  const downstream = await CountingDownstream.start()
  try {
    const { file: hubConfig, url: hubUrl } = await hubConfigFile(dir.path, {
      ...(heartbeat ? { tunnel: heartbeat } : {}),
      // HUB_LISTENING, which the suite waits for, is an info line.
      log: { level: 'info' },
    })
    const client = await bootstrapHub(hubConfig, {
      name: 'outage',
      scopes: 'private-intel devices:read',
    })
    const startHub = async () => {
      const hub = startProcess(process.execPath, [POSTERN, 'hub', '--config', hubConfig], {
        cwd: ROOT,
      })
      processes.push(hub)
      await hub.waitForLine(/HUB_LISTENING/, 120_000)
      return hub
    }
    let hub = await startHub()

    const gwDir = join(dir.path, 'gw')
    const config = gatewayConfigFile(gwDir, {
      database: 'sqlite',
      ...relayTo(downstream.port),
      pipeline: {
        workers: 1,
        authentication: { enabled: false },
        // The campaign's block entry is added by the CLI once the gateway runs: it must be in
        // force before the load starts, not up to the default 10 s later.
        blocklists: { refreshInterval: '500ms' },
      },
      tracking: { flushInterval: '100ms' },
      cloud: {
        machineName: MACHINE,
        servers: { nam: hubUrl },
        settingsPollSeconds: 0.5,
        ...heartbeat,
        reconnectMinMs: 100,
        reconnectMaxSeconds: 1,
        requestTimeoutSeconds: 5,
      },
    })
    const gw = await startGatewayProcess(config)
    processes.push(gw.proc)
    await ok([
      'gateway',
      'blocklist',
      'add',
      'url',
      CAMPAIGN_URL,
      '--reason',
      'phishing',
      '-c',
      config,
    ])
    const token = (await ok(['hub', 'token', 'create', '--config', hubConfig])).trim()
    await ok(['gateway', 'cloudserviceconfig', 'enable', '-c', config])
    await ok(['gateway', 'cloudserviceconfig', 'settrs', '--server', 'nam', '-c', config])
    await ok(['gateway', 'cloudserviceconfig', 'register', '--token', token, '-c', config])
    // The gateway takes the registration at its next settings poll; what it processes before
    // that is not owed to any hub. The load starts once its tunnel is up.
    const firstToken = await clientAccessToken(hubUrl, client)
    await waitFor(
      async () =>
        (await getJson(hubUrl, firstToken, '/api/v1/devices')).items.some(
          (d: Json) => d.status === 'connected',
        ),
      { timeoutMs: 60_000, what: 'the gateway connected to the hub' },
    )

    const gatewayDb = await Database.open<GatewaySchema>(
      resolveDatabaseTarget('sqlite', join(gwDir, 'data'), 'gateway.db'),
    )
    const outbox = new HubOutboxStore(gatewayDb.db)
    try {
      const load = startLoad({
        port: () => gw.smtpPort,
        sessions: 4,
        total: options.messages,
        bodyOf: (id) => (isCampaign(id) ? `Your payroll: ${CAMPAIGN_URL}` : 'Minutes attached.'),
      })
      await waitFor(() => load.result.acked.size >= options.messages / 5, {
        timeoutMs: 120_000,
        what: 'a fifth of the load accepted with the hub up',
      })
      await hub.kill9()
      const downAt = Date.now()

      // With the hub gone, everything the gateway accepted is delivered and tracked, and the
      // campaign's detections wait in the durable queue.
      await load.done
      const { acked, refused } = load.result
      expect([...refused]).toEqual([])
      const clean = [...acked].filter((id) => !isCampaign(id))
      const campaign = [...acked].filter(isCampaign)
      await waitFor(() => clean.every((id) => downstream.copies.has(id)), {
        timeoutMs: 120_000,
        what: 'every accepted clean message delivered while the hub is down',
      })
      await waitFor(
        async () => metricValue(await gw.metrics(), 'postern_tracking_pending_rows') === 0,
        { timeoutMs: 60_000, what: 'tracking written while the hub is down' },
      )
      await waitFor(async () => (await outbox.count(MACHINE)) > 0, {
        timeoutMs: 60_000,
        what: 'detections queued for the hub',
      })
      const waitLeft = options.downMs - (Date.now() - downAt)
      if (waitLeft > 0) await new Promise((resolve) => setTimeout(resolve, waitLeft))
      const queued = await outbox.count(MACHINE)

      hub = await startHub()
      const upAt = Date.now()
      await waitFor(async () => (await outbox.count(MACHINE)) === 0, {
        timeoutMs: 120_000,
        what: 'the queue sent once the hub is back',
      })
      const caughtUpMs = Date.now() - upAt

      const accessToken = await clientAccessToken(hubUrl, client)
      // What the hub showed last, for the message if it never shows the whole campaign.
      let seen = 'nothing yet'
      let incidentMidsSeen = new Set<string>()
      const incidentMids = await waitFor(
        async () => {
          const found = (
            await getJson(hubUrl, accessToken, '/ctia/incident/search?limit=100')
          ).filter((i: Json) => String(i.title).includes(CAMPAIGN_URL))
          seen = `${found.length} incident(s)`
          if (found.length !== 1) return false
          const bundle = await getJson(
            hubUrl,
            accessToken,
            `/ctia/bundle/export?ids=${encodeURIComponent(found[0].id)}`,
          )
          const mids = new Set<string>(
            (bundle.casebooks ?? []).flatMap((c: Json) =>
              (c.observables ?? [])
                .filter((o: Json) => o.type === 'cisco_mid')
                .map((o: Json) => String(o.value)),
            ),
          )
          seen = `one incident with ${mids.size} messages in ${bundle.casebooks?.length ?? 0} casebook(s)`
          incidentMidsSeen = mids
          return mids.size === campaign.length ? mids : false
        },
        { timeoutMs: 60_000, what: `one incident with the ${campaign.length} campaign messages` },
      ).catch(async (err: unknown) => {
        const events = await gatewayDb.db
          .selectFrom('hub_outbox')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirst()
        // The campaign messages the gateway tracked that the incident lacks, with their events.
        const tracked = await gatewayDb.db
          .selectFrom('observables')
          .select('mid')
          .where('type', '=', 'url')
          .where('value', '=', CAMPAIGN_URL)
          .execute()
        const missing = tracked.map((r) => String(r.mid)).filter((m) => !incidentMidsSeen.has(m))
        const history = await Promise.all(
          missing.slice(0, 5).map(async (mid) => {
            const rows = await gatewayDb.db
              .selectFrom('message_events')
              .select(['event', 'details'])
              .where('mid', '=', Number(mid))
              .execute()
            return `${mid}: ${rows.map((r) => `${r.event} ${r.details.slice(0, 200)}`).join(' | ')}`
          }),
        )
        throw new Error(
          `${(err as Error).message}; the hub showed ${seen}; the gateway's outbox holds ${events?.n ?? '?'}; ` +
            `the gateway tracked ${tracked.length} campaign messages, missing from the incident: ${history.join(' ;; ')}`,
        )
      })
      expect(incidentMids.size).toBe(campaign.length)
      expect(downstream.duplicates).toBe(0)
      const metrics = await gw.metrics()
      expect(metricValue(metrics, 'postern_tracking_dropped_rows_total')).toBe(0)
      expect(gw.proc.child.exitCode).toBeNull()
      console.info(
        `hub outage: ${acked.size} accepted (${campaign.length} of the campaign), hub down ` +
          `${Math.round((upAt - downAt) / 1000)} s with ${queued} events queued, sent ` +
          `${(caughtUpMs / 1000).toFixed(1)} s after it returned; one incident`,
      )
    } finally {
      await gatewayDb.close()
    }
  } catch (err) {
    const outputs = processes.map((p, i) => `--- process ${i} ---\n${p.output().slice(-3000)}`)
    throw new Error(`${(err as Error).message}\n${outputs.join('\n')}`, { cause: err })
  } finally {
    for (const p of processes.reverse()) await p.stop()
    await downstream.down()
    dir.remove()
  }
}

async function getJson(hubUrl: string, token: string, path: string): Promise<Json> {
  const res = await fetch(`${hubUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })
  const text = await res.text()
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`)
  return JSON.parse(text)
}
