import { InspectRequestSchema, InspectResponseSchema, inspect } from '@postern/ctim'
import type { HttpApp } from '@postern/http'
import { irohErrorHandler, parseIroh } from './iroh-errors.js'

/**
 * `POST /iroh/iroh-inspect/inspect` (reference §2): free text in, unique observables out, with
 * the reference's 400 bodies (`{"content":"missing-required-key"}`, `{"x":"disallowed-key"}`).
 * The body schema is checked in the handler, not by fastify, so that the error body is the
 * compojure-api one clients expect rather than the hub's own.
 */
export async function registerInspectRoutes(app: HttpApp): Promise<void> {
  await app.register(async (plugin) => {
    const scope = plugin as unknown as HttpApp
    scope.setErrorHandler(irohErrorHandler)
    scope.post(
      '/iroh/iroh-inspect/inspect',
      {
        config: { scope: 'inspect:read' },
        bodyLimit: 2 * 1024 * 1024,
        schema: {
          summary: 'Find observables (URLs, domains, addresses, hashes, Message-IDs…) in free text',
          tags: ['investigate'],
          response: { 200: InspectResponseSchema },
        },
      },
      async (request) => {
        const { content } = parseIroh(InspectRequestSchema, request.body)
        return inspect(content)
      },
    )
  })
}
