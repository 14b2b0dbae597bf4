import { z } from 'zod'
import type { SecretBox, Logger } from '@postern/core'
import type {
  AuditLog,
  RemediationProfileRepository,
  StoredRemediationProfile,
} from '@postern/store'
import type { MailboxAdapter } from './adapter.js'
import { ChainedAdapter } from './adapters/chained.js'
import { DoveadmAdapter } from './adapters/doveadm.js'
import { GraphAdapter } from './adapters/graph.js'
import { ImapAdapter } from './adapters/imap.js'
import { MaildirAdapter } from './adapters/maildir.js'
import type { RequestContext } from './context.js'
import type { MailboxAddress } from './mailbox-address.js'
import { gwErrors } from '../errors.js'
import {
  PROFILE_KINDS,
  secretSchemas,
  settingsSchemas,
  type ChainedSettings,
  type DoveadmSettings,
  type GraphSettings,
  type ImapSettings,
  type MaildirSettings,
  type ProfileKind,
} from './profile-kinds.js'

const DOMAIN_PATTERN = /^(\*|(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63})$/

export const profileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", up to 63')
  .describe('Profile name')

const domainsSchema = z
  .array(
    z
      .string()
      .transform((d) => d.trim().toLowerCase())
      .pipe(z.string().regex(DOMAIN_PATTERN, 'a domain, "*.domain" or "*"')),
  )
  .max(1000)
  .describe(
    'Recipient domains this profile serves: example.org, *.example.org, or * for all others',
  )

export const profileCreateSchema = z
  .object({
    name: profileNameSchema,
    kind: z
      .enum(PROFILE_KINDS as [ProfileKind, ...ProfileKind[]])
      .describe('imap, doveadm, maildir, graph or chained'),
    description: z.string().max(500).default('').describe('Free text for operators'),
    domains: domainsSchema.default([]),
    enabled: z.boolean().default(true).describe('Disabled profiles are not used to remediate'),
    settings: z
      .record(z.string(), z.unknown())
      .describe('Settings of the kind (see docs/remediation.md)'),
    secrets: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        'imap: masterPassword; doveadm: apiKey; graph: clientSecret. Stored encrypted, never returned',
      ),
  })
  .strict()

export const profileUpdateSchema = z
  .object({
    description: z.string().max(500).optional(),
    domains: domainsSchema.optional(),
    enabled: z.boolean().optional(),
    settings: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Replaces the given settings keys'),
    secrets: z.record(z.string(), z.string()).optional().describe('Replaces the given secrets'),
  })
  .strict()

export type ProfileCreateInput = z.input<typeof profileCreateSchema>
export type ProfileUpdateInput = z.input<typeof profileUpdateSchema>

/** A profile as shown to operators: settings, and only the names of the secrets that are set. */
export interface ProfileView {
  name: string
  kind: ProfileKind
  description: string
  domains: string[]
  enabled: boolean
  settings: Record<string, unknown>
  secretsSet: string[]
  createdAt: number
  updatedAt: number
  updatedBy: string
}

/**
 * Remediation profiles ("Account Settings" in the seed): validation per kind, secrets sealed
 * with the installation's SecretBox (bound to profile and field), recipient domain mapping, and
 * the adapters that reach the mailboxes.
 */
export class RemediationProfiles {
  private readonly adapters = new Map<string, { updatedAt: number; adapter: MailboxAdapter }>()

  constructor(
    private readonly repository: RemediationProfileRepository,
    private readonly box: SecretBox,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  async list(): Promise<ProfileView[]> {
    return (await this.repository.list()).map(toView)
  }

  async get(name: string): Promise<ProfileView> {
    return toView(await this.stored(name))
  }

  async create(input: ProfileCreateInput, context: RequestContext): Promise<ProfileView> {
    const parsed = parseOrThrow(profileCreateSchema, input)
    const settings = parseOrThrow(settingsSchemas[parsed.kind], parsed.settings)
    const secrets = parseOrThrow(secretSchemas[parsed.kind], parsed.secrets) as Record<
      string,
      string
    >
    const all = await this.repository.list()
    if (all.some((p) => p.name === parsed.name)) {
      throw gwErrors.REMEDIATION_PROFILE_EXISTS({ name: parsed.name })
    }
    this.checkDomains(parsed.name, parsed.domains, all)
    if (parsed.kind === 'chained') this.checkChain(parsed.name, settings as ChainedSettings, all)
    const stored = {
      name: parsed.name,
      kind: parsed.kind,
      description: parsed.description,
      domains: parsed.domains,
      settings: settings as Record<string, unknown>,
      secrets: this.seal(parsed.name, secrets),
      enabled: parsed.enabled,
      updatedBy: context.actor.id,
    }
    if (!(await this.repository.insert(stored))) {
      throw gwErrors.REMEDIATION_PROFILE_EXISTS({ name: parsed.name })
    }
    await this.record(context, 'remediation.profile.create', parsed.name, {
      kind: parsed.kind,
      domains: parsed.domains,
    })
    return this.get(parsed.name)
  }

  async update(
    name: string,
    input: ProfileUpdateInput,
    context: RequestContext,
  ): Promise<ProfileView> {
    const patch = parseOrThrow(profileUpdateSchema, input)
    const current = await this.stored(name)
    const kind = current.kind as ProfileKind
    const settings = parseOrThrow(settingsSchemas[kind], {
      ...current.settings,
      ...(patch.settings ?? {}),
    })
    const newSecrets = parseOrThrow(secretSchemas[kind].partial(), patch.secrets ?? {}) as Record<
      string,
      string
    >
    const all = await this.repository.list()
    const domains = patch.domains ?? current.domains
    this.checkDomains(name, domains, all)
    if (kind === 'chained') this.checkChain(name, settings as ChainedSettings, all)
    await this.repository.replace({
      name,
      kind,
      description: patch.description ?? current.description,
      domains,
      settings: settings as Record<string, unknown>,
      secrets: { ...current.secrets, ...this.seal(name, newSecrets) },
      enabled: patch.enabled ?? current.enabled,
      updatedBy: context.actor.id,
    })
    this.forget(name)
    await this.record(context, 'remediation.profile.update', name, {
      fields: Object.keys(patch),
      secretsChanged: Object.keys(newSecrets),
    })
    return this.get(name)
  }

  async remove(name: string, context: RequestContext): Promise<void> {
    await this.stored(name)
    for (const other of await this.repository.list()) {
      if (
        other.kind === 'chained' &&
        ((other.settings as ChainedSettings).profiles ?? []).includes(name)
      ) {
        throw gwErrors.REMEDIATION_PROFILE_IN_USE({ name, chain: other.name })
      }
    }
    await this.repository.delete(name)
    this.forget(name)
    await this.record(context, 'remediation.profile.delete', name, {})
  }

  /**
   * Opens a mailbox through a profile and searches it for a Message-ID that cannot exist:
   * proves connection, credentials and rights without changing anything.
   */
  async test(name: string, mailbox: MailboxAddress): Promise<{ profile: string }> {
    const adapter = await this.adapter(name)
    const session = await adapter.open(mailbox)
    try {
      await session.find(`postern-profile-test.${Date.now()}@invalid`)
      return { profile: session.profile }
    } finally {
      await session.close()
    }
  }

  /**
   * The enabled profile for a recipient domain: an exact domain first, then the longest
   * `*.suffix`, then `*`.
   */
  async resolve(domain: string): Promise<string | null> {
    const profiles = (await this.repository.list()).filter((p) => p.enabled)
    return resolveDomain(domain, profiles)
  }

  /** The adapter for a profile, built once per profile version. */
  async adapter(name: string): Promise<MailboxAdapter> {
    const stored = await this.stored(name)
    const cached = this.adapters.get(name)
    if (cached && cached.updatedAt === stored.updatedAt) return cached.adapter
    if (cached) await cached.adapter.close()
    const adapter = await this.build(stored, new Set())
    this.adapters.set(name, { updatedAt: stored.updatedAt, adapter })
    return adapter
  }

  async close(): Promise<void> {
    for (const { adapter } of this.adapters.values()) await adapter.close()
    this.adapters.clear()
  }

  private async build(
    stored: StoredRemediationProfile,
    seen: Set<string>,
  ): Promise<MailboxAdapter> {
    const kind = stored.kind as ProfileKind
    const settings = settingsSchemas[kind].parse(stored.settings)
    switch (kind) {
      case 'imap':
        return new ImapAdapter(
          stored.name,
          settings as ImapSettings,
          this.unseal(stored, 'masterPassword'),
        )
      case 'doveadm':
        return new DoveadmAdapter(
          stored.name,
          settings as DoveadmSettings,
          this.unseal(stored, 'apiKey'),
        )
      case 'maildir':
        return new MaildirAdapter(stored.name, settings as MaildirSettings)
      case 'graph':
        return new GraphAdapter(
          stored.name,
          settings as GraphSettings,
          this.unseal(stored, 'clientSecret'),
        )
      case 'chained': {
        seen.add(stored.name)
        const links: MailboxAdapter[] = []
        for (const member of (settings as ChainedSettings).profiles) {
          if (seen.has(member)) {
            throw gwErrors.REMEDIATION_CHAIN_INVALID({
              name: stored.name,
              reason: `"${member}" repeats`,
            })
          }
          links.push(await this.build(await this.stored(member), seen))
        }
        return new ChainedAdapter(stored.name, links)
      }
    }
  }

  private async stored(name: string): Promise<StoredRemediationProfile> {
    const stored = await this.repository.get(name)
    if (!stored) throw gwErrors.REMEDIATION_PROFILE_NOT_FOUND({ name })
    return stored
  }

  private seal(name: string, secrets: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(secrets).map(([field, value]) => [
        field,
        this.box.encrypt(value, aad(name, field)),
      ]),
    )
  }

  private unseal(stored: StoredRemediationProfile, field: string): string {
    const sealed = stored.secrets[field]
    if (sealed === undefined) {
      throw gwErrors.REMEDIATION_PROFILE_INVALID({
        issues: `profile "${stored.name}" has no ${field}`,
      })
    }
    return this.box.decrypt(sealed, aad(stored.name, field))
  }

  private checkDomains(name: string, domains: string[], all: StoredRemediationProfile[]): void {
    for (const domain of domains) {
      const owner = all.find((p) => p.name !== name && p.domains.includes(domain))
      if (owner) throw gwErrors.REMEDIATION_DOMAIN_CONFLICT({ domain, profile: owner.name })
    }
  }

  private checkChain(
    name: string,
    settings: ChainedSettings,
    all: StoredRemediationProfile[],
  ): void {
    const seen = new Set<string>()
    for (const member of settings.profiles) {
      const target = all.find((p) => p.name === member)
      const reason =
        member === name
          ? 'it lists itself'
          : seen.has(member)
            ? `"${member}" is listed twice`
            : !target
              ? `"${member}" does not exist`
              : target.kind === 'chained'
                ? `"${member}" is itself a chained profile`
                : null
      if (reason) throw gwErrors.REMEDIATION_CHAIN_INVALID({ name, reason })
      seen.add(member)
    }
  }

  private forget(name: string): void {
    // Chains hold the adapters of their members: drop every cached adapter.
    for (const { adapter } of this.adapters.values()) void adapter.close()
    this.adapters.clear()
    this.logger.debug({ event: 'REMEDIATION_PROFILE_CHANGED', profile: name }, 'profile changed')
  }

  private async record(
    context: RequestContext,
    action: string,
    name: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record({
      actor: context.actor,
      source: context.source,
      remoteIp: context.remoteIp ?? null,
      action,
      target: { type: 'remediation_profile', id: name },
      outcome: 'success',
      details,
    })
  }
}

export function resolveDomain(
  domain: string,
  profiles: Pick<StoredRemediationProfile, 'name' | 'domains'>[],
): string | null {
  const d = domain.toLowerCase()
  let best: { name: string; score: number } | null = null
  for (const profile of profiles) {
    for (const pattern of profile.domains) {
      let score = -1
      if (pattern === d) score = 10_000
      else if (pattern.startsWith('*.') && d.endsWith(pattern.slice(1))) score = pattern.length
      else if (pattern === '*') score = 0
      if (score >= 0 && (!best || score > best.score)) best = { name: profile.name, score }
    }
  }
  return best?.name ?? null
}

function aad(name: string, field: string): string {
  return `remediation-profile:${name}:${field}`
}

function toView(p: StoredRemediationProfile): ProfileView {
  return {
    name: p.name,
    kind: p.kind as ProfileKind,
    description: p.description,
    domains: p.domains,
    enabled: p.enabled,
    settings: p.settings,
    secretsSet: Object.keys(p.secrets).sort(),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    updatedBy: p.updatedBy,
  }
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw gwErrors.REMEDIATION_PROFILE_INVALID({
    issues: result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; '),
  })
}
