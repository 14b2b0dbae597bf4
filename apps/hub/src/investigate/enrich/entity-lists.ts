import type { ModuleIdentity } from './fan-out.js'

/** One answer's entity lists (`{sightings: {count, docs}, …}`), each list's docs as JSON text. */
export type SerialisedLists = Map<string, { count: number; docs: string }>

/**
 * Serialises one module answer's entity lists as soon as it arrives. The enrich answer is the
 * concatenation of every answer's docs: serialising each while slower modules are still
 * working leaves only the last answer and the joins for after the slowest — serialising the
 * merged envelope at the end (hundreds of kB for 50 gateways) took milliseconds on the
 * request's critical path. Lists that are not `{docs: [...]}` are left out, as before.
 */
export function serialiseLists(data: unknown): SerialisedLists {
  const lists: SerialisedLists = new Map()
  if (!data || typeof data !== 'object') return lists
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const docs = (value as { docs?: unknown } | null)?.docs
    if (!Array.isArray(docs)) continue
    lists.set(key, { count: docs.length, docs: JSON.stringify(docs).slice(1, -1) })
  }
  return lists
}

/** Several answers of one module instance (its gateways) as one `{key: {count, docs}}` JSON. */
export function mergedListsJson(answers: readonly SerialisedLists[]): string {
  const merged = new Map<string, { count: number; docs: string[] }>()
  for (const answer of answers) {
    for (const [key, list] of answer) {
      const into = merged.get(key) ?? { count: 0, docs: [] }
      merged.set(key, into)
      into.count += list.count
      if (list.docs !== '') into.docs.push(list.docs)
    }
  }
  const entries = [...merged].map(
    ([key, list]) =>
      `${JSON.stringify(key)}:{"count":${list.count},"docs":[${list.docs.join(',')}]}`,
  )
  return `{${entries.join(',')}}`
}

/** `{module…, data}` of one module instance, with its merged lists already JSON. */
export function moduleResultJson(identity: ModuleIdentity, listsJson: string): string {
  return `${JSON.stringify(identity).slice(0, -1)},"data":${listsJson}}`
}
