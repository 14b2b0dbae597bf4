import { isIP } from 'node:net'
import { safeText } from '@postern/store'
import type { AuthResults } from '../auth/authenticate.js'
import type { PolicyDecision } from '../policy/evaluate.js'
import type { Verdict } from '../scanners/contract.js'
import type { ScannerOutcome } from '../scanners/runner.js'
import type { MessageAnalysis } from './analysis/types.js'

/** An observables index row (CTIM type, value) for the message. */
export interface ObservableRow {
  type: string
  value: string
}

/** Rows of one of the pipeline's tables, written in the tracking batch's transaction. */
export interface ExtraRows {
  table: string
  rows: Record<string, unknown>[]
}

/** Keeps the index bounded whatever a message contains. */
const MAX_OBSERVABLES = 2_000

/**
 * The observables a message carries, for the tracking index (type, value → MID), with the CTIM
 * observable types of the Threat Response API: email, domain, ip/ipv6, url, sha256, md5, sha1,
 * file_name, email_subject, email_messageid, cisco_mid.
 */
export function observablesOf(
  message: {
    mid: number
    envelope: { mailFrom: string; recipients: readonly string[] }
    client: { ip: string }
  },
  analysis: MessageAnalysis,
): ObservableRow[] {
  const seen = new Set<string>()
  const out: ObservableRow[] = []
  const add = (type: string, value: string | null | undefined): void => {
    if (!value || out.length >= MAX_OBSERVABLES) return
    const trimmed = safeText(value.trim())
    const normalised = type === 'email' || type === 'domain' ? trimmed.toLowerCase() : trimmed
    if (normalised === '') return
    const key = `${type}\u0000${normalised}`
    if (seen.has(key)) return
    seen.add(key)
    out.push({ type, value: normalised })
  }
  const addAddress = (address: string): void => {
    if (!address.includes('@')) return
    add('email', address)
    add('domain', address.slice(address.lastIndexOf('@') + 1))
  }
  add('cisco_mid', String(message.mid))
  addAddress(message.envelope.mailFrom)
  for (const r of message.envelope.recipients) addAddress(r)
  const { headers } = analysis
  for (const a of [
    ...headers.from,
    ...headers.sender,
    ...headers.replyTo,
    ...headers.to,
    ...headers.cc,
  ]) {
    if (a.address) addAddress(a.address)
  }
  const ip = message.client.ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
  add(isIP(ip) === 6 ? 'ipv6' : 'ip', ip)
  add('email_subject', headers.subject)
  add('email_messageid', headers.messageId)
  for (const u of analysis.urls) {
    add('url', u.url)
    if (isIP(u.host) === 0) {
      add('domain', u.host)
      add('domain', u.domain)
    } else {
      add(isIP(u.host) === 6 ? 'ipv6' : 'ip', u.host)
    }
  }
  for (const a of analysis.attachments) {
    add('sha256', a.sha256)
    add('md5', a.md5)
    add('sha1', a.sha1)
    add('file_name', a.filename)
    for (const e of a.entries) {
      add('file_name', e.name)
      add('file_name', e.name.slice(e.name.lastIndexOf('/') + 1))
      add('sha256', e.sha256)
    }
  }
  return out
}

export interface AnalysisRecordInput {
  mid: number
  /** The message's received time: URL and attachment rows carry it (migration 1300). */
  receivedAt: number
  at: number
  direction: string
  analysis: MessageAnalysis
  auth: AuthResults | null
  scans: readonly ScannerOutcome[]
  verdicts: readonly Verdict[]
  decisions: readonly PolicyDecision[]
  quarantined: boolean
}

const PHISH_VERDICTS: readonly Verdict[] = [
  'credential-form',
  'deceptive-link',
  'spoofed-display-name',
]

/** Rows for message_analysis, message_urls and message_attachments (migrations 0200, 1300). */
export function analysisRows(input: AnalysisRecordInput): ExtraRows[] {
  const { analysis, auth, verdicts } = input
  const has = (v: Verdict): number => (verdicts.includes(v) ? 1 : 0)
  const analysisRow = {
    mid: input.mid,
    at: input.at,
    direction: input.direction,
    verdicts: verdicts.join(','),
    spam: has('spam'),
    virus: has('virus'),
    malformed: has('malformed'),
    blocked: has('blocked'),
    phish: PHISH_VERDICTS.some((v) => verdicts.includes(v)) ? 1 : 0,
    auth_failed: auth && (auth.dmarc.result === 'fail' || auth.spf.result === 'fail') ? 1 : 0,
    quarantined: input.quarantined ? 1 : 0,
    spf: auth?.spf.result ?? null,
    dkim: auth?.dkim.result ?? null,
    dmarc: auth?.dmarc.result ?? null,
    policy: input.decisions[0]?.policy ?? null,
    summary: JSON.stringify({
      malformed: analysis.malformed,
      defects: analysis.defects.slice(0, 50),
      headers: {
        from: analysis.headers.from,
        replyTo: analysis.headers.replyTo,
        date: analysis.headers.date,
        received: analysis.headers.received.slice(0, 20),
      },
      auth: auth
        ? {
            spf: auth.spf,
            dkim: auth.dkim,
            dmarc: auth.dmarc,
            arc: auth.arc,
            timedOut: auth.timedOut,
          }
        : null,
      scanners: input.scans.map((s) => ({
        scanner: s.scanner,
        status: s.result.status,
        verdicts: s.result.verdicts,
        score: s.result.score ?? null,
        findings: (s.result.findings ?? []).slice(0, 20),
        error: s.result.error ?? null,
      })),
      decisions: input.decisions.map((d) => ({
        policy: d.policy,
        recipients: d.recipientIndexes,
        rules: d.matched.map((m) => m.rule),
        final: d.final,
        finalRule: d.finalRule,
      })),
      forms: analysis.forms.slice(0, 10),
      deceptiveLinks: analysis.deceptiveLinks.slice(0, 10),
    }),
  }
  const urlRows = analysis.urls.map((u, idx) => ({
    mid: input.mid,
    idx,
    url: u.url,
    host: u.host,
    domain: u.domain,
    sources: u.sources.join(','),
    received_at: input.receivedAt,
  }))
  const attachmentRows: Record<string, unknown>[] = []
  for (const a of analysis.attachments) {
    const parent = attachmentRows.length
    attachmentRows.push({
      mid: input.mid,
      idx: parent,
      parent_idx: null,
      part: a.part,
      filename: safeText(a.filename),
      declared_type: safeText(a.declaredType),
      sniffed_type: a.sniffedType,
      extension: safeText(a.extension),
      size: a.size,
      sha256: a.sha256,
      md5: a.md5,
      sha1: a.sha1,
      encrypted: a.encrypted ? 1 : 0,
      macros: a.hasMacros ? 1 : 0,
      received_at: input.receivedAt,
    })
    for (const e of a.entries) {
      attachmentRows.push({
        mid: input.mid,
        idx: attachmentRows.length,
        parent_idx: parent,
        part: a.part,
        filename: safeText(e.name),
        declared_type: null,
        sniffed_type: e.sniffedType,
        extension: e.name.includes('.')
          ? e.name.slice(e.name.lastIndexOf('.') + 1).toLowerCase()
          : null,
        size: e.size,
        sha256: e.sha256,
        md5: null,
        sha1: null,
        encrypted: e.encrypted ? 1 : 0,
        macros: 0,
        received_at: input.receivedAt,
      })
    }
  }
  const rows: ExtraRows[] = [{ table: 'message_analysis', rows: [analysisRow] }]
  if (urlRows.length > 0) rows.push({ table: 'message_urls', rows: urlRows })
  if (attachmentRows.length > 0) rows.push({ table: 'message_attachments', rows: attachmentRows })
  return rows
}
