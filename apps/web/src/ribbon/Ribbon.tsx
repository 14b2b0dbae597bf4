import { useCallback, useEffect, useMemo, useState, type MouseEvent } from 'react'
import { HubApi, type RibbonState } from '../shared/hub-api.js'
import { PivotContext } from '../shared/pivot.js'
import type { RibbonSource } from '../shared/ribbon-host.js'
import { onAppsChanged, registeredApps } from './registry.js'

const STATE_KEY = 'postern.ribbon'
const DEFAULT_STATE: RibbonState = { expanded: false, app: 'home', caseId: null, savedAt: 0 }

/**
 * The last state this origin saw, so the ribbon opens at once as it was left; the hub's copy
 * (per user, shared by both consoles) replaces it when newer. A page closed while saving leaves
 * a newer copy here than in the hub: then this one is sent.
 */
function readCachedState(): RibbonState {
  try {
    const saved = JSON.parse(localStorage.getItem(STATE_KEY) ?? '{}') as Partial<RibbonState>
    return {
      expanded: saved.expanded === true,
      app: typeof saved.app === 'string' ? saved.app : DEFAULT_STATE.app,
      caseId: typeof saved.caseId === 'string' ? saved.caseId : null,
      savedAt: typeof saved.savedAt === 'number' ? saved.savedAt : 0,
    }
  } catch {
    return DEFAULT_STATE
  }
}

export function Ribbon({
  source,
  onSettings,
}: {
  source: RibbonSource | null
  onSettings?: (event: MouseEvent) => void
}) {
  const [state, setLocalState] = useState(readCachedState)
  const [apps, setApps] = useState(registeredApps)
  useEffect(() => onAppsChanged(() => setApps([...registeredApps()])), [])
  const hub = useMemo(
    () => (source ? new HubApi({ base: source.hubUrl, headers: () => source.headers() }) : null),
    [source],
  )
  useEffect(() => {
    if (!hub) return
    let live = true
    hub.ribbonState().then(
      (saved) => {
        if (!live) return
        const cached = readCachedState()
        if (cached.savedAt > saved.savedAt) {
          void hub.saveRibbonState(cached).catch(() => undefined)
          return
        }
        setLocalState(saved)
        localStorage.setItem(STATE_KEY, JSON.stringify(saved))
      },
      () => undefined, // the cached state stays: a hub that cannot answer must not hide the ribbon
    )
    return () => {
      live = false
    }
  }, [hub])
  const setState = useCallback(
    (change: Omit<RibbonState, 'savedAt'>) => {
      const next = { ...change, savedAt: Date.now() }
      setLocalState(next)
      localStorage.setItem(STATE_KEY, JSON.stringify(next))
      void hub?.saveRibbonState(next).catch(() => undefined)
    },
    [hub],
  )
  const pivots = useMemo(
    () => ({ hub, hubConsoleUrl: source?.consoleUrl ?? null, local: [] }),
    [hub, source],
  )
  const current = apps.find((a) => a.id === state.app) ?? apps[0]
  const Current = current?.component
  return (
    <PivotContext.Provider value={pivots}>
      <div className="ribbon" role="region" aria-label="Postern ribbon" onContextMenu={onSettings}>
        {state.expanded && (
          <div className="pane" id="ribbon-pane">
            {!hub && <p>Log in to the ribbon to use the hub.</p>}
            {hub && Current && (
              <Current
                hub={hub}
                caseId={state.caseId}
                openCase={(caseId) => setState({ ...state, caseId })}
              />
            )}
          </div>
        )}
        <div className="bar">
          <span className="name">Postern ribbon</span>
          {apps.map((app) => (
            <button
              key={app.id}
              type="button"
              aria-pressed={state.expanded && current?.id === app.id}
              onClick={() => setState({ ...state, expanded: true, app: app.id })}
            >
              {app.title}
            </button>
          ))}
          <span className="spacer" />
          <button
            type="button"
            aria-expanded={state.expanded}
            aria-controls="ribbon-pane"
            onClick={() => setState({ ...state, expanded: !state.expanded })}
          >
            {state.expanded ? 'Collapse ribbon' : 'Expand ribbon'}
          </button>
        </div>
      </div>
    </PivotContext.Provider>
  )
}
