import { z } from 'zod'
import { ObservableSchema } from './entities/common.js'

/** Body of `POST /iroh/iroh-inspect/inspect`: `{content}` and no other key. */
export const InspectRequestSchema = z
  .strictObject({ content: z.string().describe('Free text to find observables in') })
  .describe('Text to inspect')

/** Answer of inspect: unique observables. */
export const InspectResponseSchema = z.array(ObservableSchema).describe('Observables found, unique')
