/**
 * CTIA's partial updates: `PATCH /ctia/{entity}/{id}` and the casebook operations
 * `POST /ctia/casebook/{id}/{observables,texts,bundle}` with `{"operation": "add" | "remove" |
 * "replace", <field>: …}`. CTIA merges the partial document into the stored one key by key
 * (`deep-merge-with`): nested objects merge recursively, two lists combine with the operation,
 * any other value is replaced, and a key the stored document lacks simply takes the new value —
 * so removing texts from a casebook that has none sets them, which the official client's
 * functional test relies on. PATCH is the `replace` operation.
 *
 * One deliberate difference: `add` skips elements already present (CTIA appends duplicates);
 * a casebook listing the same observable twice helps nobody. Elements compare by value,
 * whatever the order of their keys.
 */
export type PatchOperation = 'add' | 'remove' | 'replace'

/** JSON with object keys sorted, so that equal values have equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Combines two lists with an operation, comparing elements by canonical JSON. */
export function combineLists(
  current: readonly unknown[],
  operation: PatchOperation,
  items: readonly unknown[],
): unknown[] {
  if (operation === 'replace') return [...items]
  if (operation === 'remove') {
    const drop = new Set(items.map(canonicalJson))
    return current.filter((item) => !drop.has(canonicalJson(item)))
  }
  const seen = new Set(current.map(canonicalJson))
  const out = [...current]
  for (const item of items) {
    const key = canonicalJson(item)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(item)
  }
  return out
}

/** Merges `partial` into `current` with CTIA's patch semantics (see the module comment). */
export function patchDocument(
  current: Record<string, unknown>,
  partial: Record<string, unknown>,
  operation: PatchOperation,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...current }
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue
    const existing = current[key]
    if (existing === undefined || existing === null) result[key] = value
    else if (isPlainObject(existing) && isPlainObject(value))
      result[key] = patchDocument(existing, value, operation)
    else if (Array.isArray(existing) && Array.isArray(value))
      result[key] = combineLists(existing, operation, value)
    else result[key] = value
  }
  return result
}
