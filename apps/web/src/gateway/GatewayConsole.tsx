import { useCallback, useEffect, useMemo, useState } from 'react'
import { call } from '../shared/api.js'
import { HubApi } from '../shared/hub-api.js'
import { PivotContext, type PivotSettings } from '../shared/pivot.js'
import { attachRibbon } from '../shared/ribbon-host.js'
import { LoginForm, Shell, useHashRoute } from '../shared/ui.js'
import { BlocklistsPage } from './BlocklistsPage.js'
import { CloudPage } from './CloudPage.js'
import { PoliciesPage } from './PoliciesPage.js'
import { ProfilesPage } from './ProfilesPage.js'
import { QuarantinePage } from './QuarantinePage.js'
import { QueuePage } from './QueuePage.js'
import { ReportingPage } from './ReportingPage.js'
import { RibbonLoginDialog } from './RibbonLoginDialog.js'
import {
  currentUser,
  gatewayTransport,
  login,
  logout,
  ribbonSource,
  type RibbonLoginView,
} from './session.js'
import { TrackingPage } from './TrackingPage.js'

const NAV = [
  { page: 'reporting', label: 'Email Reporting' },
  { page: 'tracking', label: 'Message Tracking' },
  { page: 'quarantine', label: 'Quarantine' },
  { page: 'blocklists', label: 'Block lists' },
  { page: 'queue', label: 'Hold queue' },
  { page: 'policies', label: 'Mail policies' },
  { page: 'accounts', label: 'Account Settings' },
  { page: 'cloud', label: 'Cloud Service Settings' },
]

export function GatewayConsole() {
  const [user, setUser] = useState<string | null>(currentUser)
  const transport = useMemo(() => gatewayTransport(() => setUser(null)), [])
  const route = useHashRoute()
  const [ribbon, setRibbon] = useState<RibbonLoginView | null>(null)
  const [dialogOpen, setDialogOpen] = useState(false)

  const loadRibbon = useCallback(() => {
    void call<RibbonLoginView>(transport, 'GET', '/api/v1/ribbon/login').then(setRibbon, () =>
      setRibbon(null),
    )
  }, [transport])
  useEffect(() => {
    if (user) loadRibbon()
  }, [user, loadRibbon])

  const source = useMemo(
    () => (ribbon?.configured && ribbon.hubUrl ? ribbonSource(transport, ribbon.hubUrl) : null),
    [ribbon, transport],
  )
  useEffect(() => {
    if (!user) return
    if (source) attachRibbon(source)
    const onSettings = () => setDialogOpen(true)
    document.addEventListener('ribbon-settings', onSettings)
    return () => document.removeEventListener('ribbon-settings', onSettings)
  }, [user, source])

  const pivots: PivotSettings = useMemo(
    () => ({
      hub: source ? new HubApi({ base: source.hubUrl, headers: () => source.headers() }) : null,
      hubConsoleUrl: source?.consoleUrl ?? null,
      local: [
        {
          label: 'Search in Message Tracking',
          run: (o) => {
            window.location.hash = `#/tracking?type=${encodeURIComponent(o.type)}&value=${encodeURIComponent(o.value)}`
          },
        },
      ],
    }),
    [source],
  )

  if (!user) {
    return (
      <LoginForm
        title="Postern gateway"
        userLabel="User name"
        onLogin={async (name, password) => setUser(await login(transport, name, password))}
      />
    )
  }
  const page = NAV.some((n) => n.page === route.page) ? route.page : 'reporting'
  return (
    <PivotContext.Provider value={pivots}>
      <Shell
        product="Postern gateway"
        nav={NAV}
        current={page}
        user={user}
        onLogout={() => void logout(transport).then(() => setUser(null))}
      >
        <p>
          <button type="button" onClick={() => setDialogOpen(true)}>
            {ribbon?.configured
              ? `Ribbon: ${ribbon.clientId ?? ''} at ${ribbon.hubUrl ?? ''}`
              : 'Login to use the ribbon'}
          </button>
        </p>
        {page === 'reporting' && <ReportingPage transport={transport} />}
        {page === 'tracking' && <TrackingPage transport={transport} params={route.params} />}
        {page === 'quarantine' && <QuarantinePage transport={transport} />}
        {page === 'blocklists' && <BlocklistsPage transport={transport} />}
        {page === 'queue' && <QueuePage transport={transport} />}
        {page === 'policies' && <PoliciesPage transport={transport} />}
        {page === 'accounts' && <ProfilesPage transport={transport} />}
        {page === 'cloud' && <CloudPage transport={transport} />}
      </Shell>
      <RibbonLoginDialog
        transport={transport}
        open={dialogOpen}
        current={{ clientId: ribbon?.clientId ?? null, hubUrl: ribbon?.hubUrl ?? null }}
        onClose={() => setDialogOpen(false)}
        // The page's Content-Security-Policy names the hubs it may call: load it again for a new one.
        onSaved={() => window.location.reload()}
      />
    </PivotContext.Provider>
  )
}
