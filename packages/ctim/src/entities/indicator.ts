import { z } from 'zod'
import {
  ConfidenceSchema,
  SeveritySchema,
  ValidTimeSchema,
  baseFields,
  newBaseFields,
  storedFields,
} from './common.js'

const indicatorFields = {
  type: z.literal('indicator').describe('Always "indicator"'),
  producer: z.string().min(1).max(1024).describe('Who produced the indicator'),
  valid_time: ValidTimeSchema,
  indicator_type: z
    .array(z.string().max(1024))
    .optional()
    .describe('e.g. "URL Watchlist", "Domain Watchlist"'),
  alternate_ids: z.array(z.string()).optional(),
  tags: z.array(z.string().max(1024)).optional(),
  confidence: ConfidenceSchema.optional(),
  severity: SeveritySchema.optional(),
  negate: z.boolean().optional(),
  likely_impact: z.string().max(1024).optional(),
  test_mechanisms: z.array(z.string()).optional(),
  kill_chain_phases: z
    .array(z.strictObject({ kill_chain_name: z.string().min(1), phase_name: z.string().min(1) }))
    .optional(),
  specification: z
    .looseObject({
      type: z.string().min(1).describe('Judgement, ThreatBrain, SIOC, Snort, OpenIOC'),
    })
    .optional()
    .describe('How the indicator matches'),
  composite_indicator_expression: z
    .strictObject({ operator: z.enum(['and', 'or', 'not']), indicator_ids: z.array(z.string()) })
    .optional(),
}

/** An indicator as clients create it (`producer` required; `valid_time` defaults on the server). */
export const NewIndicatorSchema = z
  .strictObject({
    ...newBaseFields,
    ...indicatorFields,
    type: indicatorFields.type.optional(),
    valid_time: indicatorFields.valid_time.optional(),
  })
  .describe('A new indicator')
export type NewIndicator = z.output<typeof NewIndicatorSchema>

/** An indicator as served. */
export const IndicatorSchema = z
  .strictObject({ ...baseFields, ...storedFields, ...indicatorFields })
  .describe('An indicator')
export type Indicator = z.output<typeof IndicatorSchema>
