import type { TrackingReport, TrackingReportRepository } from '@postern/store'
import { BUCKET_MS, parseReportRequest, type Bucket, type ReportRequestInput } from './query.js'

export type ReportView = TrackingReport & { bucket: Bucket }

/** Email reporting: counts by verdict over time, top lists and the relationship graph. */
export class ReportingService {
  constructor(private readonly repository: TrackingReportRepository) {}

  async report(input: ReportRequestInput | unknown): Promise<ReportView> {
    const request = parseReportRequest(input)
    const report = await this.repository.report(request.filter, {
      since: request.since,
      until: request.until,
      bucketMs: BUCKET_MS[request.bucket],
      top: request.top,
      graphLimit: request.graphLimit,
    })
    return { ...report, bucket: request.bucket }
  }
}
