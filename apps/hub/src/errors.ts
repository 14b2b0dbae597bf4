import { defineErrors } from '@postern/core'

/** The hub's error catalog (codes `HUB_ERR_*`). */
export const hubErrors = defineErrors('HUB', {
  ROUTE_AUTH_UNDECLARED: {
    message: 'Route {method} {url} declares neither a scope nor that it is public',
    hint: 'Add config: { scope: "<scope>" }, { authenticated: true }, { device: true } or { public: true } to the route.',
    status: 500,
  },
  SCOPE_INVALID: {
    message: '"{scope}" is not a valid scope',
    hint: 'A scope is one word of letters, digits, "-" and "_", with "/" between sub-resources and an optional ":read" or ":write" suffix, e.g. enrich:read.',
    status: 400,
  },
  SCOPE_UNKNOWN: {
    message: 'Scope "{scope}" is not in the hub\'s catalogue',
    hint: 'Use scopes listed in docs/hub.md (casebook, enrich:read, inspect:read, devices, …).',
    status: 400,
  },
  SCOPE_NOT_GRANTABLE: {
    message: 'You cannot grant scope "{scope}": you do not hold it yourself',
    hint: 'Ask an administrator whose role includes this scope to create the client.',
    status: 403,
  },
  ORG_NOT_FOUND: {
    message: 'No organisation "{org}"',
    hint: 'List organisations with `postern hub org list`, or create one with `postern hub org create --name NAME`.',
    status: 404,
  },
  ORG_AMBIGUOUS: {
    message: 'The hub has {count} organisations; say which one',
    hint: 'Pass --org with the organisation id or name.',
    status: 400,
  },
  ORG_DISABLED: {
    message: 'Organisation {org} is disabled',
    hint: 'An operator can enable it again with `postern hub org enable`.',
    status: 403,
  },
  USER_EXISTS: {
    message: 'A user with e-mail {email} already exists',
    hint: 'Use another address, or update the existing user.',
    status: 409,
  },
  USER_NOT_FOUND: {
    message: 'No user {user} in this organisation',
    hint: 'List users with GET /api/v1/users.',
    status: 404,
  },
  ROLE_INVALID: {
    message: 'Unknown role "{role}"',
    hint: 'Use admin, analyst or read-only.',
    status: 400,
  },
  PASSWORD_WEAK: {
    message: 'The password is too short ({length} characters)',
    hint: 'Use at least 12 characters; a passphrase of several words is easiest to remember.',
    status: 400,
  },
  LOGIN_FAILED: {
    message: 'Wrong e-mail address or password',
    hint: 'Check both and try again; after several failures, logins from your address pause for a while.',
    status: 401,
  },
  LOGIN_THROTTLED: {
    message: 'Too many failed logins for this account from your address',
    hint: 'Wait {minutes} minutes and try again, or ask an administrator to reset your password.',
    status: 429,
  },
  CSRF_INVALID: {
    message: 'The request lacks the CSRF token of your session',
    hint: 'Send the csrfToken returned at login in the X-CSRF-Token header with every change.',
    status: 403,
  },
  CLIENT_NOT_FOUND: {
    message: 'No API client {clientId} in this organisation',
    hint: 'List API clients with GET /api/v1/api-clients.',
    status: 404,
  },
  REGISTRATION_TOKEN_INVALID: {
    message: 'The registration token is not valid',
    hint: 'Copy the token again from the hub (Devices → registration token), or create a new one with `postern hub token create`.',
    status: 401,
  },
  REGISTRATION_TOKEN_USED: {
    message: 'The registration token was already used (by device {deviceId})',
    hint: 'Tokens are single use: create a new one with `postern hub token create`.',
    status: 409,
  },
  REGISTRATION_TOKEN_EXPIRED: {
    message: 'The registration token expired at {expiredAt}',
    hint: 'Create a new one with `postern hub token create` and register within its lifetime (1 hour by default).',
    status: 401,
  },
  REGISTRATION_TOKEN_NOT_FOUND: {
    message: 'No unused registration token {tokenId} in this organisation',
    hint: 'List tokens with GET /api/v1/devices/registration-tokens; used tokens cannot be revoked (deregister the device instead).',
    status: 404,
  },
  DEVICE_ALREADY_REGISTERED: {
    message:
      'A device with UID {uid} is already registered in this organisation (device {deviceId})',
    hint: 'Deregister it first (on the gateway, or in the hub under Devices), then register again with a new token.',
    status: 409,
  },
  DEVICE_NOT_FOUND: {
    message: 'No registered device {deviceId} in this organisation',
    hint: 'List devices with GET /api/v1/devices.',
    status: 404,
  },
  DEVICE_CREDENTIAL_INVALID: {
    message: 'The device credential is not valid',
    hint: 'The device was deregistered or its credential revoked: register it again with a new token.',
    status: 401,
  },
  DEVICE_NOT_CONNECTED: {
    message: 'Device {deviceId} is not connected to this hub',
    hint: 'Check the gateway is running with cloud services enabled (`postern gateway cloudserviceconfig status`).',
    status: 503,
  },
  CLUSTER_UNREACHABLE: {
    message: 'Cannot reach the cluster bus (NATS) at {url}: {reason}',
    hint: 'Start NATS or fix cluster.natsUrl; every hub node of one database needs the same NATS (docs/operations.md, "Scaling out").',
    status: 503,
  },
  CLUSTER_CALL_FAILED: {
    message: 'The call to device {deviceId} through the cluster bus failed: {reason}',
    hint: "Check the hub nodes' logs and that NATS is up; the call can be retried.",
    status: 502,
  },
  CLUSTER_REPLY_INVALID: {
    message: 'A hub node sent a malformed message about device {deviceId} over the cluster bus',
    hint: 'Every hub node sharing the bus must run the same Postern version.',
    status: 502,
  },
  CLUSTER_REPLY_TOO_LARGE: {
    message: 'The reply of device {deviceId} does not fit in one cluster bus message: {reason}',
    hint: "Raise NATS's max_payload, or narrow the request (fewer observables) so the answer is smaller.",
    status: 502,
  },
  DEVICE_CALL_INVALID: {
    message: 'Invalid device call: {reason}',
    hint: 'Module paths start with "/" and bodies are JSON; see docs/tunnel.md.',
    status: 400,
  },
  TELEMETRY_INVALID: {
    message: 'The telemetry report is invalid: {reason}',
    hint: 'The gateway and hub versions may differ; upgrade the older one.',
    status: 400,
  },
  TELEMETRY_SCOPE_MISSING: {
    message: 'This device may not write telemetry',
    hint: 'Devices write telemetry with the telemetry:write scope; re-register the device.',
    status: 403,
  },
  SECRET_FILE_UNREADABLE: {
    message: 'Cannot read {path}: {reason}',
    hint: 'Check the path and that this user may read it.',
    status: 500,
  },
  SIGNING_KEY_MISSING: {
    message: 'The hub has no signing key',
    hint: 'Restart the hub; it creates a key at start. If it keeps failing, check the database is writable.',
    status: 500,
  },
  MODULE_TYPE_NOT_FOUND: {
    message: 'No module type {id} in this organisation',
    hint: 'List module types with GET /iroh/iroh-int/module-type.',
    status: 404,
  },
  MODULE_TYPE_BUILTIN: {
    message: 'Module type {id} is built in and cannot be changed or deleted',
    hint: 'Create a module instance of it instead, or define your own relay module type.',
    status: 409,
  },
  MODULE_TYPE_IN_USE: {
    message: 'Module type {id} still has {count} module instance(s)',
    hint: 'Delete its module instances first (GET /iroh/iroh-int/module-instance?module_type_id={id}).',
    status: 409,
  },
  MODULE_INSTANCE_NOT_FOUND: {
    message: 'No module instance {id} in this organisation',
    hint: 'List module instances with GET /iroh/iroh-int/module-instance; the module name is also accepted where the reference allows it.',
    status: 404,
  },
  MODULE_INSTANCE_AMBIGUOUS: {
    message: 'Several module instances are named "{name}"',
    hint: 'Use the module instance id instead of its name.',
    status: 409,
  },
  APPROVAL_NOT_FOUND: {
    message: 'No action request {id} in this organisation',
    hint: 'List pending requests with GET /api/v1/approvals?status=pending.',
    status: 404,
  },
  APPROVAL_NOT_PENDING: {
    message: 'Action request {id} is {status}, not pending',
    hint: 'Only pending requests can be approved or rejected; an expired request must be triggered again.',
    status: 409,
  },
  APPROVAL_OWN_REQUEST: {
    message: 'You cannot approve or reject your own action request',
    hint: 'Ask another user with the analyst or admin role to decide it.',
    status: 403,
  },
  APPROVAL_NEEDS_USER: {
    message: 'Action requests are decided by a user, not by an API client without an owner',
    hint: 'Approve from the console, or with an API client owned by the approving user.',
    status: 403,
  },
  TICKET_INTEGRATION_NOT_FOUND: {
    message: 'No ticket integration {id} in this organisation',
    hint: 'List them with GET /api/v1/ticket-integrations; the integration name is also accepted.',
    status: 404,
  },
  TICKET_INTEGRATION_EXISTS: {
    message: 'A ticket integration named "{name}" already exists',
    hint: 'Choose another name, or delete the existing integration first.',
    status: 409,
  },
  TICKET_INTEGRATION_DISABLED: {
    message: 'Ticket integration "{name}" is disabled',
    hint: 'Use another integration, or ask an admin to enable this one.',
    status: 409,
  },
  TICKET_NOT_FOUND: {
    message: 'No ticket {id} in this organisation',
    hint: 'List tickets with GET /api/v1/tickets.',
    status: 404,
  },
  PREFERENCES_NEED_USER: {
    message: 'Preferences belong to a user; this API client has no owner',
    hint: 'Use an API client created by a user in the hub console (its owner keeps the preferences).',
    status: 403,
  },
})
