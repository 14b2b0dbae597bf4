import { describe, expect, it } from 'vitest'
import { validateConfig } from '@postern/core'
import { gatewayConfigSchema } from '../config.js'
import { gatewayFeatures } from './features.js'
import { buildTelemetryPayload } from './telemetry.js'

const HASH = 'scrypt$16384$8$1$c2FsdA$aGFzaA'

function enabled(raw: unknown): string[] {
  return gatewayFeatures(validateConfig(gatewayConfigSchema, raw))
    .filter((f) => f.enabled)
    .map((f) => f.name)
}

const inbound = { name: 'inbound', smtp: '127.0.0.1:0' }

describe('usage telemetry features from the gateway configuration', () => {
  it('reports only the always-on features of an empty configuration', () => {
    expect(enabled({})).toEqual(['Durable Spool', 'Message Tracking', 'Reverse DNS for Tracking'])
  })

  it.each([
    ['a listener', { listeners: [inbound] }, ['SMTP Listeners', 'SMTP Smuggling Protection']],
    [
      'STARTTLS with the self-signed certificate',
      { listeners: [inbound], tls: { selfSigned: true } },
      ['STARTTLS'],
    ],
    [
      'a pregreet delay and a rate',
      {
        listeners: [
          {
            ...inbound,
            hat: [
              {
                senderGroup: 'UNKNOWN',
                match: ['*'],
                policy: 'THROTTLED',
                pregreet: '5s',
                rate: { recipients: 10 },
              },
            ],
          },
        ],
      },
      ['Pregreet Detection', 'Sender Rate Limiting'],
    ],
    [
      'SMTP AUTH and inbound TLS required',
      {
        tls: { selfSigned: true },
        listeners: [
          {
            ...inbound,
            auth: { enabled: true, users: [{ username: 'u', passwordHash: HASH }] },
            hat: [{ senderGroup: 'ALL', match: ['*'], policy: 'ACCEPTED', tls: 'required' }],
          },
        ],
      },
      ['SMTP Authentication', 'TLS Required (Inbound)'],
    ],
    [
      'routes with outbound TLS required and a RAT',
      {
        listeners: [{ ...inbound, rat: [{ recipient: 'example.com', action: 'ACCEPT' }] }],
        smtpRoutes: [{ domain: 'example.com', to: ['127.0.0.1:25'], tls: 'required' }],
      },
      ['Recipient Access Table', 'SMTP Routes', 'TLS Required (Outbound)'],
    ],
    ['public metrics', { api: { publicMetrics: true } }, ['Public Metrics']],
  ])('sees %s', (_what, raw, expected) => {
    expect(enabled(raw)).toEqual(expect.arrayContaining(expected))
  })

  it('does not claim smuggling protection when a listener normalises bare line endings', () => {
    expect(
      enabled({ listeners: [inbound, { ...inbound, name: 'legacy', lineEndings: 'normalize' }] }),
    ).not.toContain('SMTP Smuggling Protection')
  })

  it('gives every feature the seed fields, sorted by name, with a stable id', () => {
    const features = gatewayFeatures(validateConfig(gatewayConfigSchema, {}))
    const payload = buildTelemetryPayload({
      uid: 'U',
      model: 'postern-gateway',
      version: '0.1.0',
      installDate: 1,
      deployment: 'standalone',
      accountId: null,
      features,
      now: 2,
    })
    expect(payload.features.map((f) => f.name)).toEqual(
      [...features.map((f) => f.name)].sort((a, b) => a.localeCompare(b)),
    )
    for (const f of payload.features) {
      expect(f).toMatchObject({ status: 'compliance', expiry: null })
      expect(f.featureId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-/)
    }
  })
})
