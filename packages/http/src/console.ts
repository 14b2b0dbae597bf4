import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import type { FastifyReply } from 'fastify'
import type { HttpApp } from './app.js'
import { httpErrors } from './http-errors.js'

export interface ConsoleOptions {
  /** The built console: `index.html`, `assets/…` and any other top-level file. */
  dir: string
  /** Merged into every console route's config (each app's auth layer reads it). */
  routeConfig: Record<string, unknown>
  /** Origins the page may also call besides its own (the hub a ribbon talks to). */
  connectSources?: () => Promise<readonly string[]> | readonly string[]
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

interface ConsoleFile {
  type: string
  body: Buffer
}

/**
 * The Content-Security-Policy of a console page: scripts and styles only from the app itself (no
 * inline script, no eval), nothing embedded from elsewhere, and requests only to the app and the
 * origins it names. Hostile mail content that slipped past React's escaping still could not run.
 */
export function consolePolicy(connect: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...connect].join(' ')}`,
    "font-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ')
}

/**
 * Serves a built single-page console from memory: `/` is its page, `/assets/*` its hashed
 * bundles (cached for a year: a new build has new names), and any other top-level file by its
 * name. Only the files found at start are served, so no request can name a path outside `dir`.
 */
export function serveConsole(app: HttpApp, options: ConsoleOptions): void {
  const files = readConsole(options.dir)
  const send = (reply: FastifyReply, file: ConsoleFile | undefined, cache: string) => {
    if (!file) throw httpErrors.NOT_FOUND({ method: 'GET', url: reply.request.url })
    return reply.type(file.type).header('cache-control', cache).send(file.body)
  }
  const config = options.routeConfig
  app.get('/', { config, schema: { hide: true } }, async (_request, reply) => {
    const index = files.get('index.html')
    if (!index) throw httpErrors.CONSOLE_NOT_BUILT({ dir: options.dir })
    const extra = (await options.connectSources?.()) ?? []
    void reply.header('content-security-policy', consolePolicy(extra))
    return send(reply, index, 'no-cache')
  })
  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    { config, schema: { hide: true } },
    async (request, reply) =>
      send(
        reply,
        files.get(`assets/${request.params['*']}`),
        'public, max-age=31536000, immutable',
      ),
  )
  for (const name of files.keys()) {
    if (name === 'index.html' || name.startsWith('assets/')) continue
    // Top-level files besides the page (the ribbon script) are meant to be embedded by pages of
    // other origins, which the default same-origin resource policy would block.
    app.get(`/${name}`, { config, schema: { hide: true } }, async (_request, reply) =>
      send(
        reply.header('cross-origin-resource-policy', 'cross-origin'),
        files.get(name),
        'no-cache',
      ),
    )
  }
}

function readConsole(dir: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>()
  if (!existsSync(dir)) return files
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name)
      if (statSync(path).isDirectory()) walk(path)
      else {
        const type = TYPES[extname(name)]
        if (type)
          files.set(relative(dir, path).split(sep).join('/'), { type, body: readFileSync(path) })
      }
    }
  }
  walk(dir)
  return files
}
