import { describe, expect, it } from 'vitest'
import { ObserveDataSchema, relayAnswerSchema } from '@postern/relay'
import { observeAnswer } from './gateway-answers.js'

describe('bench:enrich gateway answers', () => {
  it.each([1, 3])('%i message(s): sightings a gateway builds, inside the relay contract', (n) => {
    const observable = { type: 'domain', value: 'login-micros0ft.com' } as const
    const answer = relayAnswerSchema(ObserveDataSchema).parse(observeAnswer('gw7', [observable], n))
    const sightings = answer.data?.sightings
    expect(sightings?.count).toBe(n)
    expect(sightings?.docs).toHaveLength(n)
    const first = sightings!.docs[0] as {
      observables: unknown[]
      targets: unknown[]
      relations: { relation: string; related: { type: string; value: string } }[]
    }
    expect(first.observables).toEqual([observable])
    expect(first.targets).toHaveLength(4)
    expect(first.relations.filter((r) => r.relation === 'Sent_To')).toHaveLength(4)
    expect(first.relations).toContainEqual(
      expect.objectContaining({
        relation: 'Contains',
        related: { type: 'email_messageid', value: 'invoice-0-gw7@login-micros0ft.com' },
      }),
    )
  })
})
