import { defineErrors } from '@postern/core'

/**
 * Errors of the hub's private-intelligence area (casebooks, incidents, judgements, sharing,
 * watchlist). The CTIA routes answer them in CTIA's body shapes (see ctia-http.ts); the hub's own
 * `/api/v1` routes answer them as coded errors.
 */
export const privateIntelErrors = defineErrors('HUB_PI', {
  ENTITY_NOT_FOUND: {
    message: 'No {entity} with id {id} in this organisation',
    hint: 'Check the id (the full URL or its last segment, e.g. casebook-<uuid>); search with GET /ctia/{entity}/search.',
    status: 404,
  },
  INVALID_QUERY: {
    message: 'The search query is invalid: {reason}',
    hint: 'Use field:value, "phrases", AND/OR/NOT, wildcards and [from TO to]; fields are listed in docs/api.md.',
    status: 400,
  },
  INVALID_ENTITY: {
    message: 'The {entity} is invalid: {reason}',
    hint: 'Correct the fields named in the message; the CTIM shapes are described in docs/api.md.',
    status: 400,
  },
  LINK_TARGET_INVALID: {
    message: 'An incident link needs exactly one of casebook_id or investigation_id',
    hint: 'Send {"casebook_id": "<id>"} (or investigation_id), not both and not neither.',
    status: 400,
  },
  ACTIVE_CASE_NEEDS_USER: {
    message: 'Only a signed-in user has an active case',
    hint: 'Call this as a console user (or with an API client that belongs to a user), or add to a casebook by id with POST /ctia/casebook/{id}/observables.',
    status: 400,
  },
  WATCH_EXISTS: {
    message: 'The organisation already watches {type} {value}',
    hint: 'Update the existing watch (GET /api/v1/watchlist to find it) instead of adding another.',
    status: 409,
  },
  BUNDLE_TOO_LARGE: {
    message: 'The bundle has {count} entities; at most {max} are imported at once',
    hint: 'Split the bundle into smaller ones and import them one after another.',
    status: 413,
  },
})
