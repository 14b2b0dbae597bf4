import { createRoot, type Root } from 'react-dom/client'
import type { RibbonSource } from '../shared/ribbon-host.js'
import { CasebookApp, EnrichApp, HomeApp, IncidentsApp } from './apps.js'
import { registerApp } from './registry.js'
import { Ribbon } from './Ribbon.js'
import styles from './ribbon.css?inline'

registerApp({ id: 'home', title: 'Home', component: HomeApp })
registerApp({ id: 'casebook', title: 'Casebook', component: CasebookApp })
registerApp({ id: 'incidents', title: 'Incidents', component: IncidentsApp })
registerApp({ id: 'enrich', title: 'Enrich', component: EnrichApp })

/**
 * `<postern-ribbon>`: the ribbon as a web component, in its own shadow root so a host page's
 * styles neither leak in nor out. A page gives it a `source` (hub URL + how to authenticate);
 * a page without script of its own names a `token-url` answering `{hubUrl, accessToken}`.
 */
class PosternRibbonElement extends HTMLElement {
  private root: Root | null = null
  private sourceValue: RibbonSource | null = null

  get source(): RibbonSource | null {
    return this.sourceValue
  }

  set source(value: RibbonSource | null) {
    this.sourceValue = value
    this.render()
  }

  connectedCallback(): void {
    if (!this.root) {
      const shadow = this.attachShadow({ mode: 'open' })
      const sheet = new CSSStyleSheet()
      sheet.replaceSync(styles)
      shadow.adoptedStyleSheets = [sheet]
      const mount = document.createElement('div')
      shadow.append(mount)
      this.root = createRoot(mount)
    }
    const tokenUrl = this.getAttribute('token-url')
    if (!this.sourceValue && tokenUrl) this.sourceValue = tokenSource(tokenUrl)
    this.render()
  }

  disconnectedCallback(): void {
    this.root?.unmount()
    this.root = null
  }

  private render(): void {
    this.root?.render(
      <Ribbon
        source={this.sourceValue}
        onSettings={(event) => {
          event.preventDefault()
          this.dispatchEvent(new CustomEvent('ribbon-settings', { bubbles: true, composed: true }))
        }}
      />,
    )
  }
}

/** A source that fetches short-lived hub tokens from `url` and reuses each until it nearly expires. */
export function tokenSource(url: string, hubUrl?: string): RibbonSource {
  let cached: { token: string; until: number; hubUrl: string } | null = null
  const source: RibbonSource = {
    hubUrl: hubUrl ?? '',
    consoleUrl: hubUrl ?? '',
    async headers() {
      if (!cached || cached.until < Date.now() + 30_000) {
        const response = await fetch(url, { method: 'POST', credentials: 'same-origin' })
        if (!response.ok)
          throw new Error(`The ribbon token source answered HTTP ${response.status}`)
        const body = (await response.json()) as {
          accessToken: string
          expiresAt: number
          hubUrl: string
        }
        cached = { token: body.accessToken, until: body.expiresAt, hubUrl: body.hubUrl }
      }
      return { authorization: `Bearer ${cached.token}` }
    },
  }
  return source
}

if (!customElements.get('postern-ribbon'))
  customElements.define('postern-ribbon', PosternRibbonElement)

declare global {
  interface Window {
    PosternRibbon: { registerApp: typeof registerApp }
  }
}
window.PosternRibbon = { registerApp }
