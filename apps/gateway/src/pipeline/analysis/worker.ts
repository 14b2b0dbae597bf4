import { parentPort, workerData } from 'node:worker_threads'
import { authenticateMessage } from '../../auth/authenticate.js'
import { CachingResolver } from '../../auth/caching-resolver.js'
import { analyseMessage } from './analyse-message.js'
import type { AnalysisJob, AnalysisReply, WorkerSettings } from './protocol.js'

/**
 * Analysis worker thread: MIME parsing, extraction and sender authentication run here so that
 * a hostile message costs worker time, never the SMTP event loop. Each worker keeps its own DNS
 * cache (c-ares works per thread).
 */
const settings = workerData as WorkerSettings
const resolver = settings.auth.enabled ? new CachingResolver(settings.auth.dns) : null

async function handle(job: AnalysisJob): Promise<AnalysisReply> {
  const raw = Buffer.from(job.raw.buffer, job.raw.byteOffset, job.raw.byteLength)
  const [analysis, auth] = await Promise.all([
    analyseMessage(raw, { limits: settings.limits, includeText: job.includeText }),
    job.auth && resolver
      ? authenticateMessage(raw, job.auth, {
          authservId: settings.auth.authservId,
          resolver: resolver.resolve,
          minKeyBits: settings.auth.minKeyBits,
          arc: settings.auth.arc,
          dmarc: settings.auth.dmarc,
          timeoutMs: settings.auth.timeoutMs,
        })
      : Promise.resolve(null),
  ])
  return { id: job.id, ok: true, analysis, auth }
}

parentPort?.on('message', (job: AnalysisJob) => {
  handle(job).then(
    (reply) => parentPort?.postMessage(reply),
    (err: unknown) =>
      parentPort?.postMessage({
        id: job.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies AnalysisReply),
  )
})
