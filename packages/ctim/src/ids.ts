import { randomUUID } from 'node:crypto'
import { CTIA_ENTITY_TYPES, type CtiaEntityType } from './entities/vocabularies.js'
import { ctimErrors } from './errors.js'

/**
 * CTIA entity ids. A stored entity's id is a URL on the private-intel host,
 * `https://<host>/ctia/casebook/casebook-<uuid>`; clients usually send back only the last path
 * segment (the short id), sometimes the whole URL percent-encoded into a path segment. All three
 * spellings name the same entity.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A parsed CTIA id. */
export interface CtiaId {
  entity: CtiaEntityType
  /** Lower-case UUID. */
  uuid: string
  /** `<entity>-<uuid>`, the last path segment. */
  shortId: string
  /** True for `transient:<entity>-<uuid>` ids (entities inside bundles that are not stored yet). */
  transient: boolean
}

/**
 * A new short id for an entity type.
 *
 * @example
 * newShortId('casebook') // 'casebook-1f0c…'
 */
export function newShortId(entity: CtiaEntityType, uuid: string = randomUUID()): string {
  return `${entity}-${uuid.toLowerCase()}`
}

/**
 * The full id URL of an entity: `<baseUrl>/ctia/<entity>/<shortId>`. `baseUrl` is the public
 * origin clients reach the private-intel API at (`https://hub.example.com:443`), without a
 * trailing slash.
 *
 * @example
 * ctiaIdUrl('https://hub.example.com:443', 'casebook', 'casebook-1f0c…') // 'https://hub.example.com:443/ctia/casebook/casebook-1f0c…'
 */
export function ctiaIdUrl(baseUrl: string, entity: CtiaEntityType, shortId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/ctia/${entity}/${shortId}`
}

/**
 * A new entity id: full URL and short id.
 *
 * @example
 * const { id, shortId } = newCtiaId('https://hub.example.com:443', 'incident')
 */
export function newCtiaId(
  baseUrl: string,
  entity: CtiaEntityType,
): { id: string; shortId: string } {
  const shortId = newShortId(entity)
  return { id: ctiaIdUrl(baseUrl, entity, shortId), shortId }
}

function parseShort(segment: string): Omit<CtiaId, 'transient'> | null {
  const lower = segment.toLowerCase()
  for (const entity of CTIA_ENTITY_TYPES) {
    if (!lower.startsWith(`${entity}-`)) continue
    const uuid = lower.slice(entity.length + 1)
    if (UUID.test(uuid)) return { entity, uuid, shortId: `${entity}-${uuid}` }
  }
  return null
}

/**
 * Parses any spelling of a CTIA id — full URL, percent-encoded URL, short id, or
 * `transient:` id — optionally requiring an entity type. Returns null when it is none of those.
 *
 * @example
 * parseCtiaId('https://private.intel.amp.cisco.com:443/ctia/casebook/casebook-0b3d…', 'casebook')
 * parseCtiaId('casebook-0b3d…') // { entity: 'casebook', uuid: '0b3d…', shortId: 'casebook-0b3d…', transient: false }
 */
export function parseCtiaId(input: string, expected?: CtiaEntityType): CtiaId | null {
  let text = input.trim()
  if (text.length > 2048) return null
  if (/%[0-9a-f]{2}/i.test(text)) {
    try {
      text = decodeURIComponent(text)
    } catch {
      return null
    }
  }
  let transient = false
  let segment = text
  if (text.startsWith('transient:')) {
    transient = true
    segment = text.slice('transient:'.length)
  } else if (/^https?:\/\//i.test(text)) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return null
    }
    const match = /^\/ctia\/([a-z-]+)\/([^/]+)$/.exec(url.pathname)
    if (!match) return null
    segment = match[2] as string
    const parsed = parseShort(segment)
    if (parsed === null || parsed.entity !== match[1]) return null
  }
  const parsed = parseShort(segment)
  if (parsed === null) return null
  if (expected !== undefined && parsed.entity !== expected) return null
  return { ...parsed, transient }
}

/**
 * Like {@link parseCtiaId} but throws `CTIM_ERR_ID_INVALID` (400).
 *
 * @example
 * const { shortId } = requireCtiaId(request.params.id, 'casebook')
 */
export function requireCtiaId(input: string, expected: CtiaEntityType): CtiaId {
  const parsed = parseCtiaId(input, expected)
  if (parsed === null || parsed.transient) {
    throw ctimErrors.ID_INVALID({ entity: expected, id: input.slice(0, 200) })
  }
  return parsed
}

/**
 * A transient id for an entity inside a bundle or module answer that is not stored.
 *
 * @example
 * transientId('sighting') // 'transient:sighting-6c1e…'
 */
export function transientId(entity: CtiaEntityType, uuid: string = randomUUID()): string {
  return `transient:${newShortId(entity, uuid)}`
}
