import { z } from 'zod'
import { baseFields, newBaseFields, storedFields } from './common.js'

const relationshipFields = {
  type: z.literal('relationship').describe('Always "relationship"'),
  relationship_type: z
    .string()
    .min(1)
    .max(1024)
    .describe('e.g. sighting-of, indicates, related-to, member-of (open vocabulary)'),
  source_ref: z.string().min(1).max(2048).describe('Id of the source entity'),
  target_ref: z.string().min(1).max(2048).describe('Id of the target entity'),
}

/**
 * A relationship between two entities, as clients create it.
 *
 * @example
 * NewRelationshipSchema.parse({ relationship_type: 'member-of', source_ref: casebookId, target_ref: incidentId })
 */
export const NewRelationshipSchema = z
  .strictObject({
    ...newBaseFields,
    ...relationshipFields,
    type: relationshipFields.type.optional(),
  })
  .describe('A new relationship')
export type NewRelationship = z.output<typeof NewRelationshipSchema>

/** A relationship as served. */
export const RelationshipSchema = z
  .strictObject({ ...baseFields, ...storedFields, ...relationshipFields })
  .describe('A relationship')
export type Relationship = z.output<typeof RelationshipSchema>
