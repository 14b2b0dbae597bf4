import { randomUUID } from 'node:crypto'
import { DISPOSITIONS, type DispositionNumber, type Tlp } from './entities/vocabularies.js'
import { ctimErrors } from './errors.js'
import { OBSERVABLE_TYPE_LABELS, type Observable } from './observable-types.js'

/**
 * STIX 2.1 export (OASIS STIX Version 2.1, Committee Specification 03): a bundle of one
 * `indicator` per exportable observable, a `report` that references them and carries the notes,
 * one `note` per note, the producing `identity`, and the TLP `marking-definition`.
 */

/** The STIX 2.1 TLP marking definitions (spec §7.2.1.4): fixed ids, never minted. */
export const STIX_TLP_MARKINGS: Record<Tlp, { id: string; name: string }> = {
  white: { id: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', name: 'TLP:WHITE' },
  green: { id: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', name: 'TLP:GREEN' },
  amber: { id: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', name: 'TLP:AMBER' },
  red: { id: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', name: 'TLP:RED' },
}
const TLP_MARKING_CREATED = '2017-01-20T00:00:00.000Z'

/** A STIX 2.1 object (the common properties; the rest depends on `type`). */
export interface StixObject {
  type: string
  spec_version: '2.1'
  id: string
  created: string
  modified?: string
  [property: string]: unknown
}

/** A STIX 2.1 bundle. */
export interface StixBundle {
  type: 'bundle'
  id: string
  objects: StixObject[]
}

/** An observable to export, optionally with the disposition the analyst or enrichment gave it. */
export interface StixExportObservable extends Observable {
  disposition?: DispositionNumber
}

export interface StixExportInput {
  /** Report name, e.g. the casebook or incident title. */
  title: string
  /** Report description (Markdown); the notes are appended under "Notes". */
  description?: string
  observables: StixExportObservable[]
  /** Analyst notes (casebook texts); each becomes a STIX `note` and a paragraph of the report. */
  notes?: Array<{ text: string; type?: string; author?: string }>
  tlp?: Tlp
  /** The producer, e.g. the organisation running the hub. */
  producer: { name: string; identityClass?: 'organization' | 'individual' | 'system' }
  /** Labels for the report and indicators (e.g. casebook tags). */
  labels?: string[]
  /** Where the content came from (e.g. the casebook's CTIA id). */
  externalReferences?: Array<{
    source_name: string
    url?: string
    external_id?: string
    description?: string
  }>
  /** Creation time of every object (defaults to now). */
  now?: Date
}

export interface StixExportResult {
  bundle: StixBundle
  /** Observables no STIX 2.1 pattern expresses (e.g. `cisco_mid`), left out of the bundle. */
  skipped: Observable[]
}

// STIX patterning §9: string literals are single-quoted with \ and ' escaped.
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/**
 * The STIX 2.1 pattern for an observable, or null when STIX has no object path for its type.
 *
 * @example
 * stixPattern({ type: 'sha256', value: 'e3b0…' }) // "[file:hashes.'SHA-256' = 'e3b0…']"
 * stixPattern({ type: 'url', value: "https://x.example/a'b" }) // "[url:value = 'https://x.example/a\\'b']"
 */
export function stixPattern(observable: Observable): string | null {
  const value = literal(observable.value)
  switch (observable.type) {
    case 'url':
      return `[url:value = ${value}]`
    case 'domain':
      return `[domain-name:value = ${value}]`
    case 'hostname':
      return observable.value.includes('.') ? `[domain-name:value = ${value}]` : null
    case 'ip':
      return `[ipv4-addr:value = ${value}]`
    case 'ipv6':
      return `[ipv6-addr:value = ${value}]`
    case 'email':
      return `[email-addr:value = ${value}]`
    case 'sha256':
      return `[file:hashes.'SHA-256' = ${value}]`
    case 'sha1':
      return `[file:hashes.'SHA-1' = ${value}]`
    case 'md5':
      return `[file:hashes.MD5 = ${value}]`
    case 'file_name':
      return `[file:name = ${value}]`
    case 'email_subject':
      return `[email-message:subject = ${value}]`
    case 'email_messageid':
      return `[email-message:message_id = ${value}]`
    case 'mac_address':
      return `[mac-addr:value = ${value}]`
    case 'user':
      return `[user-account:account_login = ${value}]`
    case 'user_agent':
      return `[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = ${value}]`
    default:
      return null
  }
}

// STIX indicator-type-ov (§10.12).
function indicatorTypes(disposition: DispositionNumber | undefined): string[] {
  switch (disposition) {
    case 2:
      return ['malicious-activity']
    case 3:
      return ['anomalous-activity']
    case 1:
    case 4:
      return ['benign']
    default:
      return ['unknown']
  }
}

function stixId(type: string): string {
  return `${type}--${randomUUID()}`
}

/**
 * Builds a STIX 2.1 bundle from observables and notes (a casebook or incident export).
 * Throws `CTIM_ERR_STIX_NOTHING_TO_EXPORT` when there is neither a patternable observable nor a
 * note.
 *
 * @example
 * const { bundle, skipped } = toStixBundle({
 *   title: 'Invoice phishing', producer: { name: 'Example Corp SOC' }, tlp: 'amber',
 *   observables: [{ type: 'url', value: 'https://evil.example.com/pay', disposition: 2 }],
 *   notes: [{ text: 'Reported by 14 users.' }],
 * })
 */
export function toStixBundle(input: StixExportInput): StixExportResult {
  const now = (input.now ?? new Date()).toISOString()
  const tlp = input.tlp ?? 'green'
  const marking = STIX_TLP_MARKINGS[tlp]
  const common = { spec_version: '2.1' as const, created: now, modified: now }

  const identity: StixObject = {
    type: 'identity',
    ...common,
    id: stixId('identity'),
    name: input.producer.name,
    identity_class: input.producer.identityClass ?? 'organization',
  }
  const markingDefinition: StixObject = {
    type: 'marking-definition',
    spec_version: '2.1',
    id: marking.id,
    created: TLP_MARKING_CREATED,
    definition_type: 'tlp',
    name: marking.name,
    definition: { tlp },
  }
  const owned = { created_by_ref: identity.id, object_marking_refs: [marking.id] }
  const labels =
    input.labels !== undefined && input.labels.length > 0 ? { labels: input.labels } : {}

  const indicators: StixObject[] = []
  const skipped: Observable[] = []
  const seen = new Set<string>()
  for (const observable of input.observables) {
    const pattern = stixPattern(observable)
    if (pattern === null) {
      skipped.push({ type: observable.type, value: observable.value })
      continue
    }
    if (seen.has(pattern)) continue
    seen.add(pattern)
    const label = OBSERVABLE_TYPE_LABELS[observable.type] ?? observable.type
    indicators.push({
      type: 'indicator',
      ...common,
      id: stixId('indicator'),
      ...owned,
      name: `${label}: ${observable.value}`.slice(0, 1024),
      ...(observable.disposition !== undefined
        ? { description: `Disposition: ${DISPOSITIONS[observable.disposition]}` }
        : {}),
      indicator_types: indicatorTypes(observable.disposition),
      pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: now,
      ...labels,
    })
  }

  const notes = (input.notes ?? []).filter((note) => note.text.trim() !== '')
  if (indicators.length === 0 && notes.length === 0) throw ctimErrors.STIX_NOTHING_TO_EXPORT()

  const reportId = stixId('report')
  const noteObjects: StixObject[] = notes.map((note) => ({
    type: 'note',
    ...common,
    id: stixId('note'),
    ...owned,
    ...(note.type !== undefined ? { abstract: note.type } : {}),
    content: note.text,
    ...(note.author !== undefined ? { authors: [note.author] } : {}),
    object_refs: [reportId],
  }))

  const description = [
    input.description?.trim() ?? '',
    notes.length > 0 ? `## Notes\n\n${notes.map((n) => n.text.trim()).join('\n\n')}` : '',
  ]
    .filter((part) => part !== '')
    .join('\n\n')

  const report: StixObject = {
    type: 'report',
    ...common,
    id: reportId,
    ...owned,
    name: input.title.trim() === '' ? 'Untitled' : input.title,
    ...(description !== '' ? { description } : {}),
    report_types: ['threat-report'],
    published: now,
    // A report must reference at least one object (§4.14); with notes only, it references its author.
    object_refs: indicators.length > 0 ? indicators.map((i) => i.id) : [identity.id],
    ...labels,
    ...(input.externalReferences !== undefined && input.externalReferences.length > 0
      ? { external_references: input.externalReferences }
      : {}),
  }

  return {
    bundle: {
      type: 'bundle',
      id: stixId('bundle'),
      objects: [markingDefinition, identity, ...indicators, report, ...noteObjects],
    },
    skipped,
  }
}
