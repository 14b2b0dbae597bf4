import { z } from 'zod'
import {
  ConfidenceSchema,
  ObservableSchema,
  SeveritySchema,
  ValidTimeSchema,
  baseFields,
  newBaseFields,
  storedFields,
} from './common.js'
import {
  DISPOSITIONS,
  DISPOSITION_NAMES,
  DISPOSITION_NUMBERS,
  dispositionNumber,
  type DispositionName,
  type DispositionNumber,
} from './vocabularies.js'

export const DispositionSchema = z
  .literal(DISPOSITION_NUMBERS)
  .describe('Disposition: 1 Clean, 2 Malicious, 3 Suspicious, 4 Common, 5 Unknown')
export const DispositionNameSchema = z.enum(DISPOSITION_NAMES).describe('Disposition name')

/**
 * Completes a disposition pair the way CTIM does (`determine-disposition-id`): both missing →
 * 5 Unknown; one missing → derived from the other; both present and different → `null`
 * (a mismatch, which is an error).
 *
 * @example
 * resolveDisposition({ disposition: 2 })                  // { disposition: 2, disposition_name: 'Malicious' }
 * resolveDisposition({ disposition_name: 'Clean' })       // { disposition: 1, disposition_name: 'Clean' }
 * resolveDisposition({ disposition: 2, disposition_name: 'Clean' }) // null
 */
export function resolveDisposition(input: {
  disposition?: DispositionNumber | undefined
  disposition_name?: DispositionName | undefined
}): { disposition: DispositionNumber; disposition_name: DispositionName } | null {
  const { disposition, disposition_name } = input
  if (disposition === undefined && disposition_name === undefined) {
    return { disposition: 5, disposition_name: 'Unknown' }
  }
  if (disposition === undefined) {
    return {
      disposition: dispositionNumber(disposition_name as DispositionName),
      disposition_name: disposition_name as DispositionName,
    }
  }
  const expected = DISPOSITIONS[disposition]
  if (disposition_name !== undefined && disposition_name !== expected) return null
  return { disposition, disposition_name: expected }
}

function withDisposition<
  T extends { disposition?: DispositionNumber; disposition_name?: DispositionName },
>(schema: z.ZodType<T>) {
  return schema
    .superRefine((value, ctx) => {
      if (resolveDisposition(value) === null) {
        ctx.addIssue({
          code: 'custom',
          path: ['disposition_name'],
          message: `disposition_name "${value.disposition_name}" does not match disposition ${value.disposition} ("${DISPOSITIONS[value.disposition as DispositionNumber]}")`,
        })
      }
    })
    .transform((value) => ({
      ...value,
      ...(resolveDisposition(value) as NonNullable<ReturnType<typeof resolveDisposition>>),
    }))
}

const judgementFields = {
  type: z.literal('judgement').describe('Always "judgement"'),
  observable: ObservableSchema,
  disposition: DispositionSchema.optional(),
  disposition_name: DispositionNameSchema.optional(),
  priority: z
    .number()
    .int()
    .min(0)
    .max(100)
    .describe('0–100; higher wins when judgements disagree'),
  confidence: ConfidenceSchema,
  severity: SeveritySchema,
  valid_time: ValidTimeSchema.optional(),
  reason: z.string().max(1024).optional().describe('Why this disposition'),
  reason_uri: z.string().max(2048).optional().describe('URI backing the reason'),
}

/**
 * A judgement as clients create it (CTIA `NewJudgement`): observable, source, priority,
 * severity and confidence required; the disposition pair is completed (missing half derived,
 * both missing = 5 Unknown) and a mismatch is an error.
 *
 * @example
 * NewJudgementSchema.parse({ observable: { type: 'domain', value: 'evil.com' }, disposition: 2, source: 'analyst', priority: 95, severity: 'High', confidence: 'High' }).disposition_name // 'Malicious'
 */
export const NewJudgementSchema = withDisposition(newJudgementObject()).describe('A new judgement')
export type NewJudgement = z.output<typeof NewJudgementSchema>

function newJudgementObject() {
  return z.strictObject({
    ...newBaseFields,
    ...judgementFields,
    type: judgementFields.type.optional(),
    source: z.string().min(1).max(2048).describe('Who made the judgement'),
  })
}

/** A judgement inside a bundle: new or stored form (CTIA exports carry stored fields). */
export const BundleJudgementSchema = withDisposition(newJudgementObject().extend(storedFields))

/** A stored judgement as the API serves it. */
export const JudgementSchema = withDisposition(
  z.strictObject({
    ...baseFields,
    ...storedFields,
    ...judgementFields,
    source: z.string().min(1).max(2048).describe('Who made the judgement'),
    valid_time: ValidTimeSchema,
  }),
).describe('A judgement')
export type Judgement = z.output<typeof JudgementSchema>

/** A verdict: the current disposition of an observable, derived from judgements. */
export const VerdictSchema = withDisposition(
  z.strictObject({
    type: z.literal('verdict').describe('Always "verdict"'),
    id: z.string().optional().describe('Verdict id, when stored'),
    schema_version: z.string().optional(),
    disposition: DispositionSchema,
    disposition_name: DispositionNameSchema.optional(),
    observable: ObservableSchema,
    valid_time: ValidTimeSchema,
    judgement_id: z.string().optional().describe('The judgement this verdict comes from'),
    tlp: z.enum(['red', 'amber', 'green', 'white']).optional(),
    ...storedFields,
  }),
).describe('A verdict')
export type Verdict = z.output<typeof VerdictSchema>
