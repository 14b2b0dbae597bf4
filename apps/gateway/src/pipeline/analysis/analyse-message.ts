import { TextDecoder } from 'node:util'
import libmime from 'libmime'
import { describeAttachment } from './attachments.js'
import { CapExceeded, DecodedBudget, Deadline } from './budget.js'
import { isHeaderField, readHeaderLines, summariseHeaders } from './headers.js'
import { scanHtml } from './html.js'
import { walkMime, type LeafPart, type WalkContext } from './mime-walk.js'
import { findUrlsInText, normaliseUrl, registrableDomain, UrlCollector } from './urls.js'
import type {
  AnalysisLimits,
  Attachment,
  DeceptiveLink,
  Defect,
  DefectCode,
  FormHint,
  Malformed,
  MessageAnalysis,
  PartSummary,
} from './types.js'

export interface AnalyseOptions {
  limits: AnalysisLimits
  /** Keep the message's readable text (the quarantine's safe view asks for it). */
  includeText?: boolean
}

/**
 * Defects that let content escape analysis or make readers disagree about the message: the
 * message is `malformed` even though every cap held. A NUL in a header truncates it for C
 * parsers downstream; a second From shows one sender to DMARC and another to the reader; a
 * multipart without a usable boundary or a header block without an end hides the body.
 */
const STRUCTURAL_DEFECTS: ReadonlySet<DefectCode> = new Set<DefectCode>([
  'nul-in-header',
  'missing-boundary',
  'empty-multipart',
  'missing-header-separator',
])

/** Text types that are read for URLs (HTML has its own reader). */
const TEXT_LIKE = /^(text\/|message\/(delivery-status|disposition-notification))/

/** Non-text types that are nonetheless body text when they come without a file name. */
const ATTACHED_MESSAGE = new Set(['message/rfc822', 'message/global'])

const decoders = new Map<string, TextDecoder>()
const utf8Decoder = new TextDecoder('utf-8')

/**
 * Parses and inspects one message: MIME tree, header summary, URLs, attachments (hashes, types,
 * zip entries), credential-form hints. Never throws for anything in the message: caps and
 * structural damage end in `malformed`, smaller problems in `defects`.
 */
export async function analyseMessage(
  raw: Buffer,
  options: AnalyseOptions,
): Promise<MessageAnalysis> {
  const { limits } = options
  const defects: Defect[] = []
  const parts: PartSummary[] = []
  const urls = new UrlCollector(limits.maxUrls)
  const attachments: Attachment[] = []
  const forms: FormHint[] = []
  const deceptiveLinks: DeceptiveLink[] = []
  const plainText: string[] = []
  const htmlText: string[] = []
  const budget = new DecodedBudget(limits.maxDecodedBytes)
  const deadline = new Deadline(limits.maxParseMs)
  let malformed: Malformed | null = null

  const onLeaf = async (leaf: LeafPart, ctx: WalkContext): Promise<void> => {
    const type = leaf.contentType
    const named = leaf.filename !== null
    if (ATTACHED_MESSAGE.has(type)) {
      // An attached message is read like the outer one (any transfer encoding), one level deeper.
      await walkMime(leaf.body, ctx, leaf.path, leaf.depth + 1)
      if (named || leaf.disposition === 'attachment') await addAttachment(leaf)
      return
    }
    if (type === 'text/html') {
      const html = decodeText(leaf, defects, limits.maxTextBytes)
      const found = scanHtml(html, leaf.path, limits.maxTextBytes)
      for (const u of found.urls) urls.add(u.url, u.source, leaf.path, u.base)
      for (const u of findUrlsInText(found.text)) urls.add(u, 'html-text', leaf.path)
      forms.push(...found.forms)
      for (const a of found.anchors) {
        const deceptive = deceptiveLink(a.href, a.text, a.base, leaf.path)
        if (deceptive && deceptiveLinks.length < MAX_DECEPTIVE_LINKS) deceptiveLinks.push(deceptive)
      }
      if (!named) htmlText.push(found.text)
      if (named || leaf.disposition === 'attachment') await addAttachment(leaf)
      return
    }
    if (TEXT_LIKE.test(type)) {
      const text = decodeText(leaf, defects, limits.maxTextBytes)
      if (leaf.body.includes(0)) defects.push({ code: 'nul-in-body', part: leaf.path })
      for (const u of findUrlsInText(text)) urls.add(u, 'text', leaf.path)
      if (named || leaf.disposition === 'attachment') await addAttachment(leaf)
      else plainText.push(text)
      return
    }
    await addAttachment(leaf)
  }

  const addAttachment = async (leaf: LeafPart): Promise<void> => {
    attachments.push(
      await describeAttachment(
        {
          part: leaf.path,
          filename: leaf.filename,
          declaredType: leaf.contentType,
          disposition: leaf.disposition,
          data: leaf.body,
        },
        limits,
        budget,
        defects,
      ),
    )
  }

  const ctx: WalkContext = {
    limits,
    budget,
    deadline,
    defects,
    parts,
    partCount: 0,
    rootHeaders: null,
    onLeaf,
  }
  try {
    const walk = await walkMime(raw, ctx, '', 0)
    const strayLines = (ctx.rootHeaders ?? []).filter((h) => !isHeaderField(h))
    if (walk.headerOnly && strayLines.length > 0) {
      // Body text with no empty line before it reads as header lines: scan it as text anyway.
      defects.push({ code: 'missing-header-separator', part: '' })
      for (const u of findUrlsInText(strayLines.map((h) => h.line).join('\n')))
        urls.add(u, 'text', '0')
    }
    deadline.check()
  } catch (err) {
    if (!(err instanceof CapExceeded)) throw err
    malformed = { reason: err.reason, detail: err.message }
  }
  // A message stopped before its header was parsed still gets its header read on its own.
  const headers = summariseHeaders(
    ctx.rootHeaders ??
      readHeaderLines(raw.subarray(0, Math.min(headerBlockLength(raw), limits.maxHeaderBytes))),
    defects,
  )
  if (hasMixedLineEndings(raw)) defects.push({ code: 'bare-line-ending', part: '' })
  if (urls.truncated) defects.push({ code: 'urls-truncated', part: '', detail: String(urls.count) })
  const structural = defects.find(
    (d) =>
      STRUCTURAL_DEFECTS.has(d.code) ||
      (d.code === 'duplicate-singleton-header' && d.detail === 'from'),
  )
  if (!malformed && structural) {
    malformed = {
      reason: 'structure',
      detail: `${structural.code}${structural.part ? ` in part ${structural.part}` : ''}`,
    }
  }
  const text = options.includeText
    ? (plainText.length > 0 ? plainText : htmlText).join('\n\n').slice(0, limits.maxTextBytes)
    : null
  return {
    size: raw.length,
    headerBytes: headerBlockLength(raw),
    malformed,
    defects: dedupeDefects(defects),
    headers,
    parts,
    urls: urls.list(),
    urlCount: urls.count,
    attachments,
    forms,
    deceptiveLinks,
    text,
  }
}

const MAX_DECEPTIVE_LINKS = 50

/** A host name (or URL) written as a link's visible text: `www.bank.example`, `https://…`. */
const SHOWN_HOST =
  /^(?:[a-z][a-z0-9+.-]*:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?:[:/?#]\S*)?$/i

/**
 * The classic phishing link: its text shows one site (`https://www.paypal.com/`), its target is
 * another (`http://bit.ly/…`). Only text that is itself a host name or URL counts, so "click
 * here" never matches; subdomains of the same registrable domain are the same site.
 */
function deceptiveLink(
  href: string,
  text: string,
  base: string | undefined,
  part: string,
): DeceptiveLink | null {
  const shown = SHOWN_HOST.exec(text.trim())
  if (!shown?.[1]) return null
  const target = normaliseUrl(href, base)
  if (!target) return null
  const shownDomain = registrableDomain(shown[1].toLowerCase())
  if (shownDomain === target.domain || !shownDomain.includes('.')) return null
  return { part, url: target.url, shownDomain }
}

/** Charset decoding (WHATWG Encoding labels; UTF-7 and unknown labels fall back to UTF-8). */
function decodeText(leaf: LeafPart, defects: Defect[], maxBytes: number): string {
  let body = leaf.body
  if (body.length > maxBytes) {
    defects.push({ code: 'text-truncated', part: leaf.path, detail: String(body.length) })
    body = body.subarray(0, maxBytes)
  }
  const label = (leaf.charset ?? 'utf-8').trim().toLowerCase()
  let decoder = decoders.get(label)
  if (!decoder) {
    // UTF-7 is refused on purpose: it hides markup and URLs from 7-bit filters (RFC 2152 §4).
    try {
      if (label !== 'utf-7') decoder = new TextDecoder(label)
    } catch {
      decoder = undefined
    }
    if (decoder) decoders.set(label, decoder)
  }
  if (!decoder) {
    defects.push({ code: 'unknown-charset', part: leaf.path, detail: label.slice(0, 40) })
    decoder = utf8Decoder
  }
  const text = decoder.decode(body)
  return leaf.flowed ? libmime.decodeFlowed(text, leaf.delSp) : text
}

/** Length of the top-level header block including the empty line that ends it (RFC 5322 §2.1). */
export function headerBlockLength(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n')
  const lf = raw.indexOf('\n\n')
  if (raw[0] === 0x0d && raw[1] === 0x0a) return 2
  if (raw[0] === 0x0a) return 1
  const candidates = [crlf >= 0 ? crlf + 4 : -1, lf >= 0 ? lf + 2 : -1].filter((n) => n >= 0)
  return candidates.length > 0 ? Math.min(...candidates) : raw.length
}

/** Both CRLF and a bare LF or CR: the smuggling-adjacent shape RFC 5322 §2.3 forbids. */
function hasMixedLineEndings(raw: Buffer): boolean {
  let crlf = false
  let bare = false
  for (let i = raw.indexOf(0x0a); i !== -1; i = raw.indexOf(0x0a, i + 1)) {
    if (i > 0 && raw[i - 1] === 0x0d) crlf = true
    else bare = true
    if (crlf && bare) return true
  }
  for (let i = raw.indexOf(0x0d); i !== -1; i = raw.indexOf(0x0d, i + 1)) {
    if (raw[i + 1] !== 0x0a) return true
  }
  return false
}

function dedupeDefects(defects: Defect[]): Defect[] {
  const seen = new Set<string>()
  const out: Defect[] = []
  for (const d of defects) {
    const key = `${d.code}|${d.part}|${d.detail ?? ''}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(d)
    if (out.length >= 200) break
  }
  return out
}
