import { connect, type Socket } from 'node:net'

/**
 * Opens many SMTP sessions that stay idle after EHLO, as slow or parked clients do, so that the
 * relay's memory per open session can be measured. Sessions come from several loopback source
 * addresses (127.0.0.2, 127.0.0.3, …) so that a per-IP connection limit set for the internet
 * does not cap a measurement meant to count memory.
 */

export interface IdleSessions {
  established: number
  /** Why sessions could not be established, with counts (e.g. "421 too many connections": 12). */
  failures: Map<string, number>
  close(): Promise<void>
}

export interface IdleOptions {
  port: number
  count: number
  /** How many distinct source addresses to spread the sessions over. */
  sourceAddresses?: number
  /** Sessions being opened at once. */
  parallel?: number
  timeoutMs?: number
  onProgress?: (established: number) => void
}

export async function openIdleSessions(options: IdleOptions): Promise<IdleSessions> {
  const addresses = options.sourceAddresses ?? 10
  const parallel = options.parallel ?? 50
  const sockets: Socket[] = []
  const failures = new Map<string, number>()
  let next = 0
  let established = 0

  const openOne = async (index: number): Promise<void> => {
    const localAddress = `127.0.0.${2 + (index % addresses)}`
    try {
      sockets.push(await openSession(options.port, localAddress, options.timeoutMs ?? 30_000))
      established++
      options.onProgress?.(established)
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      failures.set(reason, (failures.get(reason) ?? 0) + 1)
    }
  }
  const worker = async (): Promise<void> => {
    while (next < options.count) await openOne(next++)
  }
  await Promise.all(Array.from({ length: Math.min(parallel, options.count) }, worker))

  return {
    established,
    failures,
    async close() {
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.destroyed) return resolve()
              socket.once('close', () => resolve())
              socket.end('QUIT\r\n')
              setTimeout(() => socket.destroy(), 2000).unref()
            }),
        ),
      )
    },
  }
}

/** Connects, reads the whole greeting, sends EHLO and reads the whole reply; then leaves it idle. */
function openSession(port: number, localAddress: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress, noDelay: true })
    socket.setEncoding('latin1')
    let buffer = ''
    let stage: 'greeting' | 'ehlo' = 'greeting'
    const fail = (reason: string): void => {
      clearTimeout(timer)
      socket.removeAllListeners('data')
      socket.destroy()
      reject(new Error(reason))
    }
    const timer = setTimeout(() => fail(`no ${stage} reply within ${timeoutMs} ms`), timeoutMs)
    socket.on('error', (err: NodeJS.ErrnoException) =>
      fail(`connection error ${err.code ?? err.message}`),
    )
    socket.on('close', () => fail(`closed by the server during ${stage}`))
    socket.on('data', (chunk: string) => {
      buffer += chunk
      // A reply is complete at its last line: "NNN text" (RFC 5321 §4.2.1).
      const last = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buffer)
      if (!last) return
      const code = last[1] as string
      const firstLine = buffer.split('\r\n')[0] ?? ''
      buffer = ''
      if (stage === 'greeting') {
        if (code !== '220') return fail(`greeting ${firstLine.slice(0, 60)}`)
        stage = 'ehlo'
        socket.write('EHLO idle.bench.example\r\n')
        return
      }
      if (code !== '250') return fail(`EHLO answered ${firstLine.slice(0, 60)}`)
      clearTimeout(timer)
      socket.removeAllListeners('data')
      socket.removeAllListeners('close')
      socket.removeAllListeners('error')
      socket.on('error', () => undefined)
      resolve(socket)
    })
  })
}
