import { connect, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface TcpBalancer {
  port: number
  url: string
  close(): Promise<void>
}

/**
 * A round-robin TCP load balancer in front of several hub nodes, as an operator's HAProxy or
 * cloud balancer would be: each client connection goes to the next backend, and a backend that
 * refuses the connection (a dead node) is skipped for the next one. Bytes pass through
 * untouched, so HTTP and WebSocket upgrades behave as behind any layer-4 balancer.
 */
export async function startTcpBalancer(backends: readonly number[]): Promise<TcpBalancer> {
  let next = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  const dial = (client: Socket, tries: number): void => {
    const port = backends[next++ % backends.length] as number
    const upstream = connect({ host: '127.0.0.1', port })
    track(upstream)
    let connected = false
    upstream.once('error', () => {
      if (!connected && tries > 1 && !client.destroyed) {
        dial(client, tries - 1)
        return
      }
      client.destroy()
    })
    upstream.once('connect', () => {
      connected = true
      client.pipe(upstream).pipe(client)
      client.resume()
      upstream.once('close', () => client.destroy())
      client.once('close', () => upstream.destroy())
    })
  }
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    track(client)
    client.on('error', () => undefined)
    dial(client, backends.length)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
