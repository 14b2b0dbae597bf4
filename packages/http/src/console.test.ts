import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@postern/core'
import { createHttpApp, type HttpApp } from './app.js'
import { serveConsole } from './console.js'

async function appServing(dir: string): Promise<HttpApp> {
  const app = await createHttpApp({
    logger: silentLogger(),
    title: 'T',
    description: 'd',
    version: '1',
  })
  serveConsole(app, {
    dir,
    routeConfig: {},
    connectSources: () => ['https://hub.example.com'],
  })
  return app
}

describe('serveConsole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-console-'))
  let app: HttpApp
  beforeAll(async () => {
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>c</title>')
    writeFileSync(join(dir, 'assets', 'main-abc.js'), 'export {}')
    writeFileSync(join(dir, 'ribbon.js'), 'void 0')
    writeFileSync(join(dir, 'notes.txt'), 'not a console file')
    app = await appServing(dir)
  })
  afterAll(async () => {
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves the page under a strict policy that names the extra origins', async () => {
    const res = await app.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self' https://hub.example.com")
    expect(csp).not.toContain('unsafe')
  })

  it.each([
    ['/assets/main-abc.js', 200, 'public, max-age=31536000, immutable'],
    ['/ribbon.js', 200, 'no-cache'],
    ['/assets/../index.html', 404, undefined],
    ['/assets/%2e%2e/notes.txt', 404, undefined],
    ['/notes.txt', 404, undefined],
  ])('GET %s answers %i', async (url, status, cache) => {
    const res = await app.inject({ method: 'GET', url })
    expect(res.statusCode).toBe(status)
    expect(res.headers['cache-control']).toBe(cache)
  })

  it('lets other origins embed the top-level scripts only', async () => {
    const ribbon = await app.inject({ method: 'GET', url: '/ribbon.js' })
    expect(ribbon.headers['cross-origin-resource-policy']).toBe('cross-origin')
    const asset = await app.inject({ method: 'GET', url: '/assets/main-abc.js' })
    expect(asset.headers['cross-origin-resource-policy']).toBe('same-origin')
  })

  it('answers a coded 503 when the console was not built', async () => {
    const empty = await appServing(join(dir, 'missing'))
    const res = await empty.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({ error: { code: 'HTTP_ERR_CONSOLE_NOT_BUILT' } })
    await empty.close()
  })
})
