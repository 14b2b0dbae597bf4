export { hubCommand } from './cli/index.js'
export { Hub, HUB_VERSION, type HubStartOptions } from './hub.js'
export { HubAdmin, generatePassword, type CreatedAdmin } from './admin.js'
export { hubConfigSchema, type HubConfig } from './config.js'
export { hubErrors } from './errors.js'
export { openHubServices, type HubServices } from './services.js'
export type { Principal, RouteAuthConfig } from './auth/principal.js'
export type { RouteRecord } from './auth/auth-plugin.js'
export {
  scopeCovers,
  scopesCover,
  parseScope,
  SCOPE_CATALOGUE,
  RIBBON_CLIENT_SCOPES,
} from './auth/scopes.js'
export { ROLES, scopesOfRole, type Role } from './auth/roles.js'
export {
  missingScopeBody,
  unauthorisedBody,
  unknownExceptionBody,
  NO_JWT_DESCRIPTION,
} from './auth/iroh-errors.js'
export { KeyStore, type SigningKey, type PublishedJwk } from './auth/key-store.js'
export { DeviceTunnel, TUNNEL_PATH, type DeviceConnection } from './tunnel/device-tunnel.js'
