import { join } from 'node:path'
import { SecretBox } from '@postern/core'
import { serveConsole } from '@postern/http'
import { RibbonCredentialsRepo } from '@postern/store'
import { consoleDir } from '@postern/web'
import type { Gateway, GatewayExtension } from '../gateway.js'
import { SECRET_KEY_FILE } from '../remediation/extension.js'
import { RibbonLogin } from './ribbon-login.js'
import { registerRibbonRoutes } from './routes.js'

/**
 * The gateway console (apps/web) on the gateway's own HTTP server, under a strict
 * Content-Security-Policy that also lets the page call the hubs its users' ribbons log in to;
 * its page and bundles are public, every API call it makes is not.
 */
export function consoleExtension(): GatewayExtension {
  return {
    name: 'console',
    setup(gateway: Gateway) {
      const login = new RibbonLogin({
        repo: new RibbonCredentialsRepo(gateway.database.db),
        box: SecretBox.fromKeyFile(join(gateway.config.dataDir, SECRET_KEY_FILE)),
        clock: gateway.clock,
      })
      registerRibbonRoutes(gateway.http, login)
      serveConsole(gateway.http, {
        dir: consoleDir('gateway'),
        routeConfig: { public: true },
        connectSources: async () => [
          ...new Set((await login.hubUrls()).map((u) => new URL(u).origin)),
        ],
      })
    },
  }
}
