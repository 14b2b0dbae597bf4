import { randomToken } from '@postern/core'
import type { ApiClient, Org, RegistrationToken, User } from '@postern/store'
import type { Role } from './auth/roles.js'
import type { Actor } from './orgs/org-service.js'
import type { HubServices } from './services.js'

export interface CreatedAdmin {
  org: Org
  user: User
  /** The password given, or the one generated (shown once). */
  password: string
}

/**
 * Operator actions, for the CLI and for programs that drive a hub (the demo): create an org and
 * its admin, registration tokens and API clients. Everything is audited with `actor`.
 */
export class HubAdmin {
  constructor(
    private readonly services: HubServices,
    private readonly actor: Actor = { type: 'system', id: 'admin-api' },
  ) {}

  /** Creates an organisation with an admin user; a password is generated when none is given. */
  async createOrgWithAdmin(input: {
    orgName: string
    email: string
    name?: string
    password?: string
  }): Promise<CreatedAdmin> {
    const password = input.password ?? generatePassword()
    const org = await this.services.orgs.create(input.orgName, this.actor)
    const user = await this.services.users.create(
      {
        orgId: org.id,
        email: input.email,
        name: input.name ?? 'Administrator',
        role: 'admin',
        password,
      },
      this.actor,
    )
    return { org, user, password }
  }

  async createUser(input: {
    org?: string
    email: string
    name?: string
    role: Role
    password?: string
  }): Promise<{ user: User; password: string; org: Org }> {
    const org = await this.services.orgs.resolve(input.org)
    const password = input.password ?? generatePassword()
    const user = await this.services.users.create(
      { orgId: org.id, email: input.email, name: input.name ?? '', role: input.role, password },
      this.actor,
    )
    return { user, password, org }
  }

  /** A single-use registration token for a device (what `postern hub token create` prints). */
  async createRegistrationToken(
    input: { org?: string; label?: string; ttlSeconds?: number } = {},
  ): Promise<{ token: string; record: RegistrationToken; org: Org }> {
    const org = await this.services.orgs.resolve(input.org)
    const { token, record } = await this.services.devices.createRegistrationToken(
      {
        orgId: org.id,
        label: input.label,
        ttlMs: input.ttlSeconds === undefined ? undefined : input.ttlSeconds * 1000,
      },
      this.actor,
    )
    return { token, record, org }
  }

  async createApiClient(input: {
    org?: string
    name: string
    description?: string
    scopes: readonly string[]
    expiresInDays?: number
  }): Promise<{ client: ApiClient; secret: string; org: Org }> {
    const org = await this.services.orgs.resolve(input.org)
    const now = this.services.clock.now()
    const { client, secret } = await this.services.clients.create(
      {
        orgId: org.id,
        name: input.name,
        description: input.description,
        scopes: input.scopes,
        expiresAt:
          input.expiresInDays === undefined ? null : now + input.expiresInDays * 86_400_000,
        grantorScopes: null,
      },
      this.actor,
    )
    return { client, secret, org }
  }
}

/** 20 random characters from a 64-symbol alphabet: 120 bits, easy to paste. */
export function generatePassword(): string {
  return randomToken(15)
}
