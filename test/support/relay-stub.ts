import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRemoteJWKSet, jwtVerify } from 'jose'

/**
 * A relay module written as a small independent HTTP server: it verifies the hub's RS256
 * configuration token against the hub's JWKS with jose alone (no Postern code), checks `aud`
 * is its own URL, and answers observe, deliberate, refer and respond.
 */
export interface RelayStub {
  url: string
  calls: { path: string; claims: Record<string, unknown> | null; error?: string }[]
  close(): Promise<void>
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startRelayStub(
  hubUrl: string,
  behaviour: { delayMs?: number; name: string },
): Promise<RelayStub> {
  const jwks = createRemoteJWKSet(new URL(`${hubUrl}/.well-known/jwks`))
  const calls: RelayStub['calls'] = []
  let url = ''
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request)
      const path = (request.url ?? '').replace(/^\/relay/, '')
      const send = (payload: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify(payload))
      }
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1]
      try {
        if (!token) throw new Error('Authorization header is missing')
        const { payload } = await jwtVerify(token, jwks, { audience: url, algorithms: ['RS256'] })
        calls.push({ path, claims: payload as Record<string, unknown> })
      } catch (err) {
        calls.push({ path, claims: null, error: (err as Error).message })
        send({ errors: [{ code: 'authorization failed', message: String(err), type: 'fatal' }] })
        return
      }
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs))
      if (response.destroyed) return
      const observables = body ? (JSON.parse(body) as { type: string; value: string }[]) : []
      switch (path) {
        case '/health':
          return send({ data: { status: 'ok' } })
        case '/observe/observables':
          return send({
            data: {
              sightings: {
                count: observables.length,
                docs: observables.map((o) => ({
                  type: 'sighting',
                  source: behaviour.name,
                  count: 1,
                  confidence: 'High',
                  observed_time: { start_time: '2026-01-01T00:00:00.000Z' },
                  observables: [o],
                })),
              },
            },
          })
        case '/deliberate/observables':
          return send({
            data: {
              verdicts: {
                count: 1,
                docs: observables.slice(0, 1).map((o) => ({
                  type: 'verdict',
                  disposition: 2,
                  disposition_name: 'Malicious',
                  observable: o,
                  valid_time: {},
                })),
              },
            },
          })
        case '/refer/observables':
          return send({
            data: observables.map((o) => ({
              id: `ref-stub-${o.type}-${o.value}`,
              title: 'Search',
              description: 'Search the stub',
              url: `https://stub.example/search?q=${encodeURIComponent(o.value)}`,
              categories: ['Stub'],
            })),
          })
        case '/respond/observables':
          return send({
            data: observables.map((o) => ({
              id: 'stub-block',
              title: 'Block',
              description: 'Block it',
              categories: ['Stub'],
              'query-params': { observable_type: o.type, observable_value: o.value },
            })),
          })
        case '/respond/trigger':
          return send({ data: { status: 'success', received: JSON.parse(body) } })
        default:
          return send({ errors: [{ code: 'not found', message: path, type: 'fatal' }] })
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/relay`
  return {
    url,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
