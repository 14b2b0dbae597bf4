import type { HttpApp } from '@postern/http'

/**
 * Lets pages of other origins (a gateway console's ribbon) call the hub with a bearer token.
 * Browsers send no cookie on these requests (no Access-Control-Allow-Credentials), so another
 * origin can only do what a token it already holds allows; the session cookie stays same-site.
 */
export function installBearerCors(app: HttpApp): void {
  app.options(
    '/*',
    { config: { public: true }, schema: { hide: true } },
    async (request, reply) => {
      if (!request.headers.origin) return reply.code(404).send()
      return reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .send()
    },
  )
  app.addHook('onSend', async (request, reply) => {
    if (request.headers.origin && request.headers.authorization) {
      void reply.header('access-control-allow-origin', '*')
    }
  })
}
