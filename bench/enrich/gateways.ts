/**
 * The simulated gateways of `bench:enrich`, in a process of their own (real gateways are other
 * machines: their work must not run on the hub's event loop and count as hub overhead). Each
 * is a real tunnel client over WebSocket answering observe after its fixed delay with the
 * sightings a gateway builds. Driven by the bench over IPC: `start` → `started`, `stop`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Observable } from '@postern/ctim'
import type { TunnelClient } from '@postern/tunnel'
import { connectGatewayTunnel } from '../../test/support/gateway-tunnel.js'
import { observeAnswer } from './gateway-answers.js'

export interface GatewaySpec {
  name: string
  credential: string
  delayMs: number
  /** Messages it saw carrying the observable: one sighting each. */
  messages: number
}

export type ToGateways =
  { type: 'start'; hubUrl: string; gateways: GatewaySpec[] } | { type: 'stop' }
export type FromGateways = { type: 'started' }

const clients: TunnelClient[] = []

function serve(hubUrl: string, spec: GatewaySpec): TunnelClient {
  // Answers are built once per observable list, as a gateway's tracking search would find the
  // same messages each time: the measured delay is the fixed one.
  const answers = new Map<string, unknown>()
  return connectGatewayTunnel({
    hubUrl,
    credential: spec.credential,
    answer: async (path, body) => {
      const key = JSON.stringify(body)
      let answer = answers.get(`${path} ${key}`)
      if (answer === undefined) {
        answer =
          path === '/observe/observables'
            ? observeAnswer(spec.name, body as Observable[], spec.messages)
            : { data: { status: 'ok' } }
        answers.set(`${path} ${key}`, answer)
      }
      await sleep(spec.delayMs)
      return answer
    },
  })
}

process.on('message', (message: ToGateways) => {
  if (message.type === 'start') {
    for (const spec of message.gateways) clients.push(serve(message.hubUrl, spec))
    process.send?.({ type: 'started' } satisfies FromGateways)
    return
  }
  void Promise.all(clients.map((c) => c.stop())).then(() => process.exit(0))
})
process.on('disconnect', () => process.exit(0))
