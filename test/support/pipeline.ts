import type { AnalysisLimits } from '../../apps/gateway/src/pipeline/analysis/types.js'

/** Analysis caps for tests: the defaults' shape, small enough to reach on purpose. */
export const TEST_LIMITS: AnalysisLimits = {
  maxDepth: 16,
  maxParts: 200,
  maxHeaderBytes: 256 * 1024,
  maxDecodedBytes: 32 * 1024 * 1024,
  maxParseMs: 10_000,
  maxTextBytes: 1024 * 1024,
  maxUrls: 500,
  maxArchiveEntries: 200,
  maxArchiveEntryBytes: 4 * 1024 * 1024,
}
