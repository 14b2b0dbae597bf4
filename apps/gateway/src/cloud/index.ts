export { cloudConfigSchema, DEFAULT_REGIONS, type CloudConfig } from './config.js'
export { cloudErrors } from './errors.js'
export {
  CloudService,
  DEFAULT_SETTINGS,
  type CloudSettings,
  type CloudState,
  type CloudStatus,
  type Actor,
} from './cloud-service.js'
export { CloudConnector } from './connector.js'
export { ModuleRegistry, type ModuleHandler } from './modules.js'
export {
  openCloudContext,
  GATEWAY_MODEL,
  GATEWAY_VERSION,
  type CloudContext,
  type CloudHost,
} from './context.js'
export { loadCloudHost, cloudHostOf, openGatewayCloud } from './load-host.js'
export { cloudExtension, type CloudExtensionOptions } from './extension.js'
export { gatewayFeatures } from './features.js'
export { loadMachineIdentity, type MachineIdentity } from './machine.js'
export {
  buildTelemetryPayload,
  featureId,
  telemetryDigest,
  type FeatureState,
} from './telemetry.js'
export { HubClient } from './hub-client.js'
export { cloudServiceConfigCommand, clusterCommand, renderStatus, type OpenCloud } from './cli.js'
