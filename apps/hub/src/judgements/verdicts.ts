import { DISPOSITIONS } from '@postern/ctim'
import type { CtiaEntity, CtiaEntityStore } from '@postern/store'

export interface Observable {
  type: string
  value: string
}

export interface Verdict {
  type: 'verdict'
  disposition: number
  disposition_name: string
  observable: Observable
  valid_time: { start_time?: string; end_time?: string }
  judgement_id: string
}

/**
 * The verdict on an observable from its active judgements, as CTIA computes it: the judgement
 * with the highest priority wins; among equal priorities the lower disposition number (Clean
 * before Malicious) wins; then the newest.
 */
export function pickVerdictJudgement(judgements: readonly CtiaEntity[]): CtiaEntity | undefined {
  return [...judgements].sort((a, b) => {
    const pa = numberOr(a.doc.priority, 0)
    const pb = numberOr(b.doc.priority, 0)
    if (pa !== pb) return pb - pa
    const da = numberOr(a.doc.disposition, 5)
    const db = numberOr(b.doc.disposition, 5)
    if (da !== db) return da - db
    return b.created - a.created
  })[0]
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback
}

export interface DeliberateAnswer {
  verdicts: { count: number; docs: Verdict[] }
  judgements: { count: number; docs: CtiaEntity[] }
}

/**
 * The hub's private-intelligence answer to `deliberate/observables`: one verdict per
 * observable that has an active judgement in the org, and the judgements behind them.
 * `idOf` turns a short id into the id clients see (the full URL).
 */
export async function deliberate(
  store: CtiaEntityStore,
  orgId: string,
  observables: readonly Observable[],
  at: number,
  idOf: (entity: CtiaEntity) => string,
): Promise<DeliberateAnswer> {
  const judgements = await store.activeJudgements(orgId, observables, at)
  const verdicts: Verdict[] = []
  for (const observable of observables) {
    const mine = judgements.filter((j) => {
      const ob = j.doc.observable as Observable | undefined
      return (
        ob?.type === observable.type && ob.value.toLowerCase() === observable.value.toLowerCase()
      )
    })
    const winner = pickVerdictJudgement(mine)
    if (!winner) continue
    const disposition = numberOr(winner.doc.disposition, 5)
    verdicts.push({
      type: 'verdict',
      disposition,
      disposition_name: DISPOSITIONS[disposition as keyof typeof DISPOSITIONS] ?? 'Unknown',
      observable: { type: observable.type, value: observable.value },
      valid_time: (winner.doc.valid_time as Verdict['valid_time']) ?? {},
      judgement_id: idOf(winner),
    })
  }
  return {
    verdicts: { count: verdicts.length, docs: verdicts },
    judgements: { count: judgements.length, docs: judgements },
  }
}
