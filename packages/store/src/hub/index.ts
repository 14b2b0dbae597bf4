export type * from './schema.js'
export { OrgsRepo, type Org } from './orgs-repo.js'
export { OrgVersionsRepo, bumpOrgVersion } from './org-versions.js'
export { UsersRepo, type User, type NewUser } from './users-repo.js'
export { SessionsRepo, type Session } from './sessions-repo.js'
export { ApiClientsRepo, type ApiClient } from './api-clients-repo.js'
export { SigningKeysRepo, type SigningKeyRecord } from './signing-keys-repo.js'
export { RegistrationTokensRepo, type RegistrationToken } from './registration-tokens-repo.js'
export {
  DevicesRepo,
  type Device,
  type DeviceFacts,
  type Deployment,
  type RegisterOutcome,
} from './devices-repo.js'
export { TelemetryRepo, type TelemetryRecord } from './telemetry-repo.js'
export { ModulesRepo, type ModuleInstanceRecord, type ModuleTypeRecord } from './modules-repo.js'
export {
  ActionRequestsRepo,
  type ActionRequest,
  type ActionRequestStatus,
} from './action-requests-repo.js'
export {
  TicketsRepo,
  type TicketIntegrationKind,
  type TicketIntegrationRecord,
  type TicketRecord,
  type TicketStatus,
  type TicketSubjectType,
} from './tickets-repo.js'
export { LoginFailuresRepo } from './login-failures-repo.js'
export {
  BlockPushPoliciesRepo,
  type BlockPushPolicy,
  type BlockPushPoliciesTable,
} from './block-push-policies.js'
