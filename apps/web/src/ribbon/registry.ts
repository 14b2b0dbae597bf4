import type { ComponentType } from 'react'
import type { HubApi } from '../shared/hub-api.js'

export interface RibbonAppProps {
  hub: HubApi
  /** The casebook open in the ribbon (kept with the ribbon's state), null when none. */
  caseId?: string | null
  /** Opens a casebook in the ribbon (null goes back to the list). */
  openCase?(id: string | null): void
}

/** An app of the ribbon; another product adds its own with `PosternRibbon.registerApp`. */
export interface RibbonApp {
  id: string
  title: string
  component: ComponentType<RibbonAppProps>
}

const apps: RibbonApp[] = []
const listeners = new Set<() => void>()

export function registerApp(app: RibbonApp): void {
  const at = apps.findIndex((a) => a.id === app.id)
  if (at >= 0) apps[at] = app
  else apps.push(app)
  for (const listener of listeners) listener()
}

export function registeredApps(): readonly RibbonApp[] {
  return apps
}

export function onAppsChanged(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
