/** What a page gives the ribbon: where the hub is and how to authenticate a call to it. */
export interface RibbonSource {
  /** The hub's API base ('' when the page is the hub console itself). */
  hubUrl: string
  /** The hub console's address, for "Investigate in hub". */
  consoleUrl: string
  headers(): Promise<Record<string, string>>
}

export interface RibbonElement extends HTMLElement {
  source: RibbonSource | null
}

/** Puts the ribbon (loaded by /ribbon.js) at the bottom of the page and gives it its source. */
export function attachRibbon(source: RibbonSource): void {
  if (!document.querySelector('script[data-ribbon]')) {
    const script = document.createElement('script')
    script.src = '/ribbon.js'
    script.dataset.ribbon = ''
    document.head.append(script)
  }
  let ribbon = document.querySelector<RibbonElement>('postern-ribbon')
  if (!ribbon) {
    ribbon = document.createElement('postern-ribbon') as RibbonElement
    document.body.append(ribbon)
  }
  ribbon.source = source
}

/** A hub access token and when it expires (epoch ms). */
export interface HubToken {
  accessToken: string
  expiresAt: number
}

/** A source that gets short-lived hub tokens from `fetchToken`, each reused until it nearly expires. */
export function tokenSource(hubUrl: string, fetchToken: () => Promise<HubToken>): RibbonSource {
  let cached: HubToken | null = null
  return {
    hubUrl,
    consoleUrl: hubUrl,
    async headers() {
      if (!cached || cached.expiresAt < Date.now() + 30_000) cached = await fetchToken()
      return { authorization: `Bearer ${cached.accessToken}` }
    },
  }
}
