import { defineErrors } from '@postern/core'

/** Errors of the gateway↔hub tunnel, on either side. */
export const tunnelErrors = defineErrors('TUNNEL', {
  NOT_CONNECTED: {
    message: 'The tunnel to {peer} is not connected',
    hint: 'Check the peer is running and reachable; the tunnel reconnects by itself once it is.',
    status: 503,
  },
  CLOSED: {
    message: 'The tunnel to {peer} closed before the reply to {method} arrived',
    hint: 'The connection dropped; retry once the tunnel has reconnected.',
    status: 503,
  },
  TIMEOUT: {
    message: 'No reply to {method} from {peer} within {timeoutMs} ms',
    hint: 'The peer is slow or overloaded; retry later or raise the timeout for this call.',
    status: 504,
  },
  TOO_MANY_IN_FLIGHT: {
    message: 'Too many calls in flight to {peer} (limit {limit})',
    hint: 'Wait for earlier calls to finish before sending more.',
    status: 503,
  },
  UNKNOWN_METHOD: {
    message: 'The peer does not handle "{method}"',
    hint: 'Both sides may run different versions; upgrade the older one.',
    status: 501,
  },
  HANDLER_FAILED: {
    message: 'The peer failed while handling "{method}" (trace id {traceId})',
    hint: "The peer logged the failure with this trace id; check the peer's logs.",
    status: 502,
  },
  FRAME_INVALID: {
    message: 'A tunnel frame from {peer} is malformed: {reason}',
    hint: 'Both sides must speak tunnel protocol version {version}; upgrade the older side.',
    status: 400,
  },
  REFUSED: {
    message: 'The hub refused the tunnel ({status}): {reason}',
    hint: 'The device credential is not valid any more (deregistered in the hub?): register the device again.',
    status: 401,
  },
  URL_INVALID: {
    message: 'The tunnel URL "{url}" is not a ws:// or wss:// URL',
    hint: 'Configure the hub URL as http(s)://host[:port]; the tunnel path is derived from it.',
    status: 400,
  },
})
