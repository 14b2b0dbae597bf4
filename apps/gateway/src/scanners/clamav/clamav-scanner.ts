import type { ClamavConfig } from '../config.js'
import { skipped, type ScanContext, type ScanResult, type Scanner } from '../contract.js'
import { ClamdClient } from './clamd-client.js'

/**
 * Anti-virus verdicts from ClamAV. The whole message goes to clamd, which decodes MIME and
 * archives itself; a signature match raises `virus` with the signature name as the finding.
 */
export class ClamavScanner implements Scanner {
  readonly id = 'clamav'
  readonly timeoutMs: number
  readonly onFailure: ClamavConfig['onFailure']
  readonly failureQuarantine: string
  private readonly client: ClamdClient

  constructor(private readonly config: ClamavConfig) {
    this.timeoutMs = config.timeout
    this.onFailure = config.onFailure
    this.failureQuarantine = config.failureQuarantine
    this.client = new ClamdClient(config.address)
  }

  async scan(context: ScanContext): Promise<ScanResult> {
    if (!this.config.directions.includes(context.direction)) return skipped('direction')
    if (context.raw.length > this.config.maxSize) return skipped('message larger than maxSize')
    const verdict = await this.client.scan(context.raw, context.signal)
    if (!verdict.infected) return { status: 'pass', verdicts: [] }
    return {
      status: 'fail',
      verdicts: ['virus'],
      findings: [verdict.signature],
      details: { signature: verdict.signature },
    }
  }
}
