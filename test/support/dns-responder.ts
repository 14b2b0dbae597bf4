import { createSocket, type Socket } from 'node:dgram'
import { createServer, type Server, type Socket as TcpSocket } from 'node:net'
import dnsPacket from 'dns-packet'

/** Records served for one name. TXT values longer than 255 bytes are split into strings. */
export interface ZoneRecords {
  A?: string[]
  AAAA?: string[]
  TXT?: string[]
  MX?: { exchange: string; priority: number }[]
  PTR?: string[]
  CNAME?: string
}

export type Zone = Record<string, ZoneRecords>

export interface DnsResponder {
  /** `127.0.0.1:port`, for resolver `servers` lists. */
  address: string
  port: number
  /** Replaces or adds the records of one name. */
  set(name: string, records: ZoneRecords): void
  /** Names whose questions (and their subdomains' questions) are never answered (to test timeouts). */
  silence(name: string): void
  /** Questions received so far, as `TYPE name`. */
  queries: string[]
  close(): Promise<void>
}

/**
 * A real authoritative-style DNS server on 127.0.0.1 (UDP and TCP on the same ephemeral port)
 * for tests: SPF, DKIM and DMARC lookups go over the wire exactly as in production, but never
 * to the internet. Unknown names answer NXDOMAIN, known names without the asked type NODATA.
 */
export async function startDnsResponder(zone: Zone = {}): Promise<DnsResponder> {
  const records = new Map<string, ZoneRecords>()
  for (const [name, value] of Object.entries(zone)) records.set(normalise(name), value)
  const silenced = new Set<string>()
  const queries: string[] = []

  const answer = (query: Buffer): Buffer | null => {
    let packet: dnsPacket.Packet
    try {
      packet = dnsPacket.decode(query)
    } catch {
      return null
    }
    const question = packet.questions?.[0]
    if (!question) return null
    const name = normalise(question.name)
    queries.push(`${question.type} ${name}`)
    for (const quiet of silenced) if (name === quiet || name.endsWith(`.${quiet}`)) return null
    const entry = records.get(name)
    const answers: dnsPacket.Answer[] = []
    if (entry?.CNAME) {
      answers.push({ type: 'CNAME', name: question.name, ttl: 60, data: entry.CNAME })
    } else if (entry) {
      answers.push(...answersFor(question.name, question.type, entry))
    }
    return dnsPacket.encode({
      id: packet.id,
      type: 'response',
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER |
        dnsPacket.RECURSION_DESIRED |
        dnsPacket.RECURSION_AVAILABLE,
      rcode: entry ? 'NOERROR' : 'NXDOMAIN',
      questions: [question],
      answers,
    } as dnsPacket.Packet)
  }

  const udp: Socket = createSocket('udp4')
  udp.on('message', (msg, rinfo) => {
    const reply = answer(msg)
    if (reply) udp.send(reply, rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
  const port = udp.address().port

  // RFC 7766: answers too large for UDP are asked again over TCP, two-byte length prefixed.
  const tcpSockets = new Set<TcpSocket>()
  const tcp: Server = createServer((socket) => {
    tcpSockets.add(socket)
    socket.on('close', () => tcpSockets.delete(socket))
    let buffer = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0)
        if (buffer.length < length + 2) break
        const reply = answer(buffer.subarray(2, length + 2))
        buffer = buffer.subarray(length + 2)
        if (reply) {
          const prefix = Buffer.alloc(2)
          prefix.writeUInt16BE(reply.length)
          socket.write(Buffer.concat([prefix, reply]))
        }
      }
    })
    socket.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject)
    tcp.listen(port, '127.0.0.1', resolve)
  })

  return {
    address: `127.0.0.1:${port}`,
    port,
    queries,
    set: (name, value) => records.set(normalise(name), value),
    silence: (name) => silenced.add(normalise(name)),
    close: async () => {
      for (const socket of tcpSockets) socket.destroy()
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ])
    },
  }
}

function answersFor(name: string, type: string, entry: ZoneRecords): dnsPacket.Answer[] {
  const ttl = 300
  switch (type) {
    case 'A':
      return (entry.A ?? []).map((data) => ({ type: 'A', name, ttl, data }))
    case 'AAAA':
      return (entry.AAAA ?? []).map((data) => ({ type: 'AAAA', name, ttl, data }))
    case 'TXT':
      return (entry.TXT ?? []).map((text) => ({ type: 'TXT', name, ttl, data: splitTxt(text) }))
    case 'MX':
      return (entry.MX ?? []).map((mx) => ({
        type: 'MX',
        name,
        ttl,
        data: { exchange: mx.exchange, preference: mx.priority },
      }))
    case 'PTR':
      return (entry.PTR ?? []).map((data) => ({ type: 'PTR', name, ttl, data }))
    default:
      return []
  }
}

/** RFC 1035 §3.3.14: a TXT record is a list of strings of at most 255 bytes each. */
function splitTxt(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8')
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255))
  return out.length > 0 ? out : [Buffer.alloc(0)]
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '')
}
