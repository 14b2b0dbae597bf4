import type {
  MessageDetail,
  RemediationHistoryEntry,
  SearchRow,
  TrackingSearchRepository,
} from '@postern/store'
import { gwErrors } from '../errors.js'
import type { RemediationService } from '../remediation/service.js'
import { parseTrackingSearch, type TrackingSearchInput } from './query.js'

export interface SearchResult {
  data: SearchRow[]
  meta: { total: number; totalIsCapped: boolean; limit: number; offset: number }
}

export interface MessageDetailView extends MessageDetail {
  remediation: RemediationHistoryEntry[]
}

/** Message tracking search and message detail (with the message's remediation history). */
export class TrackingSearchService {
  constructor(
    private readonly repository: TrackingSearchRepository,
    private readonly remediation: Pick<RemediationService, 'history'>,
  ) {}

  async search(input: TrackingSearchInput | unknown): Promise<SearchResult> {
    const query = parseTrackingSearch(input)
    const { rows, total, totalIsCapped } = await this.repository.search(query, query)
    return { data: rows, meta: { total, totalIsCapped, limit: query.limit, offset: query.offset } }
  }

  async detail(mid: number): Promise<MessageDetailView> {
    const detail = await this.repository.detail(mid)
    if (!detail) throw gwErrors.SEARCH_MESSAGE_NOT_FOUND({ mid })
    const history = detail.message.messageId
      ? (await this.remediation.history([detail.message.messageId])).filter((h) =>
          h.mids.length === 0 ? true : h.mids.includes(mid),
        )
      : []
    return { ...detail, remediation: history }
  }
}
