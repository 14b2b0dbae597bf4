import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineErrors, silentLogger } from '@postern/core'
import { createHttpApp, type HttpApp } from './app.js'

const testErrors = defineErrors('HTTPTEST', {
  THING_MISSING: { message: 'Thing {id} does not exist', hint: 'List things first.', status: 404 },
})

describe('createHttpApp', () => {
  let app: HttpApp
  beforeAll(async () => {
    app = await createHttpApp({
      logger: silentLogger(),
      title: 'T',
      description: 'd',
      version: '1',
    })
    app.post(
      '/api/v1/things',
      {
        schema: {
          body: z.object({ name: z.string().min(1) }).strict(),
          response: { 200: z.object({ id: z.string() }) },
        },
      },
      async (request) => ({ id: `t-${request.body.name}`, secret: 'not serialised' }),
    )
    app.get('/api/v1/things/:id', async (request) => {
      throw testErrors.THING_MISSING({ id: (request.params as { id: string }).id })
    })
    app.get('/api/v1/boom', async () => {
      throw new Error('database password is hunter2')
    })
    await app.ready()
  })
  afterAll(() => app.close())

  it('validates bodies and strips undeclared response fields', async () => {
    const ok = await app.inject({ method: 'POST', url: '/api/v1/things', payload: { name: 'a' } })
    expect(ok.json()).toEqual({ id: 't-a' })
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/things',
      payload: { name: '', extra: 1 },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('HTTP_ERR_VALIDATION')
    expect(bad.json().error.issues.length).toBeGreaterThan(0)
  })

  it.each([
    ['a coded error', '/api/v1/things/9', 404, 'HTTPTEST_ERR_THING_MISSING'],
    ['an unknown route', '/api/v1/nothing', 404, 'HTTP_ERR_NOT_FOUND'],
    ['an unexpected error, without its message', '/api/v1/boom', 500, 'HTTP_ERR_INTERNAL'],
  ])('answers %s with a coded body', async (_name, url, status, code) => {
    const res = await app.inject({ method: 'GET', url })
    expect(res.statusCode).toBe(status)
    expect(res.json().error.code).toBe(code)
    expect(res.json().error.hint).toBeTruthy()
    expect(res.body).not.toContain('hunter2')
  })

  it('rejects malformed JSON with a coded 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/things',
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('HTTP_ERR_VALIDATION')
  })

  it('serves the OpenAPI document and strict security headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })
    expect(res.json().openapi).toBe('3.1.0')
    expect(Object.keys(res.json().paths)).toContain('/api/v1/things')
    expect(res.headers['content-security-policy']).toContain("script-src 'self'")
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })
})
