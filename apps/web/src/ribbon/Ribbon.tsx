import { useEffect, useMemo, useState, type MouseEvent } from 'react'
import { HubApi } from '../shared/hub-api.js'
import { PivotContext } from '../shared/pivot.js'
import type { RibbonSource } from '../shared/ribbon-host.js'
import { onAppsChanged, registeredApps } from './registry.js'

const STATE_KEY = 'postern.ribbon'

interface RibbonState {
  expanded: boolean
  app: string
}

/** Kept in localStorage so the ribbon opens as it was left, on every page of the origin. */
function readState(): RibbonState {
  try {
    const saved = JSON.parse(localStorage.getItem(STATE_KEY) ?? '{}') as Partial<RibbonState>
    return {
      expanded: saved.expanded === true,
      app: typeof saved.app === 'string' ? saved.app : 'home',
    }
  } catch {
    return { expanded: false, app: 'home' }
  }
}

export function Ribbon({
  source,
  onSettings,
}: {
  source: RibbonSource | null
  onSettings?: (event: MouseEvent) => void
}) {
  const [state, setState] = useState(readState)
  const [apps, setApps] = useState(registeredApps)
  useEffect(() => onAppsChanged(() => setApps([...registeredApps()])), [])
  useEffect(() => localStorage.setItem(STATE_KEY, JSON.stringify(state)), [state])
  const hub = useMemo(
    () => (source ? new HubApi({ base: source.hubUrl, headers: () => source.headers() }) : null),
    [source],
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
            {hub && Current && <Current hub={hub} />}
          </div>
        )}
        <div className="bar">
          <span className="name">Postern ribbon</span>
          {apps.map((app) => (
            <button
              key={app.id}
              type="button"
              aria-pressed={state.expanded && current?.id === app.id}
              onClick={() => setState({ expanded: true, app: app.id })}
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
