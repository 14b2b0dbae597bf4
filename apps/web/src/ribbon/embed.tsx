import { createRoot, type Root } from 'react-dom/client'
import { tokenSource, type HubToken, type RibbonSource } from '../shared/ribbon-host.js'
import { CasebookApp, EnrichApp, HomeApp, IncidentsApp } from './apps.js'
import { registerApp } from './registry.js'
import { reserveSpaceFor } from './reserve-space.js'
import { Ribbon } from './Ribbon.js'
import styles from './ribbon.css?inline'

registerApp({ id: 'home', title: 'Home', component: HomeApp })
registerApp({ id: 'casebook', title: 'Casebook', component: CasebookApp })
registerApp({ id: 'incidents', title: 'Incidents', component: IncidentsApp })
registerApp({ id: 'enrich', title: 'Enrich', component: EnrichApp })

/**
 * `<postern-ribbon>`: the ribbon as a web component, in its own shadow root so a host page's
 * styles neither leak in nor out. A page gives it a `source` (hub URL + how to authenticate);
 * a page without script of its own names its `hub-url` and a `token-url` answering
 * `{accessToken, expiresAt}`. While connected it keeps its height free at the bottom of the page
 * (reserve-space.ts), so nothing of the page is left under it.
 */
class PosternRibbonElement extends HTMLElement {
  private root: Root | null = null
  private releaseSpace: (() => void) | null = null
  private sourceValue: RibbonSource | null = null

  get source(): RibbonSource | null {
    return this.sourceValue
  }

  set source(value: RibbonSource | null) {
    this.sourceValue = value
    this.render()
  }

  connectedCallback(): void {
    // A page may set `source` before this script defined the element: that set an own property
    // on the plain element, which would hide the accessor; take its value over.
    if (Object.hasOwn(this, 'source')) {
      const early = (this as unknown as { source: RibbonSource | null }).source
      delete (this as unknown as { source?: unknown }).source
      this.sourceValue = early
    }
    if (!this.root) {
      const shadow = this.attachShadow({ mode: 'open' })
      const sheet = new CSSStyleSheet()
      sheet.replaceSync(styles)
      shadow.adoptedStyleSheets = [sheet]
      const mount = document.createElement('div')
      shadow.append(mount)
      this.root = createRoot(mount)
    }
    this.releaseSpace ??= reserveSpaceFor(this)
    const tokenUrl = this.getAttribute('token-url')
    if (!this.sourceValue && tokenUrl)
      this.sourceValue = urlTokenSource(tokenUrl, this.getAttribute('hub-url') ?? '')
    this.render()
  }

  disconnectedCallback(): void {
    this.releaseSpace?.()
    this.releaseSpace = null
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

/** `token-url` answers a POST with `{hubUrl, accessToken, expiresAt}` for the page's user. */
function urlTokenSource(url: string, hubUrl: string): RibbonSource {
  return tokenSource(hubUrl, async () => {
    const response = await fetch(url, { method: 'POST', credentials: 'same-origin' })
    if (!response.ok) throw new Error(`The ribbon token source answered HTTP ${response.status}`)
    return (await response.json()) as HubToken
  })
}

if (!customElements.get('postern-ribbon'))
  customElements.define('postern-ribbon', PosternRibbonElement)

declare global {
  interface Window {
    PosternRibbon: { registerApp: typeof registerApp }
  }
}
window.PosternRibbon = { registerApp }
