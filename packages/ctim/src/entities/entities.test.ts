import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { irohValidationBody, ctiaValidationBody } from '../validation-bodies.js'
import { NewBundleSchema } from './bundle.js'
import {
  CasebookSchema,
  CasebookTextsOperationSchema,
  NewCasebookSchema,
  applyCasebookOperation,
  type NewCasebook,
} from './casebook.js'
import { completeNewEntity, normalizeTime } from './common.js'
import { IncidentLinkSchema, NewIncidentSchema, applyIncidentStatus } from './incident.js'
import { NewIndicatorSchema } from './indicator.js'
import {
  JudgementSchema,
  NewJudgementSchema,
  VerdictSchema,
  resolveDisposition,
} from './judgement.js'
import { NewRelationshipSchema } from './relationship.js'
import { NewSightingSchema, SightingSchema } from './sighting.js'
import { INCIDENT_STATUSES, OBSERVED_RELATIONS } from './vocabularies.js'

const NOW = new Date('2024-03-12T09:30:15.000Z')

describe('casebook', () => {
  // The reference's round trip (SX investigations.rst).
  const posted = {
    type: 'casebook',
    title: 'Case of the phishing wave',
    observables: [{ value: 'cisco.com', type: 'domain' }],
    tlp: 'amber',
    timestamp: '2018-07-26T16:14:40.000Z',
    schema_version: '1.0.9',
    external_ids: ['3'],
  }

  it('accepts the reference POST body and serves it back with server fields', () => {
    const parsed = NewCasebookSchema.parse(posted)
    const stored = completeNewEntity(parsed, {
      type: 'casebook',
      id: 'https://hub.example.com:443/ctia/casebook/casebook-1b2c3d4e-0000-4000-8000-000000000001',
      now: NOW,
      owner: 'user-1',
      groups: ['org-1'],
      clientId: 'client-abc',
    })
    expect(CasebookSchema.parse(stored)).toEqual({
      ...posted,
      id: 'https://hub.example.com:443/ctia/casebook/casebook-1b2c3d4e-0000-4000-8000-000000000001',
      owner: 'user-1',
      groups: ['org-1'],
      client_id: 'client-abc',
      created: '2024-03-12T09:30:15.000Z',
      modified: '2024-03-12T09:30:15.000Z',
    })
  })

  it('needs nothing at all to create', () => {
    expect(NewCasebookSchema.parse({})).toEqual({})
    const stored = completeNewEntity({}, { type: 'casebook', id: 'casebook-x', now: NOW })
    expect(stored).toMatchObject({
      tlp: 'green',
      schema_version: '1.3.29',
      timestamp: NOW.toISOString(),
    })
  })

  it('parses the texts operation of the official client test', () => {
    const body = { operation: 'remove', texts: [{ type: 'test type', text: 'test text' }] }
    expect(CasebookTextsOperationSchema.parse(body)).toEqual(body)
  })

  it('applies add, remove and replace', () => {
    const base: NewCasebook = { observables: [{ type: 'domain', value: 'a.com' }] }
    const added = applyCasebookOperation(base, {
      field: 'observables',
      operation: 'add',
      items: [
        { type: 'domain', value: 'a.com' },
        { type: 'ip', value: '192.0.2.1' },
      ],
    })
    expect(added.observables).toEqual([
      { type: 'domain', value: 'a.com' },
      { type: 'ip', value: '192.0.2.1' },
    ])
    expect(base.observables).toHaveLength(1)
    const removed = applyCasebookOperation(added, {
      field: 'observables',
      operation: 'remove',
      items: [{ type: 'domain', value: 'a.com' }],
    })
    expect(removed.observables).toEqual([{ type: 'ip', value: '192.0.2.1' }])
    const replaced = applyCasebookOperation(removed, {
      field: 'texts',
      operation: 'replace',
      items: [{ type: 'note', text: 'x' }],
    })
    expect(replaced.texts).toEqual([{ type: 'note', text: 'x' }])
    const bundled = applyCasebookOperation(replaced, {
      field: 'bundle',
      operation: 'add',
      bundle: { sightings: [{ id: 's1', observed_time: { start_time: '2024-03-12T00:00:00Z' } }] },
    })
    const again = applyCasebookOperation(bundled, {
      field: 'bundle',
      operation: 'add',
      bundle: {
        sightings: [
          { id: 's1', observed_time: { start_time: '2024-03-12T00:00:00Z' } },
          { id: 's2', observed_time: { start_time: '2024-03-12T00:00:00Z' } },
        ],
      },
    })
    expect(again.bundle?.sightings?.map((s) => s.id)).toEqual(['s1', 's2'])
  })

  it('answers a disallowed key and a bad TLP in the CTIA shape', () => {
    const body = { title: 'x', tlp: 'blue', colour: 'red' }
    const result = NewCasebookSchema.safeParse(body)
    expect(result.success).toBe(false)
    const answer = ctiaValidationBody(result.error as z.ZodError, body)
    expect(answer.error).toBe('Spec Validation Client Error')
    expect(answer.type).toBe('Invalid Entity Error')
    expect(answer.message.split('\n').sort()).toEqual([
      'In: [:colour] fails spec: disallowed key',
      'In: [:tlp] val: "blue" fails spec: must be one of "red" "amber" "green" "white"',
    ])
  })

  it('refuses an observable type outside the vocabulary and a blank value', () => {
    const body = {
      observables: [
        { type: 'domain', value: 'ok.com' },
        { type: 'hash', value: '' },
      ],
    }
    const result = NewCasebookSchema.safeParse(body)
    expect(irohValidationBody(result.error as z.ZodError, body)).toEqual({
      observables: [
        null,
        {
          type: expect.stringMatching(/^\(not \(#\{"acudid" .* "hash"\)\)$/),
          value: expect.stringContaining('(not (valid? "" '),
        },
      ],
    })
  })
})

describe('judgements and verdicts', () => {
  const judgement = {
    observable: { type: 'domain', value: 'evil.com' },
    source: 'Analyst',
    priority: 95,
    severity: 'High',
    confidence: 'High',
  }

  it.each([
    [{}, 5, 'Unknown'],
    [{ disposition: 2 }, 2, 'Malicious'],
    [{ disposition_name: 'Clean' }, 1, 'Clean'],
    [{ disposition: 3, disposition_name: 'Suspicious' }, 3, 'Suspicious'],
    [{ disposition: 4 }, 4, 'Common'],
  ])('derives the disposition pair from %j', (pair, number, name) => {
    const parsed = NewJudgementSchema.parse({ ...judgement, ...pair })
    expect(parsed.disposition).toBe(number)
    expect(parsed.disposition_name).toBe(name)
  })

  it('refuses a mismatched pair', () => {
    const body = { ...judgement, disposition: 2, disposition_name: 'Clean' }
    const result = NewJudgementSchema.safeParse(body)
    expect(result.success).toBe(false)
    expect(ctiaValidationBody(result.error as z.ZodError, body).message).toBe(
      'In: [:disposition_name] val: "Clean" fails spec: disposition_name "Clean" does not match disposition 2 ("Malicious")',
    )
    expect(resolveDisposition({ disposition: 2, disposition_name: 'Clean' })).toBeNull()
  })

  it('lists the missing required keys compojure-style', () => {
    const result = NewJudgementSchema.safeParse({ observable: { type: 'ip', value: '192.0.2.1' } })
    expect(
      irohValidationBody(result.error as z.ZodError, {
        observable: { type: 'ip', value: '192.0.2.1' },
      }),
    ).toEqual({
      priority: 'missing-required-key',
      confidence: 'missing-required-key',
      severity: 'missing-required-key',
      source: 'missing-required-key',
    })
  })

  it('refuses dispositions outside 1–5 and priorities outside 0–100', () => {
    expect(NewJudgementSchema.safeParse({ ...judgement, disposition: 6 }).success).toBe(false)
    expect(NewJudgementSchema.safeParse({ ...judgement, priority: 101 }).success).toBe(false)
  })

  it('validates stored judgements and verdicts', () => {
    const stored = JudgementSchema.parse({
      ...judgement,
      id: 'https://hub.example.com/ctia/judgement/judgement-1',
      type: 'judgement',
      schema_version: '1.3.29',
      disposition: 2,
      valid_time: { start_time: '2024-03-12T00:00:00.000Z', end_time: '2525-01-01T00:00:00.000Z' },
      owner: 'u',
      groups: ['o'],
    })
    expect(stored.disposition_name).toBe('Malicious')
    const verdict = VerdictSchema.parse({
      type: 'verdict',
      disposition: 2,
      observable: {
        type: 'sha256',
        value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      valid_time: { start_time: '2024-03-12T00:00:00.000Z' },
      judgement_id: 'transient:judgement-1',
    })
    expect(verdict.disposition_name).toBe('Malicious')
  })

  it('renders an OpenAPI (JSON Schema) for request bodies with transforms', () => {
    const schema = z.toJSONSchema(NewJudgementSchema, { io: 'input' }) as { required?: string[] }
    expect(schema.required).toEqual(expect.arrayContaining(['observable', 'source', 'priority']))
  })
})

describe('sightings', () => {
  const message = {
    observed_time: { start_time: '2024-03-12T09:30:15.000Z' },
    observables: [
      { type: 'email', value: 'attacker@evil.com' },
      { type: 'cisco_mid', value: '4242' },
    ],
    relations: [
      {
        origin: 'Postern Email Gateway',
        relation: 'Sent_To',
        source: { type: 'email', value: 'attacker@evil.com' },
        related: { type: 'email', value: 'alice@corp.com' },
      },
      {
        origin: 'Postern Email Gateway',
        relation: 'Contains',
        source: { type: 'cisco_mid', value: '4242' },
        related: { type: 'url', value: 'https://evil.com/x' },
      },
    ],
    targets: [
      {
        type: 'process.email-service',
        observables: [{ type: 'email', value: 'alice@corp.com' }],
        observed_time: { start_time: '2024-03-12T09:30:15.000Z' },
      },
    ],
    resolution: 'blocked',
    severity: 'High',
    sensor: 'network.gateway',
  }

  it('needs only observed_time when new', () => {
    expect(
      NewSightingSchema.parse({ observed_time: { start_time: '2024-03-12T09:30:15Z' } }),
    ).toBeTruthy()
    expect(NewSightingSchema.parse(message).relations).toHaveLength(2)
  })

  it('needs count, confidence and ids when served', () => {
    const body = {
      ...message,
      type: 'sighting',
      id: 'transient:sighting-1',
      schema_version: '1.3.29',
    }
    const result = SightingSchema.safeParse(body)
    expect(irohValidationBody(result.error as z.ZodError, body)).toEqual({
      count: 'missing-required-key',
      confidence: 'missing-required-key',
    })
    expect(SightingSchema.parse({ ...body, count: 1, confidence: 'High' }).count).toBe(1)
  })

  it('has a closed relation list', () => {
    expect(OBSERVED_RELATIONS).toEqual(
      expect.arrayContaining([
        'Connected_To',
        'Resolved_To',
        'Downloaded_From',
        'Contains',
        'Attached_To',
        'Leaked_From',
        'Sent_To',
      ]),
    )
    const body = { ...message, relations: [{ ...message.relations[0], relation: 'Emailed_To' }] }
    expect(NewSightingSchema.safeParse(body).success).toBe(false)
  })

  it('refuses an end before the start', () => {
    expect(
      NewSightingSchema.safeParse({
        observed_time: { start_time: '2024-03-12T10:00:00Z', end_time: '2024-03-12T09:00:00Z' },
      }).success,
    ).toBe(false)
  })

  it('refuses times that are not ISO 8601', () => {
    expect(
      NewSightingSchema.safeParse({ observed_time: { start_time: 'yesterday' } }).success,
    ).toBe(false)
    expect(normalizeTime('2024-03-12T11:30:15+02:00')).toBe('2024-03-12T09:30:15.000Z')
  })
})

describe('incidents', () => {
  const incident = {
    confidence: 'High',
    status: 'New',
    incident_time: { opened: '2024-03-12T09:30:15.000Z' },
    title: 'Invoice phishing wave',
    severity: 'High',
    categories: ['Malicious Code'],
    assignees: ['alice'],
  }

  it('knows the status vocabulary', () => {
    expect(INCIDENT_STATUSES).toEqual(
      expect.arrayContaining([
        'New',
        'Open',
        'Open: Investigating',
        'Hold',
        'Closed',
        'Closed: False Positive',
        'Rejected',
      ]),
    )
    expect(NewIncidentSchema.parse(incident).status).toBe('New')
    expect(NewIncidentSchema.safeParse({ ...incident, status: 'Done' }).success).toBe(false)
  })

  it('follows CTIA rules for incident_time on status changes', () => {
    const parsed = NewIncidentSchema.parse(incident)
    const opened = applyIncidentStatus(parsed, 'Open', new Date('2024-03-12T10:00:00.000Z'))
    expect(opened.incident_time.opened).toBe('2024-03-12T10:00:00.000Z')
    const investigating = applyIncidentStatus(
      opened,
      'Open: Investigating',
      new Date('2024-03-12T10:05:00.000Z'),
    )
    expect(investigating.incident_time.opened).toBe('2024-03-12T10:00:00.000Z')
    const closed = applyIncidentStatus(
      investigating,
      'Closed: False Positive',
      new Date('2024-03-12T11:00:00.000Z'),
    )
    expect(closed.incident_time.closed).toBe('2024-03-12T11:00:00.000Z')
    expect(closed.status).toBe('Closed: False Positive')
  })

  it('links to exactly one of casebook and investigation', () => {
    expect(IncidentLinkSchema.safeParse({ casebook_id: 'casebook-1' }).success).toBe(true)
    expect(IncidentLinkSchema.safeParse({}).success).toBe(false)
    expect(IncidentLinkSchema.safeParse({ casebook_id: 'a', investigation_id: 'b' }).success).toBe(
      false,
    )
  })
})

describe('relationships, indicators, bundles', () => {
  it('validates relationships and indicators', () => {
    expect(
      NewRelationshipSchema.parse({
        relationship_type: 'member-of',
        source_ref: 'a',
        target_ref: 'b',
      }),
    ).toBeTruthy()
    expect(NewRelationshipSchema.safeParse({ relationship_type: 'member-of' }).success).toBe(false)
    expect(
      NewIndicatorSchema.parse({
        producer: 'Postern',
        indicator_type: ['URL Watchlist'],
        specification: { type: 'Judgement', judgements: [] },
      }).producer,
    ).toBe('Postern')
  })

  it('accepts bundles with modelled and opaque entities, refuses unknown lists', () => {
    const bundle = {
      type: 'bundle',
      source: 'partner feed',
      judgements: [
        {
          observable: { type: 'ip', value: '192.0.2.1' },
          source: 'feed',
          priority: 90,
          severity: 'High',
          confidence: 'High',
          disposition: 2,
          owner: 'x',
        },
      ],
      malwares: [{ type: 'malware', name: 'AgentTesla', labels: ['spyware'] }],
      judgement_refs: ['https://other.example/ctia/judgement/judgement-1'],
    }
    const parsed = NewBundleSchema.parse(bundle)
    expect(parsed.judgements?.[0]?.disposition_name).toBe('Malicious')
    expect(NewBundleSchema.safeParse({ ...bundle, gizmos: [] }).success).toBe(false)
  })
})
