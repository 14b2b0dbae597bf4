import { defineErrors } from '@postern/core'

/**
 * Errors of the relay-module contract. Authentication reasons start with the wording of the public
 * relay modules (reference §4, `tr-05-serverless-*` `api/utils.py`) because operators search for
 * those strings; where that wording names Cisco's hosts, the second sentence is ours. On the wire they become `{"code":"authorization failed","message":"Authorization
 * failed: <reason>","type":"fatal"}` (see `wire.ts`).
 */
export const relayErrors = defineErrors('RELAY', {
  AUTH_HEADER_MISSING: {
    message: 'Authorization header is missing',
    hint: 'Send "Authorization: Bearer <configuration token>"; the hub adds it when the module instance has a URL and the token settings.',
    status: 401,
  },
  AUTH_WRONG_TYPE: {
    message: 'Wrong authorization type',
    hint: 'Use the Bearer scheme: "Authorization: Bearer <token>".',
    status: 401,
  },
  JWT_WRONG_STRUCTURE: {
    message: 'Wrong JWT structure',
    hint: 'The bearer token is not a JWT; check that the caller sends the configuration token unchanged.',
    status: 401,
  },
  JWT_WRONG_PAYLOAD: {
    message: 'Wrong JWT payload structure',
    hint: 'The token lacks a claim this module needs ({claim}); fill the matching custom_{claim} setting of the module instance.',
    status: 401,
  },
  JWKS_HOST_MISSING: {
    message:
      'jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type',
    hint: 'Add "custom_jwks_host" to the module type properties so that the platform puts jwks_host into its tokens.',
    status: 401,
  },
  JWKS_HOST_WRONG: {
    message:
      'Wrong jwks_host in JWT payload. Make sure custom_jwks_host names a host this module trusts',
    hint: 'The token names JWKS host "{host}", which this module does not trust or cannot reach; add the hub to the module\'s trusted JWKS hosts or fix custom_jwks_host.',
    status: 401,
  },
  KID_NOT_FOUND: {
    message: 'kid from JWT header not found in API response',
    hint: 'The signing key id is not (or no longer) in the JWKS of {host}; the hub may have rotated keys: retry, or check that it publishes its key.',
    status: 401,
  },
  JWT_WRONG_KEY: {
    message:
      'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to the hub that calls this module.',
    hint: 'The signature does not verify against the JWKS of {host}: the token was signed by another hub or region.',
    status: 401,
  },
  JWT_WRONG_AUDIENCE: {
    message: 'Wrong configuration-token-audience',
    hint: "The token was minted for another URL; the module instance URL on the hub must equal this module's URL ({audience}).",
    status: 401,
  },
  JWT_EXPIRED: {
    message: 'Configuration token has expired',
    hint: 'The hub mints a fresh token per call; check that both clocks are right (NTP).',
    status: 401,
  },
  INVALID_PAYLOAD: {
    message: 'Invalid JSON payload received. {details}.',
    hint: 'Send the body the contract describes (docs/api.md, "Relay module contract").',
    status: 400,
  },
  MODULE_FAILED: {
    message: 'Something went wrong.',
    hint: 'The module failed while answering; its log has the details (event RELAY_HANDLER_FAILED, request id {reqId}).',
    status: 500,
  },
  SIGNING_KEY_INVALID: {
    message: 'The signing key cannot sign RS256 tokens: {reason}',
    hint: 'Give an RSA private key (2048 bits or more) as a JWK or PKCS#8 PEM, with its key id.',
  },
  MODULE_URL_INVALID: {
    message: 'The module URL "{url}" is not an absolute http(s) URL',
    hint: "Set the module instance URL to the module's base address, e.g. https://relay.example.com.",
    status: 400,
  },
  CLAIM_RESERVED: {
    message: 'The setting "{setting}" would overwrite the registered claim "{claim}"',
    hint: 'Rename the custom setting: iss, sub, aud, exp, nbf, iat, jti, jwks_host are set by the hub.',
    status: 400,
  },
  MODULE_TIMEOUT: {
    message: 'The module did not answer within {timeoutMs} ms',
    hint: 'The module is slow or down; raise its timeout or check it with POST /health.',
  },
  MODULE_UNREACHABLE: {
    message: 'The module at {url} cannot be reached: {reason}',
    hint: 'Check the module URL, DNS and that the module accepts connections from the hub.',
  },
  MODULE_BAD_RESPONSE: {
    message: 'The module answered something that is not the relay contract: {reason}',
    hint: 'Relay modules answer HTTP 200 with {"data": …} or {"errors": […]}; check the module version.',
  },
  CALL_ABORTED: {
    message: 'The call to the module was cancelled',
    hint: 'The request that needed it went away; nothing to do.',
  },
})
