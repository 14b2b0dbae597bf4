import type { HttpApp } from '@postern/http'
import { z } from 'zod'
import { auditActor } from '../../auth/principal.js'
import { irohErrorHandler } from '../iroh-errors.js'
import type { ModuleService } from './module-service.js'

const idParams = z.object({ id: z.string().min(1).max(200) }).strict()

/**
 * Module types and instances (reference §2: `/iroh/iroh-int/module-type`, `/module-instance`):
 * list, create, get, patch, delete. Bodies are checked in the handlers so that schema errors
 * carry the compojure-api body; scopes are `integration/…:read|write`.
 */
export async function registerModuleRoutes(app: HttpApp, modules: ModuleService): Promise<void> {
  await app.register(async (plugin) => {
    const scope = plugin as unknown as HttpApp
    scope.setErrorHandler(irohErrorHandler)

    scope.get(
      '/iroh/iroh-int/module-type',
      {
        config: { scope: 'integration/module-type:read' },
        schema: { summary: 'List module types (built-in and your own)', tags: ['integration'] },
      },
      async (request) => modules.listTypes(request.auth.orgId),
    )
    scope.post(
      '/iroh/iroh-int/module-type',
      {
        config: { scope: 'integration/module-type:write' },
        schema: { summary: 'Define a relay module type', tags: ['integration'] },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await modules.createType(request.auth.orgId, auditActor(request.auth), request.body),
          ),
    )
    scope.get(
      '/iroh/iroh-int/module-type/:id',
      {
        config: { scope: 'integration/module-type:read' },
        schema: { summary: 'Get a module type', tags: ['integration'], params: idParams },
      },
      async (request) => modules.getType(request.auth.orgId, request.params.id),
    )
    scope.patch(
      '/iroh/iroh-int/module-type/:id',
      {
        config: { scope: 'integration/module-type:write' },
        schema: {
          summary: 'Change a module type you defined',
          tags: ['integration'],
          params: idParams,
        },
      },
      async (request) =>
        modules.patchType(
          request.auth.orgId,
          auditActor(request.auth),
          request.params.id,
          request.body,
        ),
    )
    scope.delete(
      '/iroh/iroh-int/module-type/:id',
      {
        config: { scope: 'integration/module-type:write' },
        schema: {
          summary: 'Delete a module type without instances',
          tags: ['integration'],
          params: idParams,
        },
      },
      async (request, reply) => {
        await modules.deleteType(request.auth.orgId, auditActor(request.auth), request.params.id)
        return reply.code(204).send()
      },
    )

    scope.get(
      '/iroh/iroh-int/module-instance',
      {
        config: { scope: 'integration/module-instance:read' },
        schema: {
          summary: 'List module instances',
          tags: ['integration'],
          querystring: z.object({ module_type_id: z.string().max(200).optional() }).strict(),
        },
      },
      async (request) => modules.listInstances(request.auth.orgId, request.query.module_type_id),
    )
    scope.post(
      '/iroh/iroh-int/module-instance',
      {
        config: { scope: 'integration/module-instance:write' },
        schema: {
          summary: 'Create a module instance {name, module_type_id, visibility, settings, enabled}',
          tags: ['integration'],
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await modules.createInstance(
              request.auth.orgId,
              auditActor(request.auth),
              request.auth.userId,
              request.body,
            ),
          ),
    )
    scope.get(
      '/iroh/iroh-int/module-instance/:id',
      {
        config: { scope: 'integration/module-instance:read' },
        schema: { summary: 'Get a module instance', tags: ['integration'], params: idParams },
      },
      async (request) => modules.getInstance(request.auth.orgId, request.params.id),
    )
    scope.patch(
      '/iroh/iroh-int/module-instance/:id',
      {
        config: { scope: 'integration/module-instance:write' },
        schema: { summary: 'Change a module instance', tags: ['integration'], params: idParams },
      },
      async (request) =>
        modules.patchInstance(
          request.auth.orgId,
          auditActor(request.auth),
          request.params.id,
          request.body,
        ),
    )
    scope.delete(
      '/iroh/iroh-int/module-instance/:id',
      {
        config: { scope: 'integration/module-instance:write' },
        schema: { summary: 'Delete a module instance', tags: ['integration'], params: idParams },
      },
      async (request, reply) => {
        await modules.deleteInstance(
          request.auth.orgId,
          auditActor(request.auth),
          request.params.id,
        )
        return reply.code(204).send()
      },
    )
  })
}
