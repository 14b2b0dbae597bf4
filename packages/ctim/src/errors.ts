import { defineErrors } from '@postern/core'

/** Errors raised by `@postern/ctim`. CTIA/IROH-compatible routes turn zod issues into their own bodies (see `validation-bodies.ts`); these codes cover the helpers' own refusals. */
export const ctimErrors = defineErrors('CTIM', {
  OBSERVABLE_TYPE_UNKNOWN: {
    message: 'Unknown observable type "{type}"',
    hint: 'Use one of the CTIM observable types (docs/api.md lists them), e.g. domain, ip, url, email, sha256.',
    status: 400,
  },
  OBSERVABLE_INVALID: {
    message: 'The value is not a valid {type}: {reason}',
    hint: 'Check the value against the type (docs/api.md, "Observable types"); refang it first if it was defanged.',
    status: 400,
  },
  ID_INVALID: {
    message: 'Not a valid CTIA {entity} id: "{id}"',
    hint: 'Send the id as returned by the API: the full URL or its last segment, e.g. {entity}-<uuid>.',
    status: 400,
  },
  CONTENT_TOO_LARGE: {
    message: 'The content to inspect is {length} characters long; the limit is {limit}',
    hint: 'Inspect a smaller part of the text, or split it into several requests.',
    status: 413,
  },
  BUNDLE_INVALID: {
    message: 'The CTIM bundle is invalid: {issues}',
    hint: 'Fix the fields listed; a bundle needs "type": "bundle" and entity lists such as "judgements" or "sightings".',
    status: 400,
  },
  STIX_NOTHING_TO_EXPORT: {
    message:
      'Nothing to export: no observable can be written as a STIX 2.1 pattern and there are no notes',
    hint: 'Add observables of a supported type (url, domain, ip, ipv6, email, sha256, sha1, md5, file_name, …) or notes.',
    status: 400,
  },
})
