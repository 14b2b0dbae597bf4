import { fileExtension, stripDisguise } from '../../pipeline/analysis/attachments.js'
import type { BuiltinChecksConfig } from '../config.js'
import {
  PASS,
  skipped,
  type ScanContext,
  type ScanResult,
  type Scanner,
  type Verdict,
} from '../contract.js'

/** Types that run code when opened, by magic number (file-type's MIME names). */
const EXECUTABLE_TYPES = new Set([
  'application/x-msdownload',
  'application/vnd.microsoft.portable-executable',
  'application/x-elf',
  'application/x-mach-binary',
  'application/x-msi',
  'application/java-archive',
  'application/x-ms-shortcut',
  'application/x.ms.shortcut',
  'application/x-iso9660-image',
  'application/x-apple-diskimage',
  'application/vnd.android.package-archive',
  'text/x-shellscript',
  'application/x-bat',
])

/** Bidi controls that reorder how a file name is displayed (CVE-2009-3376 style tricks). */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/

/** Padding between a fake and the real extension (`invoice.pdf          .exe`). */
const PADDED_EXTENSION = /\.[a-z0-9]{2,5}\s{3,}\.[a-z0-9]+$/i

/** Why a file runs code when opened (by content first, then by name), or null. */
export function executableReason(
  filename: string | null,
  sniffedType: string | null,
  executableExtensions: ReadonlySet<string>,
): string | null {
  if (sniffedType && EXECUTABLE_TYPES.has(sniffedType)) return `content is ${sniffedType}`
  const extension = fileExtension(filename)
  if (extension && executableExtensions.has(extension)) return `.${extension} file`
  return null
}

export function isExecutableFile(
  filename: string | null,
  sniffedType: string | null,
  executableExtensions: ReadonlySet<string>,
): boolean {
  return executableReason(filename, sniffedType, executableExtensions) !== null
}

interface NamedFile {
  filename: string | null
  sniffedType: string | null
  where: string
}

/**
 * Attachments that run code or hide what they are: executables by content or by extension,
 * double extensions and display tricks, encrypted archives (which scanners cannot open) and
 * Office documents with macros. Zip entries are checked like attachments.
 */
export class AttachmentCheck implements Scanner {
  readonly id = 'attachments'
  readonly timeoutMs = 5_000
  readonly onFailure = 'skip' as const
  readonly failureQuarantine = 'policy'
  private readonly executableExtensions: Set<string>

  constructor(private readonly config: BuiltinChecksConfig['attachments']) {
    this.executableExtensions = new Set(config.executableExtensions)
  }

  async scan(context: ScanContext): Promise<ScanResult> {
    if (!this.config.enabled) return skipped('disabled')
    const { attachments } = context.analysis
    if (attachments.length === 0) return PASS
    const verdicts = new Set<Verdict>()
    const findings: string[] = []
    const files: NamedFile[] = []
    for (const attachment of attachments) {
      const label = attachment.filename ?? `part ${attachment.part}`
      files.push({
        filename: attachment.filename,
        sniffedType: attachment.sniffedType,
        where: label,
      })
      for (const entry of attachment.entries) {
        files.push({
          filename: entry.name,
          sniffedType: entry.sniffedType,
          where: `${label} → ${entry.name}`,
        })
      }
      if (attachment.encrypted) {
        verdicts.add('encrypted-archive')
        findings.push(`${label}: encrypted archive`)
      }
      if (attachment.hasMacros) {
        verdicts.add('macro')
        findings.push(`${label}: Office macros`)
      }
    }
    for (const file of files) {
      const reason = executableReason(file.filename, file.sniffedType, this.executableExtensions)
      if (reason) {
        verdicts.add('executable')
        findings.push(`${file.where}: ${reason}`)
      }
      const disguise = this.disguise(file.filename)
      if (disguise) {
        verdicts.add('double-extension')
        findings.push(`${file.where}: ${disguise}`)
      }
    }
    if (verdicts.size === 0) return PASS
    return { status: 'fail', verdicts: [...verdicts], findings: findings.slice(0, 50) }
  }

  private disguise(filename: string | null): string | null {
    if (!filename) return null
    if (BIDI_CONTROL.test(filename)) return 'name uses right-to-left override characters'
    if (PADDED_EXTENSION.test(filename)) return 'extension hidden behind padding'
    const parts = stripDisguise(filename).toLowerCase().split('.')
    if (parts.length < 3) return null
    const last = parts[parts.length - 1] as string
    const previous = parts[parts.length - 2] as string
    if (this.executableExtensions.has(last) && /^[a-z0-9]{2,5}$/.test(previous)) {
      return `double extension .${previous}.${last}`
    }
    return null
  }
}
