import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { SecretBox, describeError, systemClock, type Clock, type Logger } from '@postern/core'
import {
  ApiClientsRepo,
  AuditLog,
  Database,
  DevicesRepo,
  LoginFailuresRepo,
  ModulesRepo,
  TicketsRepo,
  OrgsRepo,
  OrgVersionsRepo,
  RegistrationTokensRepo,
  SessionsRepo,
  SigningKeysRepo,
  TelemetryRepo,
  UsersRepo,
  migrateToLatest,
  resolveDatabaseTarget,
  type HubSchema,
} from '@postern/store'
import { AccessTokens } from './auth/access-tokens.js'
import { Authenticator } from './auth/authenticator.js'
import { KeyStore } from './auth/key-store.js'
import { SessionService } from './auth/sessions.js'
import { ClientService } from './clients/client-service.js'
import type { HubConfig } from './config.js'
import { DeviceService } from './devices/device-service.js'
import { hubErrors } from './errors.js'
import { ModuleService } from './investigate/modules/module-service.js'
import { TicketService } from './tickets/ticket-service.js'
import { OrgCache } from './orgs/org-cache.js'
import { OrgService } from './orgs/org-service.js'
import { TelemetryService } from './telemetry/telemetry-service.js'
import { UserService } from './users/user-service.js'

/** Everything the hub's routes, tunnel and CLI work with, built once over one database. */
export interface HubServices {
  config: HubConfig
  /** The URL gateways and clients reach this hub at (config publicUrl, or the listen address). */
  publicUrl: string
  clock: Clock
  logger: Logger
  database: Database<HubSchema>
  audit: AuditLog
  keys: KeyStore
  tokens: AccessTokens
  authenticator: Authenticator
  /** Per-request reads of an organisation, kept under its change counter. */
  orgCache: OrgCache
  sessions: SessionService
  orgs: OrgService
  users: UserService
  clients: ClientService
  devices: DeviceService
  telemetry: TelemetryService
  /** Module types and instances (enrich and respond fan-outs). */
  modules: ModuleService
  /** IT ticket integrations and tickets. */
  tickets: TicketService
  repos: {
    orgs: OrgsRepo
    users: UsersRepo
    devices: DevicesRepo
    clients: ApiClientsRepo
  }
}

export interface OpenServicesOptions {
  config: HubConfig
  logger: Logger
  clock?: Clock
  /** Known once the listener is bound (port 0); defaults to config.publicUrl or http://listen. */
  publicUrl?: string
}

/** Opens and migrates the database and builds the services (used by the server and the CLI). */
export async function openHubServices(options: OpenServicesOptions): Promise<HubServices> {
  const { config, logger } = options
  const clock = options.clock ?? systemClock
  const database = await Database.open<HubSchema>(
    resolveDatabaseTarget(config.database, config.dataDir, 'hub.db'),
    {
      logger,
    },
  )
  try {
    await migrateToLatest(database, 'hub', logger)
    const db = database.db
    const audit = new AuditLog(db, clock)
    const repos = {
      orgs: new OrgsRepo(db),
      users: new UsersRepo(db),
      devices: new DevicesRepo(db),
      clients: new ApiClientsRepo(db),
    }
    const sessionsRepo = new SessionsRepo(db)
    const orgCache = new OrgCache({ versions: new OrgVersionsRepo(db), devices: repos.devices })
    const publicUrl = (options.publicUrl ?? config.publicUrl ?? `http://${config.listen}`).replace(
      /\/+$/,
      '',
    )
    const box = SecretBox.fromKeyFile(config.secretKeyFile ?? join(config.dataDir, 'secret.key'))
    const keys = new KeyStore({
      repo: new SigningKeysRepo(db),
      box,
      clock,
      logger,
      rotationMs: config.auth.signingKeyRotationDays * 86_400_000,
      graceMs:
        Math.max(config.auth.signingKeyGraceSeconds, config.auth.accessTokenTtlSeconds) * 1000,
    })
    await keys.ensureCurrent()
    // eslint-disable-next-line prefer-const -- assigned below, read lazily by the token audience
    let services: HubServices
    const tokens = new AccessTokens({
      keys,
      clock,
      issuer: config.auth.issuer,
      audience: () => services.publicUrl,
      ttlSeconds: config.auth.accessTokenTtlSeconds,
    })
    const sessions = new SessionService({
      sessions: sessionsRepo,
      users: repos.users,
      orgs: repos.orgs,
      loginFailures: new LoginFailuresRepo(db),
      audit,
      clock,
      options: {
        idleMs: config.auth.sessionIdleMinutes * 60_000,
        maxMs: config.auth.sessionMaxHours * 3_600_000,
        maxFailures: config.auth.loginMaxFailures,
        lockoutMs: config.auth.loginLockoutMinutes * 60_000,
      },
    })
    services = {
      config,
      publicUrl,
      clock,
      logger,
      database,
      audit,
      keys,
      tokens,
      sessions,
      orgCache,
      authenticator: new Authenticator({
        tokens,
        clients: repos.clients,
        orgs: repos.orgs,
        cache: orgCache,
        sessions,
        clock,
      }),
      orgs: new OrgService({ orgs: repos.orgs, audit, clock }),
      users: new UserService({ users: repos.users, sessions: sessionsRepo, audit, clock }),
      clients: new ClientService({
        clients: repos.clients,
        users: repos.users,
        tokens,
        audit,
        clock,
      }),
      devices: new DeviceService({
        devices: repos.devices,
        tokens: new RegistrationTokensRepo(db),
        audit,
        clock,
        logger,
        region: config.region,
        tokenTtlMs: config.devices.registrationTokenTtlSeconds * 1000,
        offlineAfterMs: config.devices.offlineAfterSeconds * 1000,
      }),
      telemetry: new TelemetryService({
        telemetry: new TelemetryRepo(db),
        devices: repos.devices,
        audit,
        clock,
        logger,
        retentionMs: config.telemetry.retentionDays * 86_400_000,
      }),
      modules: new ModuleService({ repo: new ModulesRepo(db), box, audit, clock, cache: orgCache }),
      tickets: new TicketService({
        repo: new TicketsRepo(db),
        box,
        audit,
        clock,
        publicUrl: () => services.publicUrl,
      }),
      repos,
    }
    await bootstrapFirstAdmin(services)
    return services
  } catch (err) {
    await database.close()
    throw err
  }
}

/** Creates the configured first org and admin when the hub has no user yet. */
async function bootstrapFirstAdmin(services: HubServices): Promise<void> {
  const { bootstrap } = services.config
  if (!bootstrap.adminEmail) return
  const orgs = await services.orgs.list()
  for (const org of orgs) if ((await services.users.list(org.id)).length > 0) return
  let password = bootstrap.adminPassword
  if (password === undefined && bootstrap.adminPasswordFile !== undefined) {
    try {
      password = (readFileSync(bootstrap.adminPasswordFile, 'utf8').split(/\r?\n/)[0] ?? '').trim()
    } catch (err) {
      throw hubErrors.SECRET_FILE_UNREADABLE({
        path: bootstrap.adminPasswordFile,
        reason: describeError(err),
      })
    }
  }
  if (password === undefined) return
  const actor = { type: 'system' as const, id: 'bootstrap' }
  const org =
    orgs.find((o) => o.name === bootstrap.org) ?? (await services.orgs.create(bootstrap.org, actor))
  await services.users.create(
    { orgId: org.id, email: bootstrap.adminEmail, name: 'Administrator', role: 'admin', password },
    actor,
  )
  services.logger.info(
    { event: 'HUB_BOOTSTRAPPED', orgId: org.id },
    'first organisation and admin created',
  )
}
