import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { InspectRequestSchema } from './inspect-schemas.js'
import {
  compojureErrors,
  ctiaValidationBody,
  irohProfileValidationBody,
  irohValidationBody,
} from './validation-bodies.js'

function fail(schema: z.ZodType, input: unknown): z.ZodError {
  const result = schema.safeParse(input)
  if (result.success) throw new Error('expected a failure')
  return result.error
}

describe('IROH compojure-style bodies', () => {
  it.each([
    [{}, { content: 'missing-required-key' }],
    [{ content: 'x', extra: 1 }, { extra: 'disallowed-key' }],
    [{ content: 42 }, { content: '(not (instance? java.lang.String 42))' }],
    [{ content: null }, { content: '(not (instance? java.lang.String nil))' }],
  ])('inspect %j → %j', (input, expected) => {
    expect(irohValidationBody(fail(InspectRequestSchema, input), input)).toEqual(expected)
  })

  it('answers a body that is not an object with one message', () => {
    expect(irohValidationBody(fail(InspectRequestSchema, 'text'), 'text')).toBe(
      '(not (map? "text"))',
    )
    expect(irohValidationBody(fail(InspectRequestSchema, [1]), [1])).toBe('(not (map? [1]))')
  })

  it('nests fields and keeps list positions', () => {
    const schema = z.strictObject({
      list: z.array(z.strictObject({ type: z.enum(['ip', 'domain']), value: z.string() })),
    })
    const input = {
      list: [
        { type: 'ip', value: '1' },
        { type: 'ip', value: '2' },
        { type: 'x', value: 3, more: true },
      ],
    }
    expect(compojureErrors(fail(schema, input), input)).toEqual({
      list: [
        null,
        null,
        {
          type: '(not (#{"ip" "domain"} "x"))',
          value: '(not (instance? java.lang.String 3))',
          more: 'disallowed-key',
        },
      ],
    })
  })

  it('wraps profile errors in "errors"', () => {
    const schema = z.strictObject({ name: z.string() })
    const input = { name: 'Org', invalid_key: 1 }
    expect(irohProfileValidationBody(fail(schema, input), input)).toEqual({
      errors: { invalid_key: 'disallowed-key' },
    })
  })

  it('cuts long echoed values', () => {
    const input = { content: 'x'.repeat(500) }
    const schema = z.strictObject({ content: z.string().max(10) })
    const message = (compojureErrors(fail(schema, input), input) as { content: string }).content
    expect(message.length).toBeLessThan(200)
  })
})

describe('CTIA body', () => {
  it('has the exact keys and one line per problem', () => {
    const schema = z.strictObject({ title: z.string(), tlp: z.enum(['red', 'green']).optional() })
    const input = { tlp: 'blue', color: 'x' }
    expect(ctiaValidationBody(fail(schema, input), input)).toEqual({
      error: 'Spec Validation Client Error',
      type: 'Invalid Entity Error',
      message: expect.any(String),
    })
    expect(ctiaValidationBody(fail(schema, input), input).message.split('\n').sort()).toEqual([
      'In: [:color] fails spec: disallowed key',
      'In: [:title] fails spec: missing required key',
      'In: [:tlp] val: "blue" fails spec: must be one of "red" "green"',
    ])
  })
})
