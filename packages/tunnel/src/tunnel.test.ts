import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { defineErrors } from '@postern/core'
import { waitFor } from '@postern/testkit'
import { TunnelClient } from './client.js'
import type { TunnelPeer } from './peer.js'
import { CLOSE_CODES, TUNNEL_SUBPROTOCOL } from './protocol.js'
import { TunnelServer } from './server.js'

const testErrors = defineErrors('TUNNELTEST', {
  NOPE: { message: 'No {what}', hint: 'Ask for something else.', status: 404 },
})

interface Harness {
  server: Server
  tunnel: TunnelServer<{ org: string }>
  port: number
  events: { peer: string; topic: string; data: unknown }[]
  revoked: Set<string>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startServer(port = 0, revoked = new Set<string>()): Promise<Harness> {
  const events: Harness['events'] = []
  const tunnel = new TunnelServer<{ org: string }>({
    path: '/tunnel',
    heartbeatMs: 200,
    authenticate: async (request) => {
      const token = request.headers.authorization?.replace(/^Bearer /, '') ?? ''
      if (!token.startsWith('dev-') || revoked.has(token)) {
        return {
          ok: false,
          status: 401,
          body: { error: { code: 'X', message: 'credential revoked' } },
        }
      }
      return { ok: true, peerId: token, context: { org: 'o1' } }
    },
    handlers: {
      requests: {
        'echo.org': async (params, call) => ({ params, org: call.context.org, peer: call.peer }),
      },
      onEvent: (topic, data, peer) => events.push({ peer: peer.peer, topic, data }),
    },
  })
  const server = createServer()
  server.on('upgrade', (req, socket, head) => {
    if (!tunnel.handleUpgrade(req, socket, head)) socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const harness = { server, tunnel, port: (server.address() as AddressInfo).port, events, revoked }
  cleanups.push(() => stopServer(harness))
  return harness
}

async function stopServer(h: Harness): Promise<void> {
  if (!h.server.listening) return
  await h.tunnel.close()
  await new Promise<void>((resolve) => {
    h.server.close(() => resolve())
    h.server.closeAllConnections()
  })
}

function startClient(
  port: number,
  credential = 'dev-1',
  fallbackPorts: number[] = [],
): TunnelClient {
  const client = new TunnelClient({
    url: `ws://127.0.0.1:${port}/tunnel`,
    fallbackUrls: fallbackPorts.map((p) => `ws://127.0.0.1:${p}/tunnel`),
    credential: () => credential,
    heartbeatMs: 200,
    backoff: { initialMs: 50, maxMs: 200 },
    handlers: {
      requests: {
        'module.call': async (params) => ({ data: { status: 'ok', echo: params } }),
        'module.fail': async () => {
          throw testErrors.NOPE({ what: 'module' })
        },
        'module.crash': async () => {
          throw new Error('secret internals')
        },
        'module.slow': (_p, call) =>
          new Promise((resolve) => {
            const t = setTimeout(() => resolve('late'), 5_000)
            call.signal.addEventListener('abort', () => clearTimeout(t))
          }),
      },
    },
  })
  client.start()
  cleanups.push(() => client.stop())
  return client
}

describe('tunnel', () => {
  it('multiplexes calls in both directions and carries events', async () => {
    const h = await startServer()
    const client = startClient(h.port)
    await client.whenConnected()
    await waitFor(() => h.tunnel.get('dev-1'))

    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.tunnel.call('dev-1', 'module.call', { i })),
    )
    expect(replies.map((r) => (r as { data: { echo: { i: number } } }).data.echo.i)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    )
    expect(await client.request('echo.org', { x: 1 })).toEqual({
      params: { x: 1 },
      org: 'o1',
      peer: 'dev-1',
    })
    client.connection?.notify('telemetry', { a: 1 })
    await waitFor(() => h.events.length === 1)
    expect(h.events[0]).toEqual({ peer: 'dev-1', topic: 'telemetry', data: { a: 1 } })
  })

  it.each([
    ['a coded error keeps its code', 'module.fail', 'TUNNELTEST_ERR_NOPE'],
    ['an unexpected error hides its message', 'module.crash', 'TUNNEL_ERR_HANDLER_FAILED'],
    ['an unknown method', 'module.none', 'TUNNEL_ERR_UNKNOWN_METHOD'],
  ])('%s', async (_name, method, code) => {
    const h = await startServer()
    const client = startClient(h.port)
    await client.whenConnected()
    await waitFor(() => h.tunnel.get('dev-1'))
    const err = await h.tunnel.call('dev-1', method, {}).catch((e: unknown) => e)
    expect(err).toMatchObject({ code })
    expect(String((err as Error).message)).not.toContain('secret internals')
  })

  it('times out a call and tells the callee to stop', async () => {
    const h = await startServer()
    const client = startClient(h.port)
    await client.whenConnected()
    await waitFor(() => h.tunnel.get('dev-1'))
    await expect(
      h.tunnel.call('dev-1', 'module.slow', {}, { timeoutMs: 100 }),
    ).rejects.toMatchObject({
      code: 'TUNNEL_ERR_TIMEOUT',
    })
    await expect(h.tunnel.call('dev-9', 'module.call', {})).rejects.toMatchObject({
      code: 'TUNNEL_ERR_NOT_CONNECTED',
    })
  })

  it('reconnects after the server restarts on the same port', async () => {
    const h = await startServer()
    const client = startClient(h.port)
    await client.whenConnected()
    const pending = h.tunnel.call('dev-1', 'module.slow', {}, { timeoutMs: 10_000 })
    await stopServer(h)
    await expect(pending).rejects.toMatchObject({ code: 'TUNNEL_ERR_CLOSED' })
    await waitFor(() => client.status.state === 'waiting')
    expect(client.status.lastError?.code).toBe('TUNNEL_ERR_NOT_CONNECTED')

    const again = await startServer(h.port)
    await waitFor(() => again.tunnel.get('dev-1'), { timeoutMs: 10_000 })
    // The hub registers the device before the client has read its welcome: wait for both ends.
    await waitFor(() => client.status.state === 'connected')
    expect(await again.tunnel.call('dev-1', 'module.call', 1)).toEqual({
      data: { status: 'ok', echo: 1 },
    })
  })

  it('moves to the next hub node when its node dies, and back when that one dies', async () => {
    const [a, b] = [await startServer(), await startServer()]
    const client = startClient(a.port, 'dev-1', [b.port])
    await waitFor(() => a.tunnel.get('dev-1'))
    await stopServer(a)
    await waitFor(() => b.tunnel.get('dev-1'), { timeoutMs: 10_000 })
    expect(client.url).toBe(`ws://127.0.0.1:${b.port}/tunnel`)
    expect(await b.tunnel.call('dev-1', 'module.call', 2)).toEqual({
      data: { status: 'ok', echo: 2 },
    })
    const again = await startServer(a.port)
    await stopServer(b)
    await waitFor(() => again.tunnel.get('dev-1'), { timeoutMs: 10_000 })
    // The hub registers the device before the client has read its welcome: wait for both ends.
    await waitFor(() => client.status.state === 'connected')
  })

  it('refuses a fallback URL that is not ws:// or wss://', () => {
    expect(
      () =>
        new TunnelClient({
          url: 'ws://127.0.0.1:1/tunnel',
          fallbackUrls: ['http://127.0.0.1:2/tunnel'],
          credential: () => 'dev-1',
          handlers: { requests: {} },
        }),
    ).toThrow(expect.objectContaining({ code: 'TUNNEL_ERR_URL_INVALID' }))
  })

  it('stops retrying when the credential is refused or revoked', async () => {
    const h = await startServer()
    const refused = startClient(h.port, 'not-a-device')
    await waitFor(() => refused.status.state === 'refused')
    expect(refused.status.lastError).toMatchObject({
      code: 'TUNNEL_ERR_REFUSED',
      message: expect.stringContaining('credential revoked'),
    })

    const client = startClient(h.port, 'dev-2')
    await client.whenConnected()
    await waitFor(() => h.tunnel.get('dev-2'))
    h.tunnel.disconnect('dev-2', CLOSE_CODES.REVOKED, 'device deregistered')
    await waitFor(() => client.status.state === 'refused')
    expect(client.status.lastError?.message).toContain('device deregistered')
  })

  it('replaces an older connection of the same peer', async () => {
    const h = await startServer()
    const first = startClient(h.port)
    await first.whenConnected()
    await waitFor(() => h.tunnel.get('dev-1'))
    const firstPeer = h.tunnel.get('dev-1') as TunnelPeer<{ org: string }>
    const second = startClient(h.port)
    await second.whenConnected()
    await waitFor(() => !firstPeer.isOpen)
    expect(h.tunnel.connectedPeers()).toEqual(['dev-1'])
    expect(h.tunnel.get('dev-1')).not.toBe(firstPeer)
  })

  it('drops a peer that stops answering pings, and closes on malformed frames', async () => {
    const h = await startServer()
    const silent = new WebSocket(`ws://127.0.0.1:${h.port}/tunnel`, TUNNEL_SUBPROTOCOL, {
      headers: { authorization: 'Bearer dev-silent' },
      autoPong: false,
    })
    cleanups.push(() => silent.terminate())
    await new Promise((resolve) => silent.once('open', resolve))
    await waitFor(() => h.tunnel.get('dev-silent'))
    await waitFor(() => !h.tunnel.get('dev-silent'), { timeoutMs: 5_000 })

    const rude = new WebSocket(`ws://127.0.0.1:${h.port}/tunnel`, TUNNEL_SUBPROTOCOL, {
      headers: { authorization: 'Bearer dev-rude' },
    })
    cleanups.push(() => rude.terminate())
    await new Promise((resolve) => rude.once('open', resolve))
    const closed = new Promise<number>((resolve) => rude.once('close', (code) => resolve(code)))
    rude.send('{"type":"request","id":"1"}')
    expect(await closed).toBe(CLOSE_CODES.PROTOCOL_ERROR)
  })
})
