import { useEffect, useMemo, useState } from 'react'
import { HubApi } from '../shared/hub-api.js'
import { PivotContext, type PivotSettings } from '../shared/pivot.js'
import { LoginForm, Shell, useHashRoute } from '../shared/ui.js'
import { attachRibbon } from '../shared/ribbon-host.js'
import { ApiClientsPage, ApprovalsPage, AuditPage, DevicesPage } from './admin-pages.js'
import { CasebooksPage } from './CasebooksPage.js'
import { IncidentsPage } from './IncidentsPage.js'
import { InvestigatePage } from './InvestigatePage.js'
import { ModulesPage } from './ModulesPage.js'
import { PageBoundary } from './PageBoundary.js'
import { SettingsPage } from './SettingsPage.js'
import { TelemetryPage } from './TelemetryPage.js'
import { TicketsPage } from './TicketsPage.js'
import { hubTransport, login, logout, resume } from './session.js'

const NAV = [
  { page: 'investigate', label: 'Investigate' },
  { page: 'casebooks', label: 'Casebooks' },
  { page: 'incidents', label: 'Incidents' },
  { page: 'approvals', label: 'Approvals' },
  { page: 'tickets', label: 'Tickets' },
  { page: 'devices', label: 'Devices' },
  { page: 'telemetry', label: 'Telemetry' },
  { page: 'modules', label: 'Modules' },
  { page: 'api-clients', label: 'API clients' },
  { page: 'audit', label: 'Audit log' },
  { page: 'settings', label: 'Settings' },
]

export function HubConsole() {
  const [user, setUser] = useState<string | null | undefined>(undefined)
  const transport = useMemo(() => hubTransport(() => setUser(null)), [])
  const hub = useMemo(() => new HubApi(transport), [transport])
  const route = useHashRoute()
  useEffect(() => {
    void resume(transport).then(setUser)
  }, [transport])
  useEffect(() => {
    if (user)
      attachRibbon({ hubUrl: '', consoleUrl: '', headers: async () => transport.headers('POST') })
  }, [user, transport])

  const pivots: PivotSettings = useMemo(() => ({ hub, hubConsoleUrl: '', local: [] }), [hub])
  if (user === undefined) return null
  if (user === null) {
    return (
      <LoginForm
        title="Postern hub"
        userLabel="Email"
        onLogin={async (email, password) =>
          setUser((await login(transport, email, password)).email)
        }
      />
    )
  }
  const page = NAV.some((n) => n.page === route.page) ? route.page : 'investigate'
  return (
    <PivotContext.Provider value={pivots}>
      <Shell
        product="Postern hub"
        nav={NAV}
        current={page}
        user={user}
        onLogout={() => void logout(transport).then(() => setUser(null))}
      >
        <PageBoundary page={page}>
          {page === 'investigate' && (
            <InvestigatePage hub={hub} initial={route.params.get('q') ?? ''} />
          )}
          {page === 'casebooks' && (
            <CasebooksPage hub={hub} transport={transport} openId={route.params.get('id')} />
          )}
          {page === 'incidents' && (
            <IncidentsPage hub={hub} transport={transport} openId={route.params.get('id')} />
          )}
          {page === 'approvals' && <ApprovalsPage transport={transport} />}
          {page === 'tickets' && <TicketsPage transport={transport} />}
          {page === 'telemetry' && <TelemetryPage transport={transport} />}
          {page === 'modules' && <ModulesPage transport={transport} />}
          {page === 'settings' && <SettingsPage transport={transport} />}
        </PageBoundary>
        {page === 'devices' && <DevicesPage transport={transport} />}
        {page === 'api-clients' && <ApiClientsPage transport={transport} />}
        {page === 'audit' && <AuditPage transport={transport} />}
      </Shell>
    </PivotContext.Provider>
  )
}
