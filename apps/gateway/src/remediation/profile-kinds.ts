import { z } from 'zod'

const deleteMode = z
  .enum(['permanent', 'trash'])
  .default('permanent')
  .describe(
    'permanent: the message is removed for good; trash: moved to the mailbox trash, where the user can still see it',
  )
const maxConnections = z
  .number()
  .int()
  .min(1)
  .max(128)
  .default(8)
  .describe('Mailboxes of this profile worked on at once')

/** IMAP with a master/admin user (Dovecot `user*master`, or SASL PLAIN authzid, RFC 4616 §2). */
export const imapSettingsSchema = z
  .object({
    host: z.string().min(1).describe('IMAP server host'),
    port: z.number().int().min(1).max(65535).default(993).describe('IMAP server port'),
    security: z
      .enum(['tls', 'starttls', 'none'])
      .default('tls')
      .describe('tls (implicit, RFC 8314), starttls (RFC 3501 §6.2.1, required) or none'),
    rejectUnauthorized: z.boolean().default(true).describe('Verify the server certificate'),
    masterUser: z.string().min(1).describe('Master/admin user allowed to log in as any user'),
    loginStyle: z
      .enum(['separator', 'authzid'])
      .default('separator')
      .describe(
        'separator: log in as "<mailbox><separator><master>" (Dovecot master users); authzid: SASL PLAIN with the mailbox as authorization identity',
      ),
    separator: z.string().min(1).max(4).default('*').describe('Dovecot auth_master_user_separator'),
    mailboxLogin: z
      .enum(['address', 'local'])
      .default('address')
      .describe('Log in to a mailbox by its full address or by its local part'),
    deleteMode,
    maxConnections,
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Connect, greeting and socket inactivity timeout'),
  })
  .strict()

/** Dovecot's doveadm HTTP API (`doveadm_api_key`, `service doveadm { inet_listener http }`). */
export const doveadmSettingsSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine((v) => /^https?:\/\//.test(v), 'must be an http(s) URL')
      .describe('doveadm HTTP API endpoint, e.g. https://mail.example.org:8080/doveadm/v1'),
    rejectUnauthorized: z.boolean().default(true).describe('Verify the server certificate'),
    mailboxLogin: z
      .enum(['address', 'local'])
      .default('address')
      .describe('doveadm user name of a mailbox: its full address or its local part'),
    trashFolder: z.string().min(1).default('Trash').describe('Folder used in trash delete mode'),
    deleteMode,
    maxConnections,
    timeoutMs: z.number().int().positive().default(30_000).describe('Timeout per API request'),
  })
  .strict()

/** A mailbox server on the same host storing Maildir (Dovecot, Courier, Postfix local). */
export const maildirSettingsSchema = z
  .object({
    pathTemplate: z
      .string()
      .regex(/^\//, 'must be an absolute path')
      .refine((v) => /%[udn]/.test(v), 'must contain %u, %d or %n')
      .describe(
        'Path of a mailbox, with %u (address), %n (local part), %d (domain), e.g. /var/vmail/%d/%n/Maildir',
      ),
    layout: z
      .enum(['maildir++', 'fs'])
      .default('maildir++')
      .describe('maildir++ (folders as .Name, Dovecot default) or fs (folders as sub-directories)'),
    trashFolder: z.string().min(1).default('Trash').describe('Folder used in trash delete mode'),
    deleteMode,
    maxConnections,
  })
  .strict()

/** Microsoft 365 through Microsoft Graph with application (client credentials) permissions. */
export const graphSettingsSchema = z
  .object({
    tenantId: z.string().min(1).describe('Directory (tenant) id or domain'),
    clientId: z.string().min(1).describe('Application (client) id'),
    authorityUrl: z
      .string()
      .url()
      .default('https://login.microsoftonline.com')
      .describe('OAuth 2.0 authority (national clouds use their own)'),
    graphUrl: z
      .string()
      .url()
      .default('https://graph.microsoft.com/v1.0')
      .describe('Graph API base URL'),
    deleteMode,
    forwardVia: z
      .enum(['relay', 'graph'])
      .default('relay')
      .describe(
        'relay: fetch the MIME and send it attached through remediation.relay; graph: Graph message forward (needs Mail.Send)',
      ),
    maxConnections,
    timeoutMs: z.number().int().positive().default(30_000).describe('Timeout per Graph request'),
  })
  .strict()

/** Tries profiles in order until one has the mailbox (hybrid on-premises + cloud). */
export const chainedSettingsSchema = z
  .object({
    profiles: z
      .array(z.string().min(1))
      .min(2)
      .describe('Profiles tried in order; the first that has the mailbox is used'),
  })
  .strict()

export const secretSchemas = {
  imap: z.object({ masterPassword: z.string().min(1) }).strict(),
  doveadm: z.object({ apiKey: z.string().min(1) }).strict(),
  maildir: z.object({}).strict(),
  graph: z.object({ clientSecret: z.string().min(1) }).strict(),
  chained: z.object({}).strict(),
} as const

export const settingsSchemas = {
  imap: imapSettingsSchema,
  doveadm: doveadmSettingsSchema,
  maildir: maildirSettingsSchema,
  graph: graphSettingsSchema,
  chained: chainedSettingsSchema,
} as const

export type ProfileKind = keyof typeof settingsSchemas
export const PROFILE_KINDS = Object.keys(settingsSchemas) as ProfileKind[]

export type ImapSettings = z.output<typeof imapSettingsSchema>
export type DoveadmSettings = z.output<typeof doveadmSettingsSchema>
export type MaildirSettings = z.output<typeof maildirSettingsSchema>
export type GraphSettings = z.output<typeof graphSettingsSchema>
export type ChainedSettings = z.output<typeof chainedSettingsSchema>
