import { useEffect, useMemo, useState } from 'react'
import { HubApi } from '../shared/hub-api.js'
import { PivotContext, type PivotSettings } from '../shared/pivot.js'
import { LoginForm, Shell, useHashRoute } from '../shared/ui.js'
import { attachRibbon } from '../shared/ribbon-host.js'
import { ApiClientsPage, ApprovalsPage, AuditPage, DevicesPage } from './admin-pages.js'
import { InvestigatePage } from './InvestigatePage.js'
import { hubTransport, login, logout, resume } from './session.js'

const NAV = [
  { page: 'investigate', label: 'Investigate' },
  { page: 'approvals', label: 'Approvals' },
  { page: 'devices', label: 'Devices' },
  { page: 'api-clients', label: 'API clients' },
  { page: 'audit', label: 'Audit log' },
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
        {page === 'investigate' && (
          <InvestigatePage hub={hub} initial={route.params.get('q') ?? ''} />
        )}
        {page === 'approvals' && <ApprovalsPage transport={transport} />}
        {page === 'devices' && <DevicesPage transport={transport} />}
        {page === 'api-clients' && <ApiClientsPage transport={transport} />}
        {page === 'audit' && <AuditPage transport={transport} />}
      </Shell>
    </PivotContext.Provider>
  )
}
