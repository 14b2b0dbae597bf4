import { Parser } from 'htmlparser2'
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

/** Elements whose content is not visible text. */
const INVISIBLE = new Set(['script', 'style', 'head', 'title', 'template', 'noscript'])

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
 * Reads an HTML part with a tolerant tokenizer (htmlparser2 never throws on broken markup):
 * every URL in link/source/form attributes and in `<meta http-equiv=refresh>`, the forms that ask
 * for credentials, and the visible text.
 */
export function scanHtml(html: string, part: string, keepTextBytes: number): HtmlFindings {
  const urls: HtmlFindings['urls'] = []
  const forms: FormHint[] = []
  const text: string[] = []
  let textLength = 0
  let base: string | undefined
  let invisibleDepth = 0
  let form: OpenForm | null = null
  let looseSecretInput = false
  const anchors: HtmlFindings['anchors'] = []
  let anchor: { href: string; text: string } | null = null

  const pushText = (value: string): void => {
    if (textLength >= keepTextBytes) return
    const slice = value.slice(0, keepTextBytes - textLength)
    text.push(slice)
    textLength += slice.length
  }

  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (INVISIBLE.has(name)) invisibleDepth++
        if (name === 'base' && attributes.href && base === undefined) base = attributes.href
        for (const [attribute, source] of Object.entries(URL_ATTRIBUTES)) {
          const value = attributes[attribute]
          if (value) urls.push({ url: value, source, base })
        }
        if (name === 'meta' && /refresh/i.test(attributes['http-equiv'] ?? '')) {
          const target = /url\s*=\s*['"]?([^'"\s]+)/i.exec(attributes.content ?? '')
          if (target?.[1]) urls.push({ url: target[1], source: 'html-meta', base })
        }
        if (name === 'a' && attributes.href && anchors.length < MAX_ANCHORS) {
          anchor = { href: attributes.href, text: '' }
        }
        if (name === 'form') {
          form = { action: attributes.action ?? null, hasPassword: false, fields: [] }
        }
        if (name === 'input' || name === 'select' || name === 'textarea') {
          const type = (attributes.type ?? 'text').toLowerCase()
          const fieldName = attributes.name ?? attributes.id ?? ''
          const asksSecret = type === 'password' || SECRET_FIELD.test(fieldName)
          if (form) {
            if (fieldName && form.fields.length < MAX_FIELDS_PER_FORM) form.fields.push(fieldName)
            if (asksSecret) form.hasPassword = true
          } else if (asksSecret) {
            looseSecretInput = true
          }
        }
        if (BLOCK.has(name)) pushText('\n')
      },
      onclosetag(name) {
        if (INVISIBLE.has(name) && invisibleDepth > 0) invisibleDepth--
        if (name === 'a' && anchor) {
          anchors.push({ ...anchor, text: anchor.text.trim(), base })
          anchor = null
        }
        if (name === 'form' && form) {
          if (form.hasPassword) forms.push({ part, ...form })
          form = null
        }
        if (BLOCK.has(name)) pushText('\n')
      },
      ontext(data) {
        if (invisibleDepth === 0) pushText(data)
        if (anchor && anchor.text.length < MAX_ANCHOR_TEXT) anchor.text += data
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  )
  parser.write(html)
  parser.end()
  // A form left open at the end of the document still counts.
  const unclosed = form as OpenForm | null
  if (unclosed?.hasPassword) forms.push({ part, ...unclosed })
  if (looseSecretInput) forms.push({ part, action: null, hasPassword: true, fields: [] })
  return {
    urls: urls.map((u) => ({ ...u, base: u.base ?? base })),
    forms,
    anchors: anchors.map((a) => ({ ...a, base: a.base ?? base })),
    text: text
      .join('')
      .replace(/[ \t\r\f\v]+/g, ' ')
      .replace(/\n\s*\n+/g, '\n\n')
      .trim(),
  }
}
