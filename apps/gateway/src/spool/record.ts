import { crc32 } from 'node:zlib'

/**
 * Spool records: the framing of everything the spool appends to a segment file.
 *
 *   u32 magic 'PSR1' | u32 length N | u32 CRC-32 of the next N bytes |
 *   u8 type | u32 meta length M | M bytes of JSON meta | N-5-M bytes of body
 *
 * A record is valid only if its magic, length and CRC check out, so a torn write at the end
 * of a segment (power loss, kill -9 in the middle of a write) is recognised and ignored; the
 * magic lets recovery find the next record after a damaged one.
 */

export const RECORD_MAGIC = 0x50535231 // 'PSR1'
export const RECORD_HEADER_SIZE = 12
const TYPE_AND_META_LENGTH = 5
/** Bounds the damage a corrupt length field can do during recovery. */
export const MAX_RECORD_SIZE = 2 * 1024 * 1024 * 1024 - 1

export enum RecordType {
  /** First record of every segment: format version and id counters. */
  Header = 1,
  /** An accepted message: envelope, client, header summary, body (or its file). */
  Message = 2,
  /** The content pipeline's result: per-recipient outcomes and rewritten variants. */
  Processed = 3,
  /** Delivery targets that are finished (delivered, bounced, dropped). */
  TargetsDone = 4,
  /** The message is finished: nothing of it is needed any more. */
  Done = 5,
  /** Hold or release. */
  Hold = 6,
}

export interface EncodedRecord {
  type: RecordType
  /** Buffers to write, in order (header+meta, then the body buffers as given). */
  buffers: Buffer[]
  /** Total bytes of the record. */
  size: number
  /** Offset of the body from the start of the record. */
  bodyOffset: number
  bodyLength: number
}

/** Frames a record without copying the body buffers. */
export function encodeRecord(
  type: RecordType,
  meta: unknown,
  body: readonly Buffer[] = [],
): EncodedRecord {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8')
  let bodyLength = 0
  for (const b of body) bodyLength += b.length
  const payloadLength = TYPE_AND_META_LENGTH + metaBytes.length + bodyLength
  const head = Buffer.allocUnsafe(RECORD_HEADER_SIZE + TYPE_AND_META_LENGTH + metaBytes.length)
  head.writeUInt32BE(RECORD_MAGIC, 0)
  head.writeUInt32BE(payloadLength, 4)
  head.writeUInt8(type, 12)
  head.writeUInt32BE(metaBytes.length, 13)
  metaBytes.copy(head, 17)
  let crc = crc32(head.subarray(RECORD_HEADER_SIZE))
  for (const b of body) crc = crc32(b, crc)
  head.writeUInt32BE(crc, 8)
  return {
    type,
    buffers: [head, ...body],
    size: RECORD_HEADER_SIZE + payloadLength,
    bodyOffset: head.length,
    bodyLength,
  }
}

export interface DecodedRecord {
  type: RecordType
  meta: unknown
  /** Offset of the record in the buffer it was read from. */
  offset: number
  size: number
  bodyOffset: number
  bodyLength: number
}

export type DecodeResult =
  | { kind: 'record'; record: DecodedRecord }
  /** Not enough bytes: the end of the data (or a torn tail). */
  | { kind: 'incomplete' }
  | { kind: 'corrupt'; reason: string }

/** Decodes the record at `offset` of `data`, checking magic, length and CRC. */
export function decodeRecord(data: Buffer, offset: number): DecodeResult {
  if (data.length - offset < RECORD_HEADER_SIZE) return { kind: 'incomplete' }
  if (data.readUInt32BE(offset) !== RECORD_MAGIC) return { kind: 'corrupt', reason: 'bad magic' }
  const length = data.readUInt32BE(offset + 4)
  if (length < TYPE_AND_META_LENGTH || length > MAX_RECORD_SIZE) {
    return { kind: 'corrupt', reason: `bad length ${length}` }
  }
  const end = offset + RECORD_HEADER_SIZE + length
  if (end > data.length) return { kind: 'incomplete' }
  const payload = data.subarray(offset + RECORD_HEADER_SIZE, end)
  if (crc32(payload) !== data.readUInt32BE(offset + 8)) {
    return { kind: 'corrupt', reason: 'CRC mismatch' }
  }
  const type = payload.readUInt8(0) as RecordType
  const metaLength = payload.readUInt32BE(1)
  if (TYPE_AND_META_LENGTH + metaLength > length || !(type in RecordType)) {
    return { kind: 'corrupt', reason: 'bad type or meta length' }
  }
  let meta: unknown
  try {
    meta = JSON.parse(payload.subarray(5, 5 + metaLength).toString('utf8'))
  } catch {
    return { kind: 'corrupt', reason: 'unreadable meta' }
  }
  return {
    kind: 'record',
    record: {
      type,
      meta,
      offset,
      size: RECORD_HEADER_SIZE + length,
      bodyOffset: RECORD_HEADER_SIZE + TYPE_AND_META_LENGTH + metaLength,
      bodyLength: length - TYPE_AND_META_LENGTH - metaLength,
    },
  }
}

const MAGIC_BYTES = Buffer.alloc(4)
MAGIC_BYTES.writeUInt32BE(RECORD_MAGIC, 0)

/** The next offset after `from` where a record magic appears, or -1. */
export function findNextMagic(data: Buffer, from: number): number {
  return data.indexOf(MAGIC_BYTES, from)
}
