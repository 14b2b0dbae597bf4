export { tunnelErrors } from './errors.js'
export * from './protocol.js'
export { Backoff, type BackoffOptions } from './backoff.js'
export {
  TunnelPeer,
  remoteToError,
  type CallContext,
  type RequestHandler,
  type EventHandler,
  type TunnelHandlers,
  type PeerOptions,
} from './peer.js'
export {
  TunnelClient,
  type TunnelClientOptions,
  type TunnelClientState,
  type TunnelClientStatus,
} from './client.js'
export { TunnelServer, type TunnelServerOptions, type TunnelAuthResult } from './server.js'
export * from './methods.js'
export * from './intel.js'
