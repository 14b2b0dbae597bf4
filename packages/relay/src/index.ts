export { relayErrors } from './errors.js'
export * from './contract.js'
export { RelayFailure, relayErrorEntry } from './wire.js'
export * from './tokens.js'
export {
  bearerToken,
  createConfigurationTokenVerifier,
  type ConfigurationTokenOptions,
  type VerifiedToken,
} from './auth.js'
export * from './server.js'
export * from './client.js'
