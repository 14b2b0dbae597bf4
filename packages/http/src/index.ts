export { createHttpApp, defaultErrorHandler, type HttpApp, type HttpAppOptions } from './app.js'
export { httpErrors } from './http-errors.js'
export type { ZodTypeProvider } from 'fastify-type-provider-zod'
export { consolePolicy, serveConsole, type ConsoleOptions } from './console.js'
