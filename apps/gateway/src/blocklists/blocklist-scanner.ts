import { PASS, type ScanContext, type ScanResult, type Scanner } from '../scanners/contract.js'
import type { BlocklistService } from './blocklist-service.js'

/**
 * The block lists applied to the whole message: envelope sender, header From/Sender/Reply-To,
 * the client IP, every URL (and its domain), and the hash of every attachment and archive
 * entry. A hit raises `blocked` with the matched entries as findings. (Senders and IPs are
 * also refused at MAIL FROM when the list already has them: see `smtp-policy.ts`.)
 */
export class BlocklistScanner implements Scanner {
  readonly id = 'blocklists'
  readonly timeoutMs = 5_000
  readonly onFailure = 'skip' as const
  readonly failureQuarantine = 'policy'

  constructor(private readonly service: BlocklistService) {}

  async scan(context: ScanContext): Promise<ScanResult> {
    const matcher = this.service.matcher
    if (matcher.size === 0) return PASS
    const { headers, urls, attachments } = context.analysis
    const senders = [
      context.envelope.mailFrom,
      ...headers.from.map((a) => a.address),
      ...headers.sender.map((a) => a.address),
      ...headers.replyTo.map((a) => a.address),
    ].filter((a) => a !== '')
    const hashes: string[] = []
    for (const a of attachments) {
      hashes.push(a.sha256, a.sha1, a.md5)
      for (const e of a.entries) if (e.sha256) hashes.push(e.sha256)
    }
    const hits = matcher.match({ senders, senderIp: context.client.ip, urls, hashes })
    if (hits.length === 0) return PASS
    return {
      status: 'fail',
      verdicts: ['blocked'],
      findings: hits.map((h) => `${h.kind} ${h.value} (${h.matched})`).slice(0, 50),
      details: {
        entries: hits.slice(0, 50).map((h) => ({
          id: h.id,
          kind: h.kind,
          value: h.value,
          matched: h.matched,
          source: h.source,
          reason: h.reason,
        })),
      },
    }
  }
}
