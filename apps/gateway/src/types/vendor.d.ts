/**
 * The part of mailsplit's API the pipeline uses (the package ships no type definitions).
 * See node_modules/mailsplit/lib/{message-splitter,mime-node,headers}.js.
 */
declare module 'mailsplit' {
  import { Transform } from 'node:stream'

  export interface SplitterOptions {
    /** Treat message/rfc822 parts as leaves (the pipeline parses them itself, any encoding). */
    ignoreEmbedded?: boolean
    /** Largest header block of one MIME node; beyond it the splitter fails with `EMAXLEN`. */
    maxHeadSize?: number
    /** Most MIME nodes; beyond it the splitter fails with `EMAXLEN`. */
    maxChildNodes?: number
  }

  export interface HeaderLine {
    /** Lower-case field name; `''` for a line without a colon. */
    key: string
    /** The raw line (latin1 string, folded lines joined with CRLF). */
    line: string
  }

  export interface Headers {
    get(key: string): string[]
    getFirst(key: string): string
    getList(): HeaderLine[]
  }

  export interface MimeNode {
    type: 'node'
    root: boolean
    parentNode: MimeNode | false
    headers: Headers
    contentType: string | false
    charset: string | false
    encoding: string
    disposition: string | false
    filename: string | false
    multipart: string | false
    flowed: boolean
    delSp: boolean
    partNr: (number | string)[]
    _boundary: Buffer | false
    _headerlen: number
  }

  export interface SplitterChunk {
    type: 'body' | 'data'
    node: MimeNode
    value: Buffer
  }

  export class Splitter extends Transform {
    constructor(options?: SplitterOptions)
  }
}

/** mailauth's Received header parser (a CommonJS file without its own type definitions). */
declare module 'mailauth/lib/parse-received.js' {
  interface ReceivedClause {
    value: string
    comment?: string
  }
  export function parseReceived(
    header: string,
  ): (Record<string, ReceivedClause | string | undefined> & { timestamp?: string }) | false
}
