import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { fetchToken, startTestHub, type HubHarness } from './harness.js'

/** Inspect and the module type / instance API, on both storage backends. */
describe.each(BACKENDS)('hub investigate API on %s', (dialect) => {
  let h: HubHarness
  let token: string

  beforeAll(async () => {
    h = await startTestHub(dialect)
    await h.hub.admin.createOrgWithAdmin({ orgName: 'Org A', email: 'admin@a.example' })
    const client = await h.hub.admin.createApiClient({
      org: 'Org A',
      name: 'analyst',
      scopes: SCOPE_CATALOGUE,
    })
    token = await fetchToken(h.hub, client.client.id, client.secret)
  })
  afterAll(() => h.stop())

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    h.hub.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })

  describe('POST /iroh/iroh-inspect/inspect', () => {
    it.each([
      ['cisco.com', [{ type: 'domain', value: 'cisco.com' }]],
      ['1.1.1.1', [{ type: 'ip', value: '1.1.1.1' }]],
      [
        'Phish from it-support@login-micros0ft[.]com: hxxps://login-micros0ft[.]com/reset',
        expect.arrayContaining([
          { type: 'email', value: 'it-support@login-micros0ft.com' },
          { type: 'url', value: 'https://login-micros0ft.com/reset' },
        ]),
      ],
      ['cisco.com cisco.com CISCO.COM', [{ type: 'domain', value: 'cisco.com' }]],
      ['', []],
    ])('finds the observables in %j', async (content, expected) => {
      const res = await call('POST', '/iroh/iroh-inspect/inspect', { content })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual(expected)
    })

    it.each([
      [{}, { content: 'missing-required-key' }],
      [{ content: 'x', extra: 1 }, { extra: 'disallowed-key' }],
      [{ content: 42 }, { content: '(not (instance? java.lang.String 42))' }],
    ])('answers %j with the reference 400 body', async (body, expected) => {
      const res = await call('POST', '/iroh/iroh-inspect/inspect', body)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toEqual(expected)
    })

    it('answers a body that is not JSON with a 400, not a crash', async () => {
      const res = await h.hub.app.inject({
        method: 'POST',
        url: '/iroh/iroh-inspect/inspect',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: '{"content": ',
      })
      expect(res.statusCode).toBe(400)
    })
  })

  describe('module types', () => {
    it('lists the built-in types', async () => {
      const res = await call('GET', '/iroh/iroh-int/module-type')
      expect(res.statusCode).toBe(200)
      expect(res.json().map((t: { name: string }) => t.name)).toEqual([
        'Postern Email Gateway',
        'Relay',
      ])
    })

    it('creates, reads, patches and deletes a relay module type', async () => {
      const created = await call('POST', '/iroh/iroh-int/module-type', {
        name: 'Sandbox',
        properties: {
          url: 'https://sandbox.example/relay',
          'supported-apis': ['health', 'observe/observables'],
        },
      })
      expect(created.statusCode).toBe(201)
      const type = created.json()
      expect(type).toMatchObject({
        name: 'Sandbox',
        built_in: false,
        properties: { 'auth-type': 'configuration-token', url: 'https://sandbox.example/relay' },
      })
      const patched = await call('PATCH', `/iroh/iroh-int/module-type/${type.id}`, {
        description: 'Detonation verdicts',
      })
      expect(patched.json().description).toBe('Detonation verdicts')
      const instance = await call('POST', '/iroh/iroh-int/module-instance', {
        name: 'Sandbox EU',
        module_type_id: type.id,
        settings: { custom_key: 'k-123' },
      })
      expect(instance.statusCode).toBe(201)
      expect(
        (await call('DELETE', `/iroh/iroh-int/module-type/${type.id}`)).json().error.code,
      ).toBe('HUB_ERR_MODULE_TYPE_IN_USE')
      expect(
        (await call('DELETE', `/iroh/iroh-int/module-instance/${instance.json().id}`)).statusCode,
      ).toBe(204)
      expect((await call('DELETE', `/iroh/iroh-int/module-type/${type.id}`)).statusCode).toBe(204)
      expect((await call('GET', `/iroh/iroh-int/module-type/${type.id}`)).statusCode).toBe(404)
    })

    it('refuses to change a built-in type', async () => {
      const res = await call('DELETE', '/iroh/iroh-int/module-type/relay')
      expect(res.statusCode).toBe(409)
    })
  })

  describe('module instances', () => {
    it('creates an email gateway instance with every device by default', async () => {
      const res = await call('POST', '/iroh/iroh-int/module-instance', {
        name: 'Our gateways',
        module_type_id: 'postern-email-gateway',
      })
      expect(res.statusCode).toBe(201)
      expect(res.json()).toMatchObject({
        name: 'Our gateways',
        enabled: true,
        visibility: 'org',
        settings: { devices: 'all', approval_required: [] },
        external_references: [],
      })
    })

    it('masks secrets in views and keeps them when the mask is sent back', async () => {
      const created = await call('POST', '/iroh/iroh-int/module-instance', {
        name: 'Intel relay',
        module_type_id: 'relay',
        settings: { url: 'https://relay.example', custom_api_key: 'S3CRET' },
      })
      expect(created.statusCode).toBe(201)
      const view = created.json()
      expect(view.settings.custom_api_key).toBe('*****')
      expect(JSON.stringify(view)).not.toContain('S3CRET')
      const patched = await call('PATCH', `/iroh/iroh-int/module-instance/${view.id}`, {
        settings: { ...view.settings, custom_region: 'eu' },
        enabled: false,
      })
      expect(patched.statusCode).toBe(200)
      expect(patched.json()).toMatchObject({ enabled: false, settings: { custom_region: 'eu' } })
      const [resolved] = (await h.hub.services.modules.enabledModules(view.org_id)).filter(
        (m) => m.instance.id === view.id,
      )
      expect(resolved).toBeUndefined()
      const record = await h.hub.services.modules.findInstance(view.org_id, 'Intel relay')
      const module = await h.hub.services.modules.resolve(view.org_id, record)
      expect(module).toMatchObject({
        kind: 'relay',
        url: 'https://relay.example',
        settings: { custom_api_key: 'S3CRET', custom_region: 'eu' },
      })
    })

    it.each([
      [
        { module_type_id: 'relay', settings: { url: 'https://x.example' } },
        { name: 'missing-required-key' },
      ],
      [
        { name: 'x', module_type_id: 'relay', settings: { url: 'ftp://x.example' } },
        { settings: { url: expect.stringContaining('not') } },
      ],
      [
        { name: 'x', module_type_id: 'relay', settings: { url: 'https://x.example', key: 'v' } },
        { settings: { key: expect.any(String) } },
      ],
      [
        {
          name: 'x',
          module_type_id: 'postern-email-gateway',
          settings: { approval_required: ['nuke'] },
        },
        { settings: { approval_required: [expect.any(String)] } },
      ],
    ])('refuses %j with a field-keyed 400', async (body, expected) => {
      const res = await call('POST', '/iroh/iroh-int/module-instance', body)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject(expected)
    })

    it('answers an unknown module type and instance with 404', async () => {
      expect(
        (
          await call('POST', '/iroh/iroh-int/module-instance', {
            name: 'x',
            module_type_id: 'nope',
          })
        ).statusCode,
      ).toBe(404)
      expect((await call('GET', '/iroh/iroh-int/module-instance/nope')).statusCode).toBe(404)
    })
  })
})
