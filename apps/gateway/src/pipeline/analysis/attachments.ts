import { createHash } from 'node:crypto'
import { extname } from 'node:path'
import { fileTypeFromBuffer } from 'file-type'
import yauzl from 'yauzl'
import type { ArchiveEntry, Attachment, Defect } from './types.js'
import type { DecodedBudget } from './budget.js'

/** How many leading bytes magic-number sniffing reads (file-type's own maximum sample size). */
const SNIFF_BYTES = 64 * 1024

/** Zip-based containers whose entries are listed and hashed. */
const ARCHIVE_TYPES = new Set(['application/zip', 'application/x-zip-compressed'])

/** Zip-based Office documents (OOXML), opened only to look for a VBA project (macros). */
const OOXML_TYPES = new Set([
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.ms-word.document.macroenabled.12',
  'application/vnd.ms-excel.sheet.macroenabled.12',
  'application/vnd.ms-powerpoint.presentation.macroenabled.12',
])

const OOXML_EXTENSIONS = new Set(['docx', 'docm', 'xlsx', 'xlsm', 'pptx', 'pptm', 'dotm', 'xltm'])

export interface DigestSet {
  sha256: string
  md5: string
  sha1: string
}

export function digests(data: Buffer): DigestSet {
  return {
    sha256: createHash('sha256').update(data).digest('hex'),
    md5: createHash('md5').update(data).digest('hex'),
    sha1: createHash('sha1').update(data).digest('hex'),
  }
}

/**
 * The last extension of a file name, lower-cased, after stripping what attackers append to
 * hide it: trailing dots and spaces (Windows drops them) and bidi controls such as U+202E
 * RIGHT-TO-LEFT OVERRIDE (`invoice\u202Efdp.exe` shows as `invoiceexe.pdf`).
 */
export function fileExtension(filename: string | null): string | null {
  if (!filename) return null
  const cleaned = stripDisguise(filename)
  const ext = extname(cleaned).slice(1).toLowerCase()
  return ext.length > 0 ? ext : null
}

export function stripDisguise(filename: string): string {
  return filename
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replaceAll('\0', '')
    .replace(/[. ]+$/, '')
}

/**
 * MIME type from the content: magic numbers (file-type) for binary formats, then the text
 * shapes a gateway cares about (scripts and HTML); null when nothing is recognised.
 */
export async function sniffType(data: Buffer): Promise<string | null> {
  if (data.length === 0) return null
  const sample = data.subarray(0, SNIFF_BYTES)
  const found = await fileTypeFromBuffer(sample).catch(() => undefined)
  if (found) return found.mime
  return sniffText(sample)
}

function sniffText(sample: Buffer): string | null {
  const head = sample.subarray(0, 1024)
  if (head.includes(0)) return null
  const text = head.toString('latin1').trimStart()
  if (text.startsWith('#!')) return 'text/x-shellscript'
  if (/^(<!doctype html|<html|<head|<body|<script|<iframe|<form)/i.test(text)) return 'text/html'
  if (/^<\?xml[^>]*>\s*<svg/i.test(text) || /^<svg/i.test(text)) return 'image/svg+xml'
  if (/^(@echo off|rem |set )/i.test(text)) return 'application/x-bat'
  // Mostly printable bytes: plain text (tab, CR, LF and everything from space up).
  let printable = 0
  for (const byte of head)
    if (byte >= 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) printable++
  return printable / head.length > 0.95 ? 'text/plain' : null
}

export interface AttachmentInput {
  part: string
  filename: string | null
  declaredType: string
  disposition: 'attachment' | 'inline'
  data: Buffer
}

export interface AttachmentLimits {
  maxArchiveEntries: number
  maxArchiveEntryBytes: number
}

/** Hashes, sniffs and (for zip archives and OOXML documents) opens one attachment. */
export async function describeAttachment(
  input: AttachmentInput,
  limits: AttachmentLimits,
  budget: DecodedBudget,
  defects: Defect[],
): Promise<Attachment> {
  const sniffedType = await sniffType(input.data)
  const extension = fileExtension(input.filename)
  const attachment: Attachment = {
    part: input.part,
    filename: input.filename,
    declaredType: input.declaredType,
    sniffedType,
    extension,
    disposition: input.disposition,
    size: input.data.length,
    ...digests(input.data),
    entries: [],
    hasMacros: false,
    encrypted: false,
  }
  const isArchive =
    (sniffedType !== null && ARCHIVE_TYPES.has(sniffedType)) ||
    (sniffedType === null && (extension === 'zip' || ARCHIVE_TYPES.has(input.declaredType)))
  const isOoxml =
    (sniffedType !== null && OOXML_TYPES.has(sniffedType)) ||
    (sniffedType === 'application/zip' && extension !== null && OOXML_EXTENSIONS.has(extension))
  if (isArchive || isOoxml) {
    try {
      const listing = await readZip(input.data, limits, budget, isArchive)
      attachment.entries = isArchive ? listing.entries : []
      attachment.encrypted = listing.entries.some((e) => e.encrypted)
      attachment.hasMacros = listing.entries.some((e) => /(^|\/)vbaproject\.bin$/i.test(e.name))
      if (listing.truncated) {
        defects.push({ code: 'archive-entries-truncated', part: input.part })
      }
      for (const name of listing.oversized) {
        defects.push({ code: 'archive-entry-too-large', part: input.part, detail: name })
      }
    } catch (err) {
      if (budget.isExceeded(err)) throw err
      defects.push({
        code: 'archive-unreadable',
        part: input.part,
        detail: err instanceof Error ? err.message : String(err),
      })
    }
  }
  return attachment
}

interface ZipListing {
  entries: ArchiveEntry[]
  truncated: boolean
  oversized: string[]
}

/**
 * Lists a zip archive from its central directory and hashes each entry small enough to
 * decompress. Entry sizes are validated by yauzl against what the archive declares, and every
 * decompressed byte is charged to the message's decoded budget, so a zip bomb stops at the cap.
 */
function readZip(
  data: Buffer,
  limits: AttachmentLimits,
  budget: DecodedBudget,
  hashEntries: boolean,
): Promise<ZipListing> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      data,
      { lazyEntries: true, validateEntrySizes: true, strictFileNames: false, decodeStrings: true },
      (openError, zip) => {
        if (openError || !zip) {
          reject(openError ?? new Error('archive could not be opened'))
          return
        }
        const listing: ZipListing = { entries: [], truncated: false, oversized: [] }
        let settled = false
        const finish = (err?: unknown): void => {
          if (settled) return
          settled = true
          zip.close()
          if (err) reject(err)
          else resolve(listing)
        }
        zip.on('error', finish)
        zip.on('end', () => finish())
        zip.on('entry', (entry: yauzl.Entry) => {
          if (listing.entries.length >= limits.maxArchiveEntries) {
            listing.truncated = true
            finish()
            return
          }
          const isDirectory = entry.fileName.endsWith('/')
          const described: ArchiveEntry = {
            name: entry.fileName,
            size: entry.uncompressedSize,
            compressedSize: entry.compressedSize,
            encrypted: (entry.generalPurposeBitFlag & 0x1) !== 0,
            sha256: null,
            sniffedType: null,
          }
          if (!isDirectory) listing.entries.push(described)
          const canHash = hashEntries && !isDirectory && !described.encrypted
          if (!canHash) {
            zip.readEntry()
            return
          }
          if (entry.uncompressedSize > limits.maxArchiveEntryBytes) {
            listing.oversized.push(entry.fileName)
            zip.readEntry()
            return
          }
          hashEntry(zip, entry, budget)
            .then(async ({ sha256, head }) => {
              described.sha256 = sha256
              described.sniffedType = await sniffType(head)
              zip.readEntry()
            })
            .catch(finish)
        })
        zip.readEntry()
      },
    )
  })
}

function hashEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  budget: DecodedBudget,
): Promise<{ sha256: string; head: Buffer }> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) {
        reject(err ?? new Error('entry could not be read'))
        return
      }
      const hash = createHash('sha256')
      const head: Buffer[] = []
      let headLength = 0
      stream.on('data', (chunk: Buffer) => {
        try {
          budget.charge(chunk.length)
        } catch (exceeded) {
          stream.destroy()
          reject(exceeded)
          return
        }
        hash.update(chunk)
        if (headLength < SNIFF_BYTES) {
          head.push(chunk)
          headLength += chunk.length
        }
      })
      stream.on('error', reject)
      stream.on('end', () => resolve({ sha256: hash.digest('hex'), head: Buffer.concat(head) }))
    })
  })
}
