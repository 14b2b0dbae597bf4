import { describe, expect, it } from 'vitest'
import {
  buildCtimBundle,
  bundleObservables,
  casebookToCtimBundle,
  importCtimBundle,
} from './ctim-bundle.js'
import { BundleSchema, NewBundleSchema } from './entities/bundle.js'

const NOW = new Date('2024-03-12T09:30:15.000Z')

describe('CTIM bundle export', () => {
  const casebook = {
    id: 'https://hub.example.com:443/ctia/casebook/casebook-0b3d2e7a-9c1f-4e5a-8b6d-2f4a6c8e0a1b',
    title: 'Invoice phishing',
    description: 'Wave of invoice lures.',
    tlp: 'amber' as const,
    timestamp: '2024-03-11T08:00:00.000Z',
    observables: [
      { type: 'domain' as const, value: 'evil.com' },
      { type: 'email' as const, value: 'billing@evil.com' },
    ],
    texts: [{ type: 'note', text: 'Reported by 14 users.' }],
    bundle: {
      judgements: [
        {
          observable: { type: 'domain' as const, value: 'evil.com' },
          source: 'analyst',
          priority: 95,
          severity: 'High' as const,
          confidence: 'High' as const,
          disposition: 2 as const,
          disposition_name: 'Malicious' as const,
        },
      ],
    },
  }

  it('exports a casebook as a valid CTIM bundle', () => {
    const bundle = casebookToCtimBundle(casebook, {
      source: 'Postern hub (Example Corp)',
      now: NOW,
    })
    expect(BundleSchema.parse(bundle)).toBeTruthy()
    expect(bundle).toMatchObject({
      type: 'bundle',
      source: 'Postern hub (Example Corp)',
      title: 'Invoice phishing',
      tlp: 'amber',
      external_ids: [casebook.id],
      valid_time: { start_time: NOW.toISOString() },
    })
    expect(bundle.description).toBe('Wave of invoice lures.\n\n**note:** Reported by 14 users.')
    expect(bundle.judgements).toHaveLength(1)
    expect(bundle.sightings?.[0]).toMatchObject({
      observables: casebook.observables,
      observed_time: { start_time: '2024-03-11T08:00:00.000Z' },
      count: 1,
    })
  })

  it('builds bundles without empty lists', () => {
    const bundle = buildCtimBundle({
      source: 'x',
      entities: { incidents: [], sightings: [] },
      now: NOW,
    })
    expect(bundle).not.toHaveProperty('incidents')
    expect(bundle.id).toMatch(/^transient:bundle-[0-9a-f-]{36}$/)
    expect(BundleSchema.parse(bundle)).toBeTruthy()
  })
})

describe('CTIM bundle import', () => {
  it('round-trips an export and lists its observables', () => {
    const exported = casebookToCtimBundle(
      { id: 'casebook-1', observables: [{ type: 'ip', value: '192.0.2.1' }], texts: [] },
      { source: 'peer hub', now: NOW },
    )
    const imported = importCtimBundle(JSON.parse(JSON.stringify(exported)))
    expect(imported.observables).toEqual([{ type: 'ip', value: '192.0.2.1' }])
    expect(imported.counts).toEqual({ sightings: 1 })
  })

  it('collects normalised observables from judgements, verdicts and sighting relations, not targets', () => {
    const bundle = NewBundleSchema.parse({
      type: 'bundle',
      source: 'feed',
      judgements: [
        {
          observable: { type: 'domain', value: 'EVIL.com' },
          source: 'f',
          priority: 90,
          severity: 'High',
          confidence: 'High',
        },
      ],
      verdicts: [
        {
          type: 'verdict',
          disposition: 2,
          observable: { type: 'ip', value: '192.0.2.9' },
          valid_time: {},
        },
      ],
      sightings: [
        {
          observed_time: { start_time: '2024-03-12T00:00:00Z' },
          observables: [{ type: 'url', value: 'HTTPS://Evil.com/a' }],
          relations: [
            {
              origin: 'gw',
              relation: 'Sent_To',
              source: { type: 'email', value: 'x@evil.com' },
              related: { type: 'email', value: 'victim@corp.com' },
            },
          ],
          targets: [
            {
              type: 'endpoint',
              observables: [{ type: 'hostname', value: 'ws-1' }],
              observed_time: { start_time: '2024-03-12T00:00:00Z' },
            },
          ],
        },
      ],
    })
    expect(bundleObservables(bundle)).toEqual([
      { type: 'domain', value: 'evil.com' },
      { type: 'ip', value: '192.0.2.9' },
      { type: 'url', value: 'https://evil.com/a' },
      { type: 'email', value: 'x@evil.com' },
      { type: 'email', value: 'victim@corp.com' },
    ])
  })

  it('refuses invalid bundles with a coded error naming the problem', () => {
    expect(() =>
      importCtimBundle({ type: 'bundle', judgements: [{ observable: { type: 'ip', value: '' } }] }),
    ).toThrow(
      expect.objectContaining({
        code: 'CTIM_ERR_BUNDLE_INVALID',
        status: 400,
        message: expect.stringContaining('judgements.0.'),
      }),
    )
    expect(() => importCtimBundle('not a bundle')).toThrow(
      expect.objectContaining({ code: 'CTIM_ERR_BUNDLE_INVALID' }),
    )
  })
})
