import { describe, expect, it } from 'vitest'
import {
  BUILTIN_MODULE_TYPES,
  customTypeSettingsSchema,
  emailGatewaySettingsSchema,
  relaySettingsSchema,
} from '../../apps/hub/src/investigate/modules/builtin-types.js'
import {
  buildSettings,
  fieldsFor,
  initialState,
  MASKED,
  type FieldState,
  type FormState,
  type ModuleType,
} from '../../apps/web/src/hub/module-settings.js'

const [emailGateway, relay] = BUILTIN_MODULE_TYPES.map((t) => ({ ...t, built_in: true }))
const feed: ModuleType = {
  id: 'module-type-feed',
  name: 'Threat feed',
  built_in: false,
  configuration_spec: [
    { key: 'custom_key', type: 'api_key', label: 'API key', required: true },
    { key: 'custom_limit', type: 'integer', label: 'Entities limit' },
    { key: 'custom_verbose', type: 'boolean', label: 'Verbose answers' },
    { type: 'string', label: 'an entry without a key is left out' },
  ],
}

/** The settings a form sends when nothing was changed in it. */
function untouched(type: ModuleType, settings?: Record<string, unknown>) {
  const fields = fieldsFor(type, settings)
  return buildSettings(fields, initialState(fields, settings))
}

/** The settings a form sends after `change` to its state. */
function changed(
  type: ModuleType,
  settings: Record<string, unknown>,
  change: (state: FormState) => FormState,
) {
  const fields = fieldsFor(type, settings)
  return buildSettings(fields, change(initialState(fields, settings)))
}

/** A change that sets field `key` to `value`. */
const setting =
  (key: string, value: FieldState) =>
  (s: FormState): FormState => ({ ...s, fields: { ...s.fields, [key]: value } })
/** A change that types `text` into the text field `key`. */
const typed = (key: string, text: string) => setting(key, { kind: 'text', text, masked: false })

describe('module settings forms built from configuration_spec', () => {
  it.each([
    {
      type: 'email gateway',
      spec: emailGateway!,
      stored: {
        devices: ['dev-1', 'dev-gone'],
        remediation_forward_address: 'soc@example.com',
        approval_required: ['block', 'retired-action'],
      },
    },
    {
      type: 'relay, a masked secret and a number among the custom values',
      spec: relay!,
      stored: {
        url: 'https://relay.example.com/module',
        supported_apis: ['health'],
        custom_tenant: 'acme',
        custom_key: MASKED,
        custom_CTR_ENTITIES_LIMIT: 100,
        custom_strict: true,
      },
    },
    {
      type: 'organisation-defined, with a setting only the JSON editor holds',
      spec: feed,
      stored: { custom_key: MASKED, custom_limit: 7, custom_verbose: false, custom_region: 'eu' },
    },
  ])('sends back what it was given when nothing changes: $type', ({ spec, stored }) => {
    expect(untouched(spec, stored)).toEqual({ settings: stored, problems: [] })
  })

  it('starts a new instance with the defaults the hub accepts', () => {
    const gateway = untouched(emailGateway!)
    expect(gateway).toEqual({ settings: { devices: 'all', approval_required: [] }, problems: [] })
    expect(emailGatewaySettingsSchema.parse(gateway.settings)).toEqual(gateway.settings)
    const fields = fieldsFor(relay!)
    const state = initialState(fields)
    state.fields.url = { kind: 'text', text: ' https://relay.example.com/m ', masked: false }
    state.fields['custom_*'] = {
      kind: 'rows',
      rows: [
        { name: 'tenant', value: 'acme', masked: false },
        { name: '', value: '', masked: false },
      ],
    }
    const built = buildSettings(fields, state)
    expect(built.problems).toEqual([])
    expect(relaySettingsSchema.parse(built.settings)).toEqual({
      url: 'https://relay.example.com/m',
      supported_apis: relay!.properties['supported-apis'],
      custom_tenant: 'acme',
    })
  })

  it('shows a masked secret as empty, keeps it when left so and sends a new one', () => {
    const stored = { custom_key: MASKED, custom_limit: 7 }
    const fields = fieldsFor(feed, stored)
    const state = initialState(fields, stored)
    expect(state.fields.custom_key).toEqual({ kind: 'text', text: '', masked: true })
    expect(fields.find((f) => f.entry.key === 'custom_key')?.control).toEqual({
      kind: 'text',
      input: 'password',
    })
    const renewed = changed(
      feed,
      stored,
      setting('custom_key', { kind: 'text', text: 'n3w', masked: true }),
    )
    expect(customTypeSettingsSchema.parse(renewed.settings)).toEqual({
      custom_key: 'n3w',
      custom_limit: 7,
      custom_verbose: false,
    })
  })

  it.each([
    {
      what: 'a required value left empty',
      type: relay!,
      stored: { url: 'https://relay.example.com/m', supported_apis: ['health'] },
      change: typed('url', ''),
      problem: { key: 'url', message: 'Module URL is required: fill it in.' },
    },
    {
      what: 'a URL that is not http(s)',
      type: relay!,
      stored: { url: 'https://relay.example.com/m', supported_apis: ['health'] },
      change: typed('url', 'ftp://relay.example.com'),
      problem: { key: 'url', message: 'Module URL must start with https:// (or http://).' },
    },
    {
      what: 'an e-mail address without @',
      type: emailGateway!,
      stored: { devices: 'all', approval_required: [] },
      change: typed('remediation_forward_address', 'soc.example.com'),
      problem: {
        key: 'remediation_forward_address',
        message:
          'Forward remediated messages to is not an e-mail address: enter one such as soc@example.com.',
      },
    },
    {
      what: 'no gateway chosen',
      type: emailGateway!,
      stored: { devices: 'all', approval_required: [] },
      change: setting('devices', { kind: 'devices', all: false, chosen: [] }),
      problem: {
        key: 'devices',
        message: 'Gateways: choose at least one gateway, or all gateways.',
      },
    },
    {
      what: 'a fraction for an integer',
      type: feed,
      stored: { custom_key: MASKED },
      change: typed('custom_limit', '2.5'),
      problem: { key: 'custom_limit', message: 'Entities limit must be a whole number.' },
    },
    {
      what: 'a custom value named twice',
      type: relay!,
      stored: { url: 'https://relay.example.com/m', supported_apis: ['health'], custom_a: '1' },
      change: setting('custom_*', {
        kind: 'rows',
        rows: [
          { name: 'a', value: '1', masked: false },
          { name: 'a', value: '2', masked: false },
        ],
      }),
      problem: {
        key: 'custom_*',
        message:
          'Values passed to the module as token claims, row 2: "a" appears twice; keep one of them.',
      },
    },
    {
      what: 'a masked custom value renamed without a new value',
      type: relay!,
      stored: {
        url: 'https://relay.example.com/m',
        supported_apis: ['health'],
        custom_key: MASKED,
      },
      change: (s: FormState): FormState => {
        const rows = s.fields['custom_*']
        if (rows?.kind !== 'rows') throw new Error('no rows')
        return {
          ...s,
          fields: {
            ...s.fields,
            'custom_*': { kind: 'rows', rows: rows.rows.map((r) => ({ ...r, name: 'api_key' })) },
          },
        }
      },
      problem: {
        key: 'custom_*',
        message:
          'Values passed to the module as token claims, row 1: enter the value again: the stored secret belongs to the old name.',
      },
    },
    {
      what: 'JSON that is not an object',
      type: feed,
      stored: { custom_key: MASKED },
      change: (s: FormState): FormState => ({ ...s, other: '["custom_region"]' }),
      problem: { key: 'other', message: 'The JSON settings must be an object: { "name": value }.' },
    },
    {
      what: 'JSON setting what the form sets',
      type: feed,
      stored: { custom_key: MASKED },
      change: (s: FormState): FormState => ({ ...s, other: '{"custom_limit": 3}' }),
      problem: {
        key: 'other',
        message:
          'The JSON settings set "custom_limit", which the form sets: change it in the form and remove it from the JSON.',
      },
    },
  ])('says what to fix: $what', ({ type, stored, change, problem }) => {
    expect(changed(type, stored, change).problems).toEqual([problem])
  })
})
