import {
  createContext,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
  type KeyboardEvent,
} from 'react'
import { errorText } from './api.js'
import type {
  EnrichSummary,
  HubApi,
  PendingApproval,
  ReferLink,
  ResponseAction,
  TriggerResult,
} from './hub-api.js'
import { labelOf, type Observable } from './observables.js'

/** A menu entry a console adds for its own pages (e.g. "Search in Message Tracking"). */
export interface LocalPivot {
  label: string
  run(observable: Observable): void
}

export interface PivotSettings {
  /** The hub this page may call, or null when it has no hub token (then only local entries). */
  hub: HubApi | null
  /** The hub console's address, for "Investigate in hub". */
  hubConsoleUrl: string | null
  local: LocalPivot[]
}

export const PivotContext = createContext<PivotSettings>({
  hub: null,
  hubConsoleUrl: null,
  local: [],
})

interface Item {
  key: string
  label: string
  href?: string
  disabled?: boolean
  run?: () => void | Promise<void>
}

function caseTitle(observable: Observable): string {
  return `${labelOf(observable.type)} ${observable.value}`.slice(0, 200)
}

/** An observable shown as text, with the pivot menu button beside it. */
export function Obs({ type, value }: Observable) {
  return (
    <span className="obs">
      <span className="obs-value">{value}</span>
      <PivotMenu observable={{ type, value }} />
    </span>
  )
}

/**
 * The pivot menu (seed §3): one menu for every observable on every page — add to the active or a
 * new case, investigate in the hub, an inline enrichment summary, the modules' refer links and
 * their response actions. A menu button (WAI-ARIA APG): Enter/Space/ArrowDown open it on the
 * first item, arrows move, Home/End jump, Escape closes it and gives focus back to the button.
 */
export function PivotMenu({ observable }: { observable: Observable }) {
  const settings = useContext(PivotContext)
  const [open, setOpen] = useState(false)
  const [links, setLinks] = useState<ReferLink[]>([])
  const [actions, setActions] = useState<ResponseAction[]>([])
  const [pending, setPending] = useState<PendingApproval[]>([])
  const [summary, setSummary] = useState<EnrichSummary | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const [results, setResults] = useState<TriggerResult | null>(null)
  const button = useRef<HTMLButtonElement>(null)
  const menu = useRef<HTMLDivElement>(null)
  const id = useId()
  const { hub } = settings

  useEffect(() => {
    if (!open || !hub) return
    let live = true
    Promise.all([
      hub.refer([observable]),
      hub.actions([observable]),
      // A token without the approvals scope still gets the menu, without approval states.
      hub.pendingApprovals().catch(() => []),
    ]).then(
      ([foundLinks, foundActions, foundPending]) => {
        if (!live) return
        setLinks(foundLinks)
        setActions(foundActions)
        setPending(
          foundPending.filter(
            (p) => p.observable.type === observable.type && p.observable.value === observable.value,
          ),
        )
      },
      (err: unknown) => live && setMessage(errorText(err)),
    )
    return () => {
      live = false
    }
  }, [open, hub, observable.type, observable.value])

  useEffect(() => {
    if (open)
      menu.current
        ?.querySelector<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])')
        ?.focus()
  }, [open])

  const act = async (work: () => Promise<string>) => {
    setMessage('Working…')
    try {
      setMessage(await work())
    } catch (err) {
      setMessage(errorText(err))
    }
  }

  const items: Item[] = []
  if (hub) {
    items.push(
      {
        key: 'active',
        label: 'Add to active case',
        run: () =>
          act(async () => {
            const { casebook, created } = await hub.addToActiveCase(
              [observable],
              caseTitle(observable),
            )
            const title = casebook.title ?? casebook.id
            return created ? `New case ${title} is the active case` : `Added to ${title}`
          }),
      },
      {
        key: 'new',
        label: 'Add to new case',
        run: () =>
          act(async () => {
            const created = await hub.createCase(caseTitle(observable), [observable])
            await hub.setActiveCase(created.id)
            return `New case ${created.title ?? created.id} is the active case`
          }),
      },
      {
        key: 'enrich',
        label: 'Enrich',
        run: () =>
          act(async () => {
            setSummary(await hub.summarise(observable))
            return 'Enriched'
          }),
      },
    )
  } else {
    items.push({ key: 'nohub', label: 'Log in to the ribbon to use the hub', disabled: true })
  }
  if (settings.hubConsoleUrl) {
    items.push({
      key: 'investigate',
      label: 'Investigate in hub',
      href: `${settings.hubConsoleUrl}/#/investigate?q=${encodeURIComponent(observable.value)}`,
    })
  }
  for (const local of settings.local) {
    items.push({
      key: `local-${local.label}`,
      label: local.label,
      run: () => local.run(observable),
    })
  }
  for (const link of links) {
    if (/^https?:/i.test(link.url)) {
      items.push({
        key: `refer-${link.module}-${link.url}`,
        label: `${link.title} (${link.module ?? 'module'})`,
        href: link.url,
      })
    }
  }
  for (const action of actions) {
    const waiting = pending.some(
      (p) => p.action_id === action.id && p.module_instance_id === action.module_instance_id,
    )
    items.push({
      key: `action-${action.module_instance_id}-${action.id}`,
      label: `${action.title} (${action.module})${waiting ? ' — waiting for approval' : ''}`,
      run: () =>
        act(async () => {
          if (!hub) return 'No hub'
          const answer = await hub.trigger(action, observable)
          setResults(answer.data)
          if (answer.data.status === 'pending')
            setPending((current) => [
              ...current,
              {
                id: answer.data.approval_id ?? '',
                module_instance_id: action.module_instance_id,
                action_id: action.id,
                observable,
                status: 'pending',
              },
            ])
          return answer.data.status === 'pending'
            ? `Waiting for approval (${answer.data.approval_id ?? ''})`
            : `Action ${answer.data.status}`
        }),
    })
  }

  const close = (focusButton: boolean) => {
    setOpen(false)
    if (focusButton) button.current?.focus()
  }

  const onMenuKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const all = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])]
    const at = all.indexOf(document.activeElement as HTMLElement)
    const move = (to: number) => all[(to + all.length) % all.length]?.focus()
    if (event.key === 'ArrowDown') move(at + 1)
    else if (event.key === 'ArrowUp') move(at - 1)
    else if (event.key === 'Home') move(0)
    else if (event.key === 'End') move(all.length - 1)
    else if (event.key === 'Escape') close(true)
    else if (event.key === 'Tab') close(false)
    else return
    event.preventDefault()
  }

  return (
    <span className="pivot">
      <button
        ref={button}
        type="button"
        className="pivot-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-label={`Pivot menu for ${labelOf(observable.type)} ${observable.value}`}
        onClick={() => setOpen(!open)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown') {
            event.preventDefault()
            setOpen(true)
          }
        }}
      >
        ▾
      </button>
      {open && (
        <div
          ref={menu}
          id={id}
          className="pivot-menu"
          role="menu"
          aria-label={`${labelOf(observable.type)} ${observable.value}`}
          onKeyDown={onMenuKey}
        >
          <div className="pivot-title" aria-hidden="true">
            {labelOf(observable.type)}: {observable.value}
          </div>
          {items.map((item) =>
            item.href ? (
              <a
                key={item.key}
                role="menuitem"
                tabIndex={-1}
                href={item.href}
                target="_blank"
                rel="noopener noreferrer"
              >
                {item.label}
              </a>
            ) : (
              <button
                key={item.key}
                type="button"
                role="menuitem"
                tabIndex={-1}
                aria-disabled={item.disabled ? 'true' : undefined}
                onClick={() => !item.disabled && void item.run?.()}
              >
                {item.label}
              </button>
            ),
          )}
          {message && (
            <p role="status" className="pivot-status">
              {message}
            </p>
          )}
          {summary && <SummaryView summary={summary} />}
          {results && <TriggerResults result={results} />}
        </div>
      )}
    </span>
  )
}

export function SummaryView({ summary }: { summary: EnrichSummary }) {
  return (
    <div className="enrich-summary" aria-label="Enrichment summary">
      <p>
        {summary.sightings} sighting{summary.sightings === 1 ? '' : 's'}
        {summary.verdicts.length > 0 && ' · '}
        {summary.verdicts.map((v) => `${v.disposition} (${v.module})`).join(', ')}
      </p>
      <ul>
        {summary.modules.map((m) => (
          <li key={m.module}>
            {m.module}: {m.sightings} sightings
          </li>
        ))}
        {summary.errors.map((e) => (
          <li key={e} className="error">
            {e}
          </li>
        ))}
      </ul>
    </div>
  )
}

/** Per-gateway, per-recipient results of a response action. */
export function TriggerResults({ result }: { result: TriggerResult }) {
  if (result.status === 'pending') return <p>Pending approval until {result.expires_at}</p>
  return (
    <table className="results" aria-label="Action results">
      <thead>
        <tr>
          <th scope="col">Gateway</th>
          <th scope="col">Recipient</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {(result.results ?? []).flatMap((leg, i) =>
          (leg.results ?? [{ recipient: '—', status: leg.status ?? 'failure' }]).map((r, j) => (
            <tr key={`${i}-${j}`}>
              <td>{leg.gateway ?? '—'}</td>
              <td>{r.recipient}</td>
              <td>{r.error ? `${r.status}: ${r.error}` : r.status}</td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  )
}
