/**
 * Refanging: undo the "defanging" analysts and feeds apply so that indicators are not clickable
 * (`hxxp://evil[.]example`, `user(at)example[.]com`). Only forms that cannot plausibly be meant
 * literally are rewritten: bracketed dots and at-signs between address characters, defanged
 * schemes right before `:` or `://`. Prose such as "meet [at] noon" is left alone because the
 * bracket must touch an address character on both sides.
 */

// Characters mail clients and reports insert to break auto-linking; they are never part of an
// indicator.
const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/g

// UTS #46 §2.3: U+3002 IDEOGRAPHIC FULL STOP, U+FF0E FULLWIDTH FULL STOP and U+FF61 HALFWIDTH
// IDEOGRAPHIC FULL STOP are label separators, like ".".
const WIDE_DOT = /(?<=[\p{L}\p{N}-])[\u3002\uFF0E\uFF61](?=[\p{L}\p{N}-])/gu

const SCHEME_SEPARATOR = String.raw`(?:\[:\/\/\]|\[:\]|\(:\)|:)`
const DEFANGED_SCHEME = new RegExp(String.raw`\b(hxxps?|hxtps?|fxps?)(?=${SCHEME_SEPARATOR})`, 'gi')
const SCHEME_MAP: Record<string, string> = {
  hxxp: 'http',
  hxxps: 'https',
  hxtp: 'http',
  hxtps: 'https',
  fxp: 'ftp',
  fxps: 'ftps',
}

// `[://]`, `[:]//` and `(:)//` after a scheme-looking word. The word is checked in the replacer
// on a bounded slice: a variable-length lookbehind would rescan the text at every position.
const BRACKETED_SCHEME_SEPARATOR = /\[:\/\/\]|\[:\]\/\/|\(:\)\/\//g
const SCHEME_BEFORE = /(?:^|[^a-z0-9+.-])[a-z][a-z0-9+.-]{0,30}$/i

const ADDRESS_BEFORE = String.raw`(?<=[\p{L}\p{N}_%+-])`
const ADDRESS_AFTER = String.raw`(?=[\p{L}\p{N}_-])`

// `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}` touching both labels. Square brackets are a
// defanging convention and never prose, so `evil [.] com` (spaces around) counts too; round and
// curly brackets with spaces around ("press the (dot) key") are left alone.
const BRACKETED_DOT = new RegExp(
  String.raw`${ADDRESS_BEFORE}(?:[ \t]*\[[ \t]*(?:\.|dot)[ \t]*\][ \t]*|[({][ \t]*(?:\.|dot)[ \t]*[)}])${ADDRESS_AFTER}`,
  'giu',
)
// `[at]`, `(at)`, `{at}`, `[@]`, `(@)`, `{@}` touching both sides, or `[at]` with spaces when
// a domain follows ("ceo [at] corp.example", not "meet [at] noon").
const BRACKETED_AT = new RegExp(
  String.raw`${ADDRESS_BEFORE}(?:[\[({][ \t]*(?:at|@)[ \t]*[\])}]|[ \t]*\[[ \t]*(?:at|@)[ \t]*\][ \t]*(?=[\p{L}\p{N}_-]+\.[\p{L}\p{N}]))${ADDRESS_AFTER}`,
  'giu',
)
// `evil\.example` (regex-style escaping in IOC lists).
const ESCAPED_DOT = /(?<=[\p{L}\p{N}-])\\\.(?=[\p{L}\p{N}-])/gu
// `[:]` between a host and a port: `evil[.]example[:]8080`.
const BRACKETED_COLON = /(?<=[\p{L}\p{N}\]])\[:\](?=\d)/gu

/**
 * Rewrites defanged indicators back to their live form. Idempotent: refanging live text changes
 * nothing but invisible characters.
 *
 * @example
 * refang('hxxps[:]//login.evil[.]example/reset') // 'https://login.evil.example/reset'
 * refang('alice(at)corp[dot]example')            // 'alice@corp.example'
 */
export function refang(text: string): string {
  // Each rewrite only runs when its trigger character is present: most lines have none, and
  // the patterns' look-behinds would otherwise be tried at every position.
  let out = text.replace(INVISIBLE, '')
  if (/[\u3002\uFF0E\uFF61]/.test(out)) out = out.replace(WIDE_DOT, '.')
  if (/x[xt]p|fxp/i.test(out)) {
    out = out.replace(
      DEFANGED_SCHEME,
      (scheme: string) => SCHEME_MAP[scheme.toLowerCase()] ?? scheme,
    )
  }
  if (/[[({]/.test(out)) {
    out = out
      .replace(BRACKETED_SCHEME_SEPARATOR, (separator: string, offset: number, whole: string) =>
        SCHEME_BEFORE.test(whole.slice(Math.max(0, offset - 33), offset)) ? '://' : separator,
      )
      .replace(BRACKETED_DOT, '.')
      .replace(BRACKETED_AT, '@')
      .replace(BRACKETED_COLON, ':')
  }
  if (out.includes('\\.')) out = out.replace(ESCAPED_DOT, '.')
  return out
}
