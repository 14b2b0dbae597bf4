import type { CtiaFilter } from '@postern/store'

/**
 * The subset of Lucene query syntax CTIA clients send in `query` (CTIA passes it to
 * Elasticsearch's `query_string` with AND as the default operator):
 *
 *   term  "quoted phrase"  field:value  field:"phrase"  field:(a OR b)  field:*  *
 *   field:[from TO to]  field:{from TO to}  field:>=value  field:<value
 *   a AND b   a OR b   NOT a   a && b   a || b   !a   -a   +a   (grouping)
 *   wildcards * and ? in terms; backslash escapes the next character
 *
 * Juxtaposed clauses are ANDed. Output is a `CtiaFilter` tree; field names are checked later
 * against the entity type's searchable fields.
 */
export class QuerySyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`)
    this.name = 'QuerySyntaxError'
  }
}

/** Bounds that keep a hostile query from costing more than a normal one. */
export const QUERY_LIMITS = { maxLength: 4096, maxDepth: 32, maxClauses: 256 } as const

type Token =
  | { kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'plus'; pos: number }
  | { kind: 'field'; name: string; pos: number }
  | { kind: 'term'; value: string; wildcard: boolean; pos: number }
  | { kind: 'phrase'; value: string; pos: number }
  | {
      kind: 'range'
      from: string
      to: string
      includeFrom: boolean
      includeTo: boolean
      pos: number
    }
  | { kind: 'compare'; op: '>' | '>=' | '<' | '<='; value: string; pos: number }

const TERM_STOP = new Set([' ', '\t', '\n', '\r', '(', ')', '"'])

function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  // After `field:` the value is read up to whitespace, so URLs and times keep their colons.
  let valuePosition = false
  while (i < input.length) {
    const ch = input[i]!
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++
      valuePosition = false
      continue
    }
    const pos = i
    if (ch === '(') {
      tokens.push({ kind: 'lparen', pos })
      i++
      valuePosition = false
      continue
    }
    if (ch === ')') {
      tokens.push({ kind: 'rparen', pos })
      i++
      valuePosition = false
      continue
    }
    if (ch === '"') {
      let value = ''
      i++
      while (i < input.length && input[i] !== '"') {
        if (input[i] === '\\' && i + 1 < input.length) i++
        value += input[i]
        i++
      }
      if (i >= input.length) throw new QuerySyntaxError('Unterminated quoted phrase', pos)
      i++
      tokens.push({ kind: 'phrase', value, pos })
      valuePosition = false
      continue
    }
    if (valuePosition && (ch === '[' || ch === '{')) {
      const close = findRangeEnd(input, i + 1)
      if (close < 0) throw new QuerySyntaxError('Unterminated range', pos)
      const body = input.slice(i + 1, close).trim()
      const parts = body.split(/\s+TO\s+/)
      if (parts.length !== 2 || !parts[0] || !parts[1])
        throw new QuerySyntaxError('A range is written [from TO to]', pos)
      tokens.push({
        kind: 'range',
        from: unquote(parts[0]),
        to: unquote(parts[1]),
        includeFrom: ch === '[',
        includeTo: input[close] === ']',
        pos,
      })
      i = close + 1
      valuePosition = false
      continue
    }
    if (valuePosition && (ch === '>' || ch === '<')) {
      const op = input[i + 1] === '=' ? (`${ch}=` as '>=' | '<=') : (ch as '>' | '<')
      i += op.length
      const start = i
      let value = ''
      while (i < input.length && !TERM_STOP.has(input[i]!)) {
        if (input[i] === '\\' && i + 1 < input.length) i++
        value += input[i]
        i++
      }
      if (value.length === 0) throw new QuerySyntaxError(`Missing value after ${op}`, start)
      tokens.push({ kind: 'compare', op, value, pos })
      valuePosition = false
      continue
    }
    if (!valuePosition && (input.startsWith('&&', i) || input.startsWith('||', i))) {
      tokens.push({ kind: input[i] === '&' ? 'and' : 'or', pos })
      i += 2
      continue
    }
    if (!valuePosition && (ch === '!' || ch === '-')) {
      tokens.push({ kind: 'not', pos })
      i++
      continue
    }
    if (!valuePosition && ch === '+') {
      tokens.push({ kind: 'plus', pos })
      i++
      continue
    }
    // A bare word: a field name (when a colon follows), an operator, or a term.
    let value = ''
    let wildcard = false
    let escaped = false
    while (i < input.length && !TERM_STOP.has(input[i]!)) {
      const c = input[i]!
      if (c === '\\' && i + 1 < input.length) {
        value += input[i + 1]
        escaped = true
        i += 2
        continue
      }
      if (c === ':' && !valuePosition) break
      if (c === '*' || c === '?') wildcard = true
      value += c
      i++
    }
    if (i < input.length && input[i] === ':' && !valuePosition) {
      if (value.length === 0) throw new QuerySyntaxError('Missing field name before ":"', pos)
      tokens.push({ kind: 'field', name: value, pos })
      i++
      valuePosition = true
      continue
    }
    valuePosition = false
    if (!escaped && (value === 'AND' || value === 'OR' || value === 'NOT')) {
      tokens.push({ kind: value === 'AND' ? 'and' : value === 'OR' ? 'or' : 'not', pos })
      continue
    }
    tokens.push({ kind: 'term', value, wildcard, pos })
  }
  return tokens
}

function findRangeEnd(input: string, from: number): number {
  for (let i = from; i < input.length; i++) {
    if (input[i] === '\\') i++
    else if (input[i] === ']' || input[i] === '}') return i
  }
  return -1
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value
}

class Parser {
  private index = 0
  private clauses = 0

  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  parse(): CtiaFilter {
    if (this.tokens.length === 0) return { op: 'all' }
    const filter = this.parseOr(null, 0)
    const extra = this.peek()
    if (extra) throw new QuerySyntaxError(`Unexpected ${describe(extra)}`, extra.pos)
    return filter
  }

  private peek(): Token | undefined {
    return this.tokens[this.index]
  }

  private next(): Token | undefined {
    return this.tokens[this.index++]
  }

  private parseOr(field: string | null, depth: number): CtiaFilter {
    const parts = [this.parseAnd(field, depth)]
    while (this.peek()?.kind === 'or') {
      this.next()
      parts.push(this.parseAnd(field, depth))
    }
    return parts.length === 1 ? parts[0]! : { op: 'or', filters: parts }
  }

  private parseAnd(field: string | null, depth: number): CtiaFilter {
    const parts = [this.parseUnary(field, depth)]
    for (;;) {
      const token = this.peek()
      if (!token || token.kind === 'or' || token.kind === 'rparen') break
      if (token.kind === 'and') this.next()
      parts.push(this.parseUnary(field, depth))
    }
    return parts.length === 1 ? parts[0]! : { op: 'and', filters: parts }
  }

  private parseUnary(field: string | null, depth: number): CtiaFilter {
    const token = this.peek()
    if (token?.kind === 'not') {
      this.next()
      return { op: 'not', filter: this.parseUnary(field, depth + 1) }
    }
    if (token?.kind === 'plus') {
      this.next()
      return this.parseUnary(field, depth)
    }
    return this.parsePrimary(field, depth)
  }

  private parsePrimary(field: string | null, depth: number): CtiaFilter {
    if (depth > QUERY_LIMITS.maxDepth)
      throw new QuerySyntaxError('The query is nested too deeply', this.peek()?.pos ?? 0)
    if (++this.clauses > QUERY_LIMITS.maxClauses)
      throw new QuerySyntaxError(
        `The query has more than ${QUERY_LIMITS.maxClauses} clauses`,
        this.peek()?.pos ?? 0,
      )
    const token = this.next()
    if (!token) throw new QuerySyntaxError('The query ends too early', this.length)
    switch (token.kind) {
      case 'lparen': {
        const inner = this.parseOr(field, depth + 1)
        const close = this.next()
        if (close?.kind !== 'rparen')
          throw new QuerySyntaxError('Missing ")"', close?.pos ?? this.length)
        return inner
      }
      case 'field': {
        if (field !== null)
          throw new QuerySyntaxError('A field cannot be nested in another field', token.pos)
        const value = this.peek()
        if (!value || value.kind === 'rparen' || value.kind === 'and' || value.kind === 'or')
          throw new QuerySyntaxError(`Missing value for field ${token.name}`, token.pos)
        return this.parseUnary(token.name, depth + 1)
      }
      case 'term':
        // `*` as a field means every field, as in Lucene's `*:*`.
        if (field === null || field === '*')
          return token.value === '*' ? { op: 'all' } : { op: 'text', ...termValue(token) }
        if (token.value === '*') return { op: 'exists', field }
        return { op: 'match', field, ...termValue(token) }
      case 'phrase':
        return field === null || field === '*'
          ? { op: 'text', value: token.value, wildcard: false }
          : { op: 'match', field, value: token.value, wildcard: false }
      case 'range': {
        if (field === null) throw new QuerySyntaxError('A range needs a field', token.pos)
        const range: CtiaFilter = { op: 'range', field }
        if (token.from !== '*') range[token.includeFrom ? 'gte' : 'gt'] = token.from
        if (token.to !== '*') range[token.includeTo ? 'lte' : 'lt'] = token.to
        return range
      }
      case 'compare': {
        if (field === null) throw new QuerySyntaxError('A comparison needs a field', token.pos)
        const key = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' } as const
        return { op: 'range', field, [key[token.op]]: token.value }
      }
      default:
        throw new QuerySyntaxError(`Unexpected ${describe(token)}`, token.pos)
    }
  }
}

function termValue(token: Extract<Token, { kind: 'term' }>): { value: string; wildcard: boolean } {
  return { value: token.value, wildcard: token.wildcard }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'lparen':
      return '"("'
    case 'rparen':
      return '")"'
    case 'and':
      return 'AND'
    case 'or':
      return 'OR'
    case 'not':
      return 'NOT'
    case 'plus':
      return '"+"'
    case 'field':
      return `field ${token.name}`
    default:
      return 'value'
  }
}

/** Parses a CTIA `query` string. An empty query matches everything. */
export function parseCtiaQuery(query: string): CtiaFilter {
  if (query.length > QUERY_LIMITS.maxLength)
    throw new QuerySyntaxError(`The query is longer than ${QUERY_LIMITS.maxLength} characters`, 0)
  return new Parser(tokenize(query), query.length).parse()
}
