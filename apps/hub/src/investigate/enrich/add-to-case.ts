import type { Observable } from '@postern/ctim'
import type { Caller } from '../../casebooks/caller.js'
import type { CasebookService } from '../../casebooks/casebook-service.js'
import { idUrl, type BaseUrl } from '../../casebooks/ctia-http.js'

/** Longest observable value quoted in a casebook title (CTIM titles allow 1024 characters). */
const TITLE_VALUE_MAX = 200

/** What the add-to-case step of the recommended set reports. */
export interface AddedToCase {
  /** The casebook's id as the CTIA API names it (`<publicUrl>/ctia/casebook/casebook-…`). */
  casebookId: string
  title: string
  /** True when the caller had no active case and this step created (and activated) one. */
  created: boolean
}

/** Adds observables to the caller's active casebook (see `casebookAddToCase`). */
export type AddToCase = (caller: Caller, observables: Observable[]) => Promise<AddedToCase>

/**
 * The title of a casebook the recommended set opens: named after the first observable, so the
 * analyst finds it by what they investigated ("url https://…", "+ 2 more" for the rest).
 */
export function caseTitleFor(observables: readonly Observable[]): string {
  const [first] = observables
  if (!first) return 'Recommended actions'
  const value =
    first.value.length > TITLE_VALUE_MAX ? `${first.value.slice(0, TITLE_VALUE_MAX)}…` : first.value
  const more = observables.length > 1 ? ` + ${observables.length - 1} more` : ''
  return `${first.type} ${value}${more}`
}

/**
 * The add-to-case step on the casebook area: the pivot menu's "add to case" (the caller's
 * active casebook; when they have none, a new casebook named after the observable that becomes
 * their active case). A caller without a user (a client-credentials token of an API client no
 * user owns) has no active case: the service throws `HUB_PI_ERR_ACTIVE_CASE_NEEDS_USER`.
 */
export function casebookAddToCase(casebooks: CasebookService, baseUrl: BaseUrl): AddToCase {
  return async (caller, observables) => {
    const { casebook, created } = await casebooks.addToActiveCase(caller, observables, {
      title: caseTitleFor(observables),
      context: { source: 'api' },
    })
    return {
      casebookId: idUrl(baseUrl, 'casebook', casebook.id),
      title: typeof casebook.doc.title === 'string' ? casebook.doc.title : '',
      created,
    }
  }
}
