import libqp from 'libqp'
import { Splitter, type HeaderLine, type MimeNode, type SplitterChunk } from 'mailsplit'
import { CapExceeded, type Deadline, type DecodedBudget } from './budget.js'
import { decodeRaw8bit } from './headers.js'
import type { AnalysisLimits, Defect, PartSummary } from './types.js'

/** A non-multipart MIME part with its body already transfer-decoded. */
export interface LeafPart {
  path: string
  depth: number
  contentType: string
  charset: string | null
  disposition: 'attachment' | 'inline'
  filename: string | null
  flowed: boolean
  delSp: boolean
  body: Buffer
}

export interface WalkContext {
  limits: AnalysisLimits
  budget: DecodedBudget
  deadline: Deadline
  defects: Defect[]
  parts: PartSummary[]
  /** MIME parts seen so far, nested messages included (checked against `maxParts`). */
  partCount: number
  /** The top-level header, kept as soon as it is read so that a message over a cap keeps it. */
  rootHeaders: HeaderLine[] | null
  onLeaf(leaf: LeafPart, walk: WalkContext): Promise<void>
}

export interface WalkResult {
  /** The header block ran to the end of the input: there is no body separator. */
  headerOnly: boolean
}

const BASE64_ALPHABET = /^[A-Za-z0-9+/=\s]*$/

/**
 * Splits one message (or an attached message) into its MIME tree with mailsplit and hands every
 * leaf, transfer-decoded, to `ctx.onLeaf`. Caps are enforced on the way: nesting depth, part
 * count, header size per part (mailsplit's own limit), decoded bytes and wall-clock time.
 * Structural damage that could hide content from the scan is recorded as a defect.
 */
export async function walkMime(
  raw: Buffer,
  ctx: WalkContext,
  pathPrefix: string,
  baseDepth: number,
): Promise<WalkResult> {
  const split = await splitMessage(raw, ctx, pathPrefix === '')
  const childrenOf = new Map<MimeNode, number>()
  for (const node of split.nodes) {
    if (node.parentNode) childrenOf.set(node.parentNode, (childrenOf.get(node.parentNode) ?? 0) + 1)
  }
  for (const node of split.nodes) {
    ctx.deadline.check()
    const depth = baseDepth + ancestorCount(node)
    if (depth > ctx.limits.maxDepth) {
      throw new CapExceeded(
        'depth',
        `MIME nesting deeper than ${ctx.limits.maxDepth} levels (limit pipeline.limits.maxDepth)`,
      )
    }
    ctx.partCount++
    if (ctx.partCount > ctx.limits.maxParts) {
      throw new CapExceeded(
        'parts',
        `more than ${ctx.limits.maxParts} MIME parts (limit pipeline.limits.maxParts)`,
      )
    }
    const path = partPath(node, pathPrefix)
    // The top-level header is checked field by field later; a NUL in any other header
    // (a part's, an attached message's) is just as structural: C parsers stop reading there.
    if (
      (pathPrefix !== '' || node.parentNode) &&
      node.headers.getList().some((h) => h.line.includes('\0'))
    ) {
      ctx.defects.push({ code: 'nul-in-header', part: path })
    }
    const contentType = node.contentType || 'text/plain'
    const summary: PartSummary = {
      path,
      contentType,
      charset: node.charset || null,
      encoding: node.encoding || null,
      disposition: node.disposition || null,
      filename: node.filename ? decodeRaw8bit(String(node.filename)) : null,
      size: 0,
      depth,
    }
    ctx.parts.push(summary)
    if (node.multipart) {
      const hidden = checkMultipart(node, split, childrenOf.get(node) ?? 0, path, ctx.defects)
      // Text a reader may still see (a body under a missing or never-matching boundary) is
      // scanned like a text part, so that URLs cannot hide there.
      if (hidden) {
        await ctx.onLeaf(
          { ...leafBase(node, path, depth), contentType: 'text/plain', body: hidden },
          ctx,
        )
      }
      continue
    }
    const body = decodeTransfer(node, joinChunks(split.bodies.get(node)), path, ctx.defects)
    ctx.budget.charge(body.length)
    summary.size = body.length
    await ctx.onLeaf({ ...leafBase(node, path, depth), contentType, body }, ctx)
  }
  const root = split.nodes[0]
  return { headerOnly: root !== undefined && !split.bodies.has(root) && !hasHeaderSeparator(raw) }
}

interface SplitMessage {
  nodes: MimeNode[]
  bodies: Map<MimeNode, Buffer[]>
  data: Map<MimeNode, Buffer[]>
}

function splitMessage(raw: Buffer, ctx: WalkContext, topLevel: boolean): Promise<SplitMessage> {
  const result: SplitMessage = { nodes: [], bodies: new Map(), data: new Map() }
  // mailsplit counts nodes per splitter; the global count across nested messages is ours.
  const splitter = new Splitter({
    ignoreEmbedded: true,
    maxHeadSize: ctx.limits.maxHeaderBytes,
    maxChildNodes: Math.max(1, ctx.limits.maxParts - ctx.partCount),
  })
  return new Promise((resolve, reject) => {
    splitter.on('data', (chunk: MimeNode | SplitterChunk) => {
      try {
        ctx.deadline.check()
      } catch (err) {
        splitter.destroy(err as Error)
        return
      }
      if (chunk.type === 'node') {
        if (topLevel && result.nodes.length === 0) ctx.rootHeaders = chunk.headers.getList()
        result.nodes.push(chunk)
        return
      }
      const target = chunk.type === 'body' ? result.bodies : result.data
      const list = target.get(chunk.node)
      if (list) list.push(chunk.value)
      else target.set(chunk.node, [chunk.value])
    })
    splitter.once('end', () => resolve(result))
    splitter.once('error', (err: Error & { code?: string }) => {
      if (err instanceof CapExceeded) reject(err)
      else if (err.code === 'EMAXLEN' && /header/i.test(err.message)) {
        reject(
          new CapExceeded(
            'header-size',
            `a MIME header block is larger than ${ctx.limits.maxHeaderBytes} bytes (limit pipeline.limits.maxHeaderBytes)`,
          ),
        )
      } else if (err.code === 'EMAXLEN') {
        reject(
          new CapExceeded(
            'parts',
            `more than ${ctx.limits.maxParts} MIME parts (limit pipeline.limits.maxParts)`,
          ),
        )
      } else reject(new CapExceeded('structure', `MIME structure unreadable: ${err.message}`))
    })
    splitter.end(raw)
  })
}

function leafBase(
  node: MimeNode,
  path: string,
  depth: number,
): Omit<LeafPart, 'contentType' | 'body'> {
  const filename = node.filename ? decodeRaw8bit(String(node.filename)) : null
  return {
    path,
    depth,
    charset: node.charset || null,
    disposition: node.disposition === 'attachment' ? 'attachment' : 'inline',
    filename,
    flowed: node.flowed,
    delSp: node.delSp,
  }
}

function ancestorCount(node: MimeNode): number {
  let count = 0
  for (let parent = node.parentNode; parent; parent = parent.parentNode) count++
  return count
}

/** IMAP-style part numbers (RFC 3501 §6.4.5): `0` is the whole message, `1.2` a nested part. */
function partPath(node: MimeNode, prefix: string): string {
  const numbers = node.partNr.filter((n): n is number => typeof n === 'number')
  const local = numbers.length > 0 ? numbers.join('.') : '0'
  return prefix === '' ? local : `${prefix}.${local}`
}

function joinChunks(chunks: Buffer[] | undefined): Buffer {
  if (!chunks || chunks.length === 0) return Buffer.alloc(0)
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
}

/**
 * Checks a multipart container (RFC 2046 §5.1.1). Returns the text that would otherwise escape
 * the scan when the container has no boundary or no part ever started.
 */
function checkMultipart(
  node: MimeNode,
  split: SplitMessage,
  children: number,
  path: string,
  defects: Defect[],
): Buffer | null {
  const data = joinChunks(split.data.get(node))
  if (!node._boundary) {
    defects.push({ code: 'missing-boundary', part: path })
    return data.length > 0 ? data : null
  }
  if (children === 0) {
    defects.push({ code: 'empty-multipart', part: path })
    return data.toString('latin1').trim().length > 0 ? data : null
  }
  const closing = Buffer.concat([Buffer.from('--'), node._boundary, Buffer.from('--')])
  if (!data.includes(closing)) defects.push({ code: 'unterminated-multipart', part: path })
  return null
}

/** Content-Transfer-Encoding (RFC 2045 §6) → decoded bytes; unknown encodings stay as they are. */
function decodeTransfer(node: MimeNode, body: Buffer, path: string, defects: Defect[]): Buffer {
  switch (node.encoding) {
    case 'base64': {
      const text = body.toString('latin1')
      if (!BASE64_ALPHABET.test(text)) defects.push({ code: 'invalid-base64', part: path })
      return Buffer.from(text, 'base64')
    }
    case 'quoted-printable':
      return libqp.decode(body.toString('latin1'))
    case '':
    case '7bit':
    case '8bit':
    case 'binary':
      return body
    default:
      defects.push({
        code: 'unknown-transfer-encoding',
        part: path,
        detail: node.encoding.slice(0, 40),
      })
      return body
  }
}

function hasHeaderSeparator(raw: Buffer): boolean {
  return raw.includes('\n\n') || raw.includes('\n\r\n')
}
