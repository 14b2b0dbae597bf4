import { defineErrors } from '@postern/core'

/** Errors of the gateway's cloud-services connector (codes `GW_CLOUD_ERR_*`). */
export const cloudErrors = defineErrors('GW_CLOUD', {
  DISABLED: {
    message: 'Cloud services are disabled on this gateway',
    hint: 'Enable them first: `postern gateway cloudserviceconfig enable`.',
    status: 409,
  },
  SERVER_NOT_SELECTED: {
    message: 'No hub server (region) is selected',
    hint: 'Choose one with `postern gateway cloudserviceconfig settrs --server <region>`.',
    status: 409,
  },
  SERVER_UNKNOWN: {
    message: 'Unknown hub server "{region}" (known: {known})',
    hint: 'Pick one of the listed regions, or add it under cloud.servers in the gateway configuration.',
    status: 400,
  },
  SERVER_NOT_CONFIGURED: {
    message: 'Region "{region}" has no hub URL configured',
    hint: "Set cloud.servers.{region} to the hub's URL in the gateway configuration (e.g. https://hub.example.com) and restart.",
    status: 409,
  },
  REGION_CHANGE_REGISTERED: {
    message:
      'Cannot change the hub server to "{region}": {machine} is registered with region "{current}"',
    hint: 'Deregister first (`postern gateway cloudserviceconfig deregister`), change the server, then register again with a new token.',
    status: 409,
  },
  ALREADY_REGISTERED: {
    message: 'This gateway ({machine}) is already registered (device {deviceId} with {hubUrl})',
    hint: 'Deregister first if you want to register again.',
    status: 409,
  },
  NOT_REGISTERED: {
    message: 'This gateway ({machine}) is not registered with a hub',
    hint: 'Register with a token from the hub: `postern gateway cloudserviceconfig register --token <token>`.',
    status: 409,
  },
  MODE_CLUSTER_UNSUPPORTED: {
    message:
      'Cluster-mode registration does not exist: each cluster node registers itself (machine mode)',
    hint: 'Run the registration on each node, without --mode or with --mode machine.',
    status: 400,
  },
  MODE_MISMATCH: {
    message: 'Registration mode "{mode}" does not fit this gateway, which is {deployment}',
    hint: 'Use --mode {expected}, or leave --mode out.',
    status: 400,
  },
  REGION_MISMATCH: {
    message: 'The hub at {hubUrl} serves region "{actual}", not the selected "{region}"',
    hint: 'Fix cloud.servers.{region} in the gateway configuration, or select region "{actual}".',
    status: 409,
  },
  HUB_UNREACHABLE: {
    message: 'Cannot reach the hub at {hubUrl}: {reason}',
    hint: 'Check the URL, DNS and that outbound HTTPS to the hub is allowed by the firewall; then try again.',
    status: 503,
  },
  HUB_REFUSED: {
    message: 'The hub refused the request: {message} ({code})',
    hint: "Follow the hub's advice: {hint}",
    status: 409,
  },
  DEREGISTER_UNCONFIRMED: {
    message: 'The hub could not be told about the deregistration: {reason}',
    hint: 'Try again when the hub is reachable, or use --force to forget the registration here and then remove the device in the hub under Devices.',
    status: 503,
  },
  CSN_REQUIRES_REGISTRATION: {
    message: 'Usage telemetry can only be enabled while the gateway is registered',
    hint: 'Register first (`postern gateway cloudserviceconfig register --token <token>`), then enable it.',
    status: 409,
  },
  THREAT_RESPONSE_DISABLED: {
    message: 'Threat Response is disabled on this gateway; it refuses module calls',
    hint: 'Enable it on the gateway: `postern gateway cloudserviceconfig securex enable`.',
    status: 403,
  },
  MODULE_UNKNOWN: {
    message: 'This gateway has no module endpoint {path}',
    hint: 'Check the gateway version; module endpoints arrive with the email-gateway module.',
    status: 404,
  },
  CLUSTER_JOIN_REGISTERED_STANDALONE: {
    message:
      'This gateway ({machine}) is registered standalone with a hub; it must deregister before joining a cluster',
    hint: 'Run `postern gateway cloudserviceconfig deregister`, join the cluster, then register each node again (machine mode).',
    status: 409,
  },
  CLUSTER_LEAVE_REGISTERED: {
    message:
      'This gateway ({machine}) is registered in machine mode as a cluster node; deregister before leaving the cluster',
    hint: 'Run `postern gateway cloudserviceconfig deregister`, leave the cluster, then register again standalone.',
    status: 409,
  },
  CLUSTER_NAME_MISMATCH: {
    message: 'This database already holds cluster "{existing}", not "{name}"',
    hint: 'Join "{existing}", or point the gateway at another database for a new cluster.',
    status: 409,
  },
  NOT_IN_CLUSTER: {
    message: 'This gateway ({machine}) is not in a cluster',
    hint: 'Join one with `postern gateway cluster join --name <cluster>`.',
    status: 409,
  },
  LEVEL_INVALID: {
    message: 'Level "{level}" is not available: {reason}',
    hint: 'Use --level machine on a standalone gateway; cluster, group or machine in a cluster.',
    status: 400,
  },
  IDENTITY_UNREADABLE: {
    message: 'The machine identity file {path} is unreadable: {reason}',
    hint: 'Restore it from backup; a new identity makes the hub see a new device.',
    status: 500,
  },
})
