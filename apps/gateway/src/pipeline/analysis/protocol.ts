import type { AuthInput, AuthResults } from '../../auth/authenticate.js'
import type { CachingResolverOptions } from '../../auth/caching-resolver.js'
import type { AnalysisLimits, MessageAnalysis } from './types.js'

/** Messages between the analysis pool (main thread) and its workers. */

export interface WorkerAuthSettings {
  enabled: boolean
  authservId: string
  minKeyBits: number
  arc: boolean
  dmarc: boolean
  timeoutMs: number
  dns: Omit<CachingResolverOptions, 'now'>
}

export interface WorkerSettings {
  limits: AnalysisLimits
  auth: WorkerAuthSettings
}

export interface AnalysisJob {
  id: number
  raw: Uint8Array
  includeText: boolean
  /** Null skips sender authentication (quarantine views, disabled auth). */
  auth: AuthInput | null
}

export type AnalysisReply =
  | { id: number; ok: true; analysis: MessageAnalysis; auth: AuthResults | null }
  | { id: number; ok: false; error: string }
