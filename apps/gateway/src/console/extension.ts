import { serveConsole } from '@postern/http'
import { consoleDir } from '@postern/web'
import type { Gateway, GatewayExtension } from '../gateway.js'

/**
 * The gateway console (apps/web) on the gateway's own HTTP server, under a strict
 * Content-Security-Policy; its page and bundles are public, every API call it makes is not.
 */
export function consoleExtension(): GatewayExtension {
  return {
    name: 'console',
    setup(gateway: Gateway) {
      serveConsole(gateway.http, { dir: consoleDir('gateway'), routeConfig: { public: true } })
    },
  }
}
