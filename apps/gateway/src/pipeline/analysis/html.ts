import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2'
import type { FormHint, UrlSource } from './types.js'

/** Attributes that carry a followable URL, by the source kind we record them under. */
const URL_ATTRIBUTES: Record<string, UrlSource> = {
  href: 'html-href',
  src: 'html-src',
  background: 'html-src',
  poster: 'html-src',
  data: 'html-src',
  action: 'html-form',
  formaction: 'html-form',
}

/** Field names that ask for a secret even when the input is not `type=password`. */
const SECRET_FIELD = /pass(word|wd|code)?|pwd|\bpin\b|otp|cvv|cvc|ssn|card.?num/i

/** Raw-text elements whose content a reader never sees. */
const HIDDEN_RAW_TEXT = new Set(['script', 'style', 'title'])

/** Elements after which reduced text gets a line break. */
const BLOCK = new Set([
  'p',
  'div',
  'br',
  'tr',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'table',
  'blockquote',
  'pre',
  'hr',
])

const MAX_FIELDS_PER_FORM = 32
const MAX_ANCHORS = 200
const MAX_ANCHOR_TEXT = 300
/** Longer attribute values are cut: no URL or field name needs more. */
const MAX_ATTRIBUTE = 8192

export interface HtmlFindings {
  urls: { url: string; source: UrlSource; base: string | undefined }[]
  forms: FormHint[]
  /** Links with their visible text (capped), to spot text that names another site. */
  anchors: { href: string; text: string; base: string | undefined }[]
  /** Visible text (for URL extraction from text and for the quarantine's safe view). */
  text: string
}

interface OpenForm {
  action: string | null
  hasPassword: boolean
  fields: string[]
}

/**
 * Reads an HTML part: every URL in link/source/form attributes and in `<meta http-equiv=
 * refresh>`, the forms that ask for credentials, links with their visible text, and the
 * visible text itself. It drives htmlparser2's tokenizer directly instead of its parser: the
 * parser keeps an open-element stack whose cost grows with the square of the nesting depth,
 * which hostile mail makes tens of thousands deep; no tree is needed here, so the work stays
 * linear in the size of the markup. The tokenizer never throws on broken markup.
 */
export function scanHtml(html: string, part: string, keepTextBytes: number): HtmlFindings {
  const urls: HtmlFindings['urls'] = []
  const forms: FormHint[] = []
  const anchors: HtmlFindings['anchors'] = []
  const text: string[] = []
  let textLength = 0
  let base: string | undefined
  let form: OpenForm | null = null
  let looseSecretInput = false
  let anchor: { href: string; text: string } | null = null
  // Text inside <head> (until <body> or </head>) and inside script/style/title is not shown.
  let inHead = false
  let rawText: string | null = null

  let tagName = ''
  let attributes: Record<string, string> = {}
  let attributeName = ''
  let attributeValue = ''

  const pushText = (value: string): void => {
    if (textLength >= keepTextBytes) return
    const slice = value.slice(0, keepTextBytes - textLength)
    text.push(slice)
    textLength += slice.length
  }

  const onText = (value: string): void => {
    if (rawText !== null || inHead) return
    pushText(value)
    if (anchor && anchor.text.length < MAX_ANCHOR_TEXT) anchor.text += value
  }

  const open = (name: string, attrs: Record<string, string>): void => {
    if (name === 'head') inHead = true
    if (name === 'body') inHead = false
    if (HIDDEN_RAW_TEXT.has(name)) rawText = name
    if (name === 'base' && attrs.href && base === undefined) base = attrs.href
    for (const [attribute, source] of Object.entries(URL_ATTRIBUTES)) {
      const value = attrs[attribute]
      if (value) urls.push({ url: value, source, base })
    }
    if (name === 'meta' && /refresh/i.test(attrs['http-equiv'] ?? '')) {
      const target = /url\s*=\s*['"]?([^'"\s]+)/i.exec(attrs.content ?? '')
      if (target?.[1]) urls.push({ url: target[1], source: 'html-meta', base })
    }
    if (name === 'a' && attrs.href && anchors.length < MAX_ANCHORS) {
      closeAnchor()
      anchor = { href: attrs.href, text: '' }
    }
    if (name === 'form') {
      closeForm()
      form = { action: attrs.action ?? null, hasPassword: false, fields: [] }
    }
    if (name === 'input' || name === 'select' || name === 'textarea') {
      const type = (attrs.type ?? 'text').toLowerCase()
      const fieldName = attrs.name ?? attrs.id ?? ''
      const asksSecret = type === 'password' || SECRET_FIELD.test(fieldName)
      if (form) {
        if (fieldName && form.fields.length < MAX_FIELDS_PER_FORM) form.fields.push(fieldName)
        if (asksSecret) form.hasPassword = true
      } else if (asksSecret) {
        looseSecretInput = true
      }
    }
    if (BLOCK.has(name)) pushText('\n')
  }

  const close = (name: string): void => {
    if (name === 'head') inHead = false
    if (name === rawText) rawText = null
    if (name === 'a') closeAnchor()
    if (name === 'form') closeForm()
    if (BLOCK.has(name)) pushText('\n')
  }

  const closeAnchor = (): void => {
    if (!anchor) return
    anchors.push({ ...anchor, text: anchor.text.trim(), base })
    anchor = null
  }

  const closeForm = (): void => {
    const current = form as OpenForm | null
    if (current?.hasPassword) forms.push({ part, ...current })
    form = null
  }

  const callbacks: TokenizerCallbacks = {
    onopentagname(start, end) {
      tagName = html.slice(start, end).toLowerCase()
      attributes = {}
    },
    onattribname(start, end) {
      attributeName = html.slice(start, end).toLowerCase()
      attributeValue = ''
    },
    onattribdata(start, end) {
      if (attributeValue.length < MAX_ATTRIBUTE) attributeValue += html.slice(start, end)
    },
    onattribentity(codepoint) {
      if (attributeValue.length < MAX_ATTRIBUTE) attributeValue += String.fromCodePoint(codepoint)
    },
    onattribend() {
      // HTML: the first of duplicate attributes wins.
      if (!(attributeName in attributes))
        attributes[attributeName] = attributeValue.slice(0, MAX_ATTRIBUTE)
    },
    onopentagend() {
      open(tagName, attributes)
    },
    onselfclosingtag() {
      open(tagName, attributes)
      close(tagName)
    },
    onclosetag(start, end) {
      close(html.slice(start, end).toLowerCase())
    },
    ontext(start, end) {
      onText(html.slice(start, end))
    },
    ontextentity(codepoint) {
      onText(String.fromCodePoint(codepoint))
    },
    oncdata() {},
    oncomment() {},
    ondeclaration() {},
    onprocessinginstruction() {},
    onend() {},
  }
  const tokenizer = new Tokenizer({ decodeEntities: true }, callbacks)
  tokenizer.write(html)
  tokenizer.end()
  // A link or form left open at the end of the document still counts.
  closeAnchor()
  closeForm()
  if (looseSecretInput) forms.push({ part, action: null, hasPassword: true, fields: [] })
  return {
    urls: urls.map((u) => ({ ...u, base: u.base ?? base })),
    forms,
    anchors: anchors.map((a) => ({ ...a, base: a.base ?? base })),
    // Linear patterns only: hostile markup yields runs of a million blank lines, and
    // `\n\s*\n+` would backtrack quadratically over them.
    text: text
      .join('')
      .replace(/[ \t\r\f\v]+/g, ' ')
      .replace(/\n(?: ?\n)+/g, '\n\n')
      .trim(),
  }
}
