import { z } from 'zod'

/**
 * The module types every organisation has without defining them: the email gateway module —
 * the org's registered Postern gateways, reached through their tunnels — and the generic relay
 * module — any HTTPS service speaking the relay contract (reference §4).
 */
export const EMAIL_GATEWAY_MODULE_TYPE_ID = 'postern-email-gateway'
export const RELAY_MODULE_TYPE_ID = 'relay'

/** Response actions of the email module (our design: the reference names none, §6). */
export const EMAIL_ACTION_IDS = [
  'delete',
  'forward',
  'forward-and-delete',
  'block',
  'unblock',
  'block-user',
  'unblock-user',
] as const
export type EmailActionId = (typeof EMAIL_ACTION_IDS)[number]

/** The relay routes a module may support (`properties.supported-apis`). */
export const RELAY_API_NAMES = [
  'health',
  'observe/observables',
  'deliberate/observables',
  'refer/observables',
  'respond/observables',
  'respond/trigger',
] as const

const deviceId = z.string().min(1).max(80)

/** Settings of an email gateway module instance. */
export const emailGatewaySettingsSchema = z
  .object({
    devices: z
      .union([z.literal('all'), z.array(deviceId).min(1).max(1000)])
      .default('all')
      .describe('"all" (every gateway of the organisation, now and later) or a list of device ids'),
    remediation_forward_address: z
      .email()
      .max(320)
      .optional()
      .describe('Where "forward" and "forward and delete" send messages (e.g. the SOC mailbox)'),
    approval_required: z
      .array(z.enum(EMAIL_ACTION_IDS))
      .max(EMAIL_ACTION_IDS.length)
      .default([])
      .describe('Actions that wait for a second user to approve them before they run'),
  })
  .strict()
export type EmailGatewaySettings = z.output<typeof emailGatewaySettingsSchema>

const customValue = z.union([z.string().max(4096), z.number(), z.boolean()])

/** `custom_*` settings become claims of the configuration token (`custom_key` → `key`). */
const customKey = /^custom_[A-Za-z0-9_]{1,64}$/

function moduleUrl() {
  return z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .refine((value) => !/[?#]/.test(value), 'must not carry a query or fragment')
}

/** Settings of a generic relay module instance: its URL, the APIs it serves, `custom_*` values. */
export const relaySettingsSchema = z
  .object({
    url: moduleUrl().describe('The module URL; routes such as /observe/observables are appended'),
    supported_apis: z
      .array(z.enum(RELAY_API_NAMES))
      .min(1)
      .default([...RELAY_API_NAMES])
      .describe('Relay routes the module serves'),
  })
  .catchall(customValue)
  .superRefine((settings, ctx) => {
    for (const key of Object.keys(settings)) {
      if (key !== 'url' && key !== 'supported_apis' && !customKey.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'settings keys are url, supported_apis or custom_*',
        })
      }
    }
  })
export type RelaySettings = z.output<typeof relaySettingsSchema>

/** Settings of an instance of an organisation-defined relay type: only `custom_*` values. */
export const customTypeSettingsSchema = z
  .record(z.string().regex(customKey, 'settings keys are custom_*'), customValue)
  .default({})

/** Properties of an organisation-defined module type (reference §4, `module_type.json`). */
export const moduleTypePropertiesSchema = z
  .looseObject({
    url: moduleUrl().describe('Where the module serves the relay contract'),
    'supported-apis': z.array(z.enum(RELAY_API_NAMES)).min(1).describe('Relay routes served'),
    'auth-type': z
      .enum(['configuration-token'])
      .default('configuration-token')
      .describe('How the hub authenticates to the module: an RS256 configuration token'),
    'configuration-token-alg': z.enum(['RS256']).default('RS256'),
  })
  .describe('Module type properties')

export interface BuiltinModuleType {
  id: string
  name: string
  title: string
  description: string
  properties: Record<string, unknown>
  configuration_spec: unknown[]
}

export const BUILTIN_MODULE_TYPES: readonly BuiltinModuleType[] = [
  {
    id: EMAIL_GATEWAY_MODULE_TYPE_ID,
    name: 'Postern Email Gateway',
    title: 'Postern Email Gateway',
    description:
      'Message tracking sightings, verdicts, console links and mailbox remediation and block actions from the organisation’s registered Postern gateways.',
    properties: {
      'supported-apis': [...RELAY_API_NAMES],
      'auth-type': 'device-tunnel',
      observables: [
        'email',
        'domain',
        'ip',
        'url',
        'sha256',
        'file_name',
        'cisco_mid',
        'email_messageid',
        'email_subject',
      ],
    },
    configuration_spec: [
      { key: 'devices', type: 'device_list', label: 'Gateways', required: false, default: 'all' },
      {
        key: 'remediation_forward_address',
        type: 'email',
        label: 'Forward remediated messages to',
        required: false,
      },
      {
        key: 'approval_required',
        type: 'action_list',
        label: 'Actions that need approval',
        required: false,
        options: [...EMAIL_ACTION_IDS],
      },
    ],
  },
  {
    id: RELAY_MODULE_TYPE_ID,
    name: 'Relay',
    title: 'Relay module',
    description:
      'Any service that speaks the relay contract over HTTPS; the hub authenticates with an RS256 configuration token verified against its JWKS.',
    properties: {
      'supported-apis': [...RELAY_API_NAMES],
      'auth-type': 'configuration-token',
      'configuration-token-alg': 'RS256',
    },
    configuration_spec: [
      { key: 'url', type: 'url', label: 'Module URL', required: true },
      { key: 'supported_apis', type: 'api_list', label: 'Supported APIs', required: false },
      {
        key: 'custom_*',
        type: 'string',
        label: 'Values passed to the module as token claims',
        required: false,
      },
    ],
  },
]
