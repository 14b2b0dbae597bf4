import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import {
  CTIA_SEARCH_FIELDS,
  type CtiaEntity,
  type CtiaEntityType,
  type CtiaFilter,
} from '@postern/store'
import type { Caller } from './caller.js'
import type { CasebookService } from './casebook-service.js'
import type { CtiaEntityService, WriteContext } from './ctia-entity-service.js'
import {
  type BaseUrl,
  ctiaErrorHandler,
  ctiaValidatorCompiler,
  idUrl,
  renderEntity,
  shortIdFrom,
} from './ctia-http.js'
import {
  CasebookBundleOperationSchema,
  CasebookObservablesOperationSchema,
  CasebookPatchSchema,
  CasebookTextsOperationSchema,
  IncidentLinkSchema,
  IncidentStatusUpdateSchema,
  NewCasebookSchema,
  NewIncidentSchema,
  NewJudgementSchema,
  OBSERVABLE_TYPES,
} from '@postern/ctim'
import { privateIntelErrors } from './private-intel-errors.js'
import { histogram, type Granularity } from './search/metrics.js'
import { QuerySyntaxError } from './search/query-parser.js'
import {
  DEFAULT_LIMIT,
  pagingHeaders,
  searchFilter,
  searchQuerySchema,
  toCtiaSearch,
  type SearchQuery,
} from './search/search-request.js'
import type { IncidentService } from '../incidents/incident-service.js'
import type { JudgementService } from '../judgements/judgement-service.js'
import type { BundleService } from '../sharing/bundle-service.js'
import { bundleRoutes } from '../sharing/bundle-routes.js'

export interface CtiaRoutesOptions {
  entities: CtiaEntityService
  casebooks: CasebookService
  incidents: IncidentService
  judgements: JudgementService
  /** CTIM bundle export and import (`/ctia/bundle/...`). */
  bundles: BundleService
  /** Public origin of the private-intel API (ids are `<baseUrl>/ctia/<type>/<id>`). */
  baseUrl: BaseUrl
  /** The caller of an authenticated request (the hub's `request.auth`). */
  callerOf: (request: FastifyRequest) => Caller
}

const entitySchema = z.record(z.string(), z.unknown()).describe('A CTIM entity')
const idParams = z.object({ id: z.string().min(1).max(4096).describe('Short id or id URL') })
const waitFor = z
  .object({
    wait_for: z.enum(['true', 'false']).optional().describe('Accepted; writes are visible at once'),
  })
  .strip()
const deleteSearchQuery = searchQuerySchema.extend({
  REALLY_DELETE_ALL_THESE_ENTITIES: z
    .enum(['true', 'false'])
    .optional()
    .describe('true deletes; otherwise the route only counts what it would delete'),
})

/**
 * CTIA field filters: any query parameter named after a searchable field (`?id=…`,
 * `?status=New`) is an exact match, as in CTIA's search routes.
 */
function fieldFilters(entityType: CtiaEntityType, query: Record<string, unknown>): CtiaFilter[] {
  const fields = CTIA_SEARCH_FIELDS[entityType] ?? {}
  const filters: CtiaFilter[] = []
  for (const [key, value] of Object.entries(query)) {
    if (!(key in fields) || key === 'type') continue
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'string')
        filters.push({ op: 'match', field: key, value: v, wildcard: false })
    }
  }
  return filters
}

function parseSearch(
  entityType: CtiaEntityType,
  raw: unknown,
  schema: typeof searchQuerySchema = searchQuerySchema,
): { query: SearchQuery; filter: CtiaFilter; hasCriteria: boolean } {
  const parsed = schema.safeParse(raw)
  if (!parsed.success)
    throw privateIntelErrors.INVALID_QUERY({
      reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    })
  const fields = fieldFilters(entityType, raw as Record<string, unknown>)
  let base: CtiaFilter
  try {
    base = searchFilter(parsed.data)
  } catch (err) {
    if (err instanceof QuerySyntaxError)
      throw privateIntelErrors.INVALID_QUERY({ reason: err.message }, { cause: err })
    throw err
  }
  const filter: CtiaFilter = fields.length === 0 ? base : { op: 'and', filters: [base, ...fields] }
  const hasCriteria =
    fields.length > 0 ||
    (parsed.data.query ?? '').trim().length > 0 ||
    parsed.data.from !== undefined ||
    parsed.data.to !== undefined
  return { query: parsed.data, filter, hasCriteria }
}

interface EntityRouteSpec {
  type: CtiaEntityType
  scope: string
  tag: string
  newSchema: z.ZodType<Record<string, unknown>>
  patchSchema?: z.ZodType<Record<string, unknown>>
  create: (caller: Caller, doc: Record<string, unknown>, ctx: WriteContext) => Promise<CtiaEntity>
  replace: (
    caller: Caller,
    id: string,
    doc: Record<string, unknown>,
    ctx: WriteContext,
  ) => Promise<CtiaEntity>
  /** 404 body of PATCH: CTIA's casebook PATCH answers JSON, the generic one an empty body. */
  patchNotFound: 'empty' | 'json'
}

/**
 * The private-intelligence part of the CTIA API: `/ctia/casebook`, `/ctia/incident`,
 * `/ctia/judgement` and `/ctia/relationship` with CTIA's routes, status codes, paging headers
 * and error bodies (reference §2). Register under the `/ctia` prefix.
 */
export async function ctiaRoutes(app: HttpApp, options: CtiaRoutesOptions): Promise<void> {
  app.setErrorHandler(ctiaErrorHandler)
  app.setValidatorCompiler(ctiaValidatorCompiler)
  const { entities, baseUrl, callerOf } = options
  const render = (entity: CtiaEntity) => renderEntity(entity, baseUrl)
  const context = (request: FastifyRequest): WriteContext => ({
    source: 'api',
    remoteIp: request.ip,
  })

  const specs: EntityRouteSpec[] = [
    {
      type: 'casebook',
      scope: 'casebook',
      tag: 'Casebook',
      newSchema: NewCasebookSchema,
      patchSchema: CasebookPatchSchema,
      create: (caller, doc, ctx) => entities.create(caller, 'casebook', doc, ctx),
      replace: (caller, id, doc, ctx) => entities.replace(caller, 'casebook', id, doc, ctx),
      patchNotFound: 'json',
    },
    {
      type: 'incident',
      scope: 'private-intel',
      tag: 'Incident',
      newSchema: NewIncidentSchema,
      patchSchema: NewIncidentSchema.partial().describe('Incident fields to change'),
      create: (caller, doc, ctx) => options.incidents.create(caller, doc, ctx),
      replace: (caller, id, doc, ctx) => entities.replace(caller, 'incident', id, doc, ctx),
      patchNotFound: 'empty',
    },
    {
      type: 'judgement',
      scope: 'private-intel',
      tag: 'Judgement',
      newSchema: NewJudgementSchema as unknown as z.ZodType<Record<string, unknown>>,
      create: (caller, doc, ctx) => options.judgements.create(caller, doc, ctx),
      replace: (caller, id, doc, ctx) => options.judgements.replace(caller, id, doc, ctx),
      patchNotFound: 'empty',
    },
  ]

  for (const spec of specs) registerEntityRoutes(app, spec)
  await app.register(bundleRoutes, { bundles: options.bundles, callerOf })
  registerReadOnlyRoutes(app, 'relationship', 'private-intel', 'Relationship')

  function registerEntityRoutes(scoped: HttpApp, spec: EntityRouteSpec): void {
    const base = `/${spec.type}`
    scoped.post(
      base,
      {
        config: { scope: spec.scope },
        schema: {
          tags: [spec.tag],
          summary: `Create a ${spec.type}`,
          querystring: waitFor,
          body: spec.newSchema,
          response: { 201: entitySchema },
        },
      },
      async (request, reply) => {
        const entity = await spec.create(callerOf(request), request.body, context(request))
        const body = render(entity)
        return reply.code(201).header('Location', String(body.id)).send(body)
      },
    )
    scoped.put(
      `${base}/:id`,
      {
        config: { scope: spec.scope, ctiaNotFound: 'empty' },
        schema: {
          tags: [spec.tag],
          summary: `Replace a ${spec.type}`,
          params: idParams,
          querystring: waitFor,
          body: spec.newSchema,
          response: { 200: entitySchema },
        },
      },
      async (request) =>
        render(
          await spec.replace(
            callerOf(request),
            shortIdFrom(request.params.id, spec.type),
            request.body,
            context(request),
          ),
        ),
    )
    if (spec.patchSchema) {
      scoped.patch(
        `${base}/:id`,
        {
          config: { scope: spec.scope, ctiaNotFound: spec.patchNotFound },
          schema: {
            tags: [spec.tag],
            summary: `Change some fields of a ${spec.type}`,
            params: idParams,
            querystring: waitFor,
            body: spec.patchSchema,
            response: { 200: entitySchema },
          },
        },
        async (request) =>
          render(
            await entities.patch(
              callerOf(request),
              spec.type,
              shortIdFrom(request.params.id, spec.type),
              request.body,
              'replace',
              context(request),
            ),
          ),
      )
    }
    registerReadOnlyRoutes(scoped, spec.type, spec.scope, spec.tag)
  }

  function registerReadOnlyRoutes(
    scoped: HttpApp,
    type: CtiaEntityType,
    scope: string,
    tag: string,
  ): void {
    const base = `/${type}`
    scoped.get(
      `${base}/search`,
      {
        config: { scope },
        schema: {
          tags: [tag],
          summary: `Search ${type} entities (Lucene query and field filters)`,
          querystring: z.looseObject(searchQuerySchema.shape),
          response: { 200: z.array(entitySchema) },
        },
      },
      async (request, reply) => {
        const { query, filter } = parseSearch(type, request.query)
        const search = { ...toCtiaSearch(query), filter }
        const result = await entities.search(callerOf(request), type, search)
        return reply.headers(pagingHeaders(search, result)).send(result.hits.map(render))
      },
    )
    scoped.get(
      `${base}/search/count`,
      {
        config: { scope },
        schema: {
          tags: [tag],
          summary: `Count ${type} entities matching a query`,
          querystring: z.looseObject(searchQuerySchema.shape),
          response: { 200: z.number().int() },
        },
      },
      async (request) => {
        const { filter } = parseSearch(type, request.query)
        return entities.count(callerOf(request), type, filter)
      },
    )
    scoped.delete(
      `${base}/search`,
      {
        config: { scope },
        schema: {
          tags: [tag],
          summary: `Delete ${type} entities matching a query (a dry run unless REALLY_DELETE_ALL_THESE_ENTITIES=true)`,
          querystring: z.looseObject(deleteSearchQuery.shape),
          response: { 200: z.number().int(), 403: z.looseObject({ error: z.string() }) },
        },
      },
      async (request, reply) => {
        const { filter, hasCriteria } = parseSearch(type, request.query, deleteSearchQuery)
        if (!hasCriteria)
          return reply.code(403).send({
            error: 'you must provide at least one of from, to, query or any field filter.',
          })
        const caller = callerOf(request)
        const really = (request.query as { REALLY_DELETE_ALL_THESE_ENTITIES?: string })
          .REALLY_DELETE_ALL_THESE_ENTITIES
        return really === 'true'
          ? entities.deleteMatching(caller, type, filter, context(request))
          : entities.count(caller, type, filter)
      },
    )
    if (type !== 'relationship') registerMetricRoutes(scoped, type, scope, tag)
    scoped.get(
      `${base}/external_id/:external_id`,
      {
        config: { scope },
        schema: {
          tags: [tag],
          summary: `List ${type} entities by external id`,
          params: z.object({ external_id: z.string().min(1).max(2048) }),
          querystring: z.looseObject({
            limit: z.coerce.number().int().min(1).max(10_000).optional(),
          }),
          response: { 200: z.array(entitySchema) },
        },
      },
      async (request, reply) => {
        const limit = (request.query as { limit?: number }).limit ?? DEFAULT_LIMIT
        const hits = await entities.byExternalId(
          callerOf(request),
          type,
          request.params.external_id,
          limit,
        )
        return reply.header('X-Total-Hits', String(hits.length)).send(hits.map(render))
      },
    )
    scoped.get(
      `${base}/:id`,
      {
        config: { scope, ctiaNotFound: 'empty' },
        schema: {
          tags: [tag],
          summary: `Get a ${type}`,
          params: idParams,
          response: { 200: entitySchema },
        },
      },
      async (request) =>
        render(await entities.get(callerOf(request), type, shortIdFrom(request.params.id, type))),
    )
    scoped.delete(
      `${base}/:id`,
      {
        config: { scope, ctiaNotFound: 'empty' },
        schema: {
          tags: [tag],
          summary: `Delete a ${type}`,
          params: idParams,
          querystring: waitFor,
        },
      },
      async (request, reply) => {
        await entities.delete(
          callerOf(request),
          type,
          shortIdFrom(request.params.id, type),
          context(request),
        )
        return reply.code(204).send()
      },
    )
  }

  function registerMetricRoutes(
    scoped: HttpApp,
    type: CtiaEntityType,
    scope: string,
    tag: string,
  ): void {
    const base = `/${type}/metric`
    const metricQuery = z.looseObject({
      ...searchQuerySchema.shape,
      'aggregate-on': z.string().min(1).max(128).describe('Field to aggregate on'),
      from: z.string().max(64).describe('Start (ISO 8601) of the period'),
      to: z.string().max(64).optional().describe('End (ISO 8601) of the period'),
    })
    const metricBody = z.object({
      type: z.enum(['histogram', 'topn', 'cardinality']),
      data: z.unknown(),
      filters: z.record(z.string(), z.unknown()),
    })
    const filtersOf = (query: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(query).filter(
          ([k]) => !['aggregate-on', 'limit', 'sort_order', 'granularity'].includes(k),
        ),
      )
    const withPeriod = (query: Record<string, unknown>, field: string): CtiaFilter => {
      const { filter } = parseSearch(type, { ...query, from: undefined, to: undefined })
      const range: CtiaFilter = { op: 'range', field, gte: String(query.from) }
      if (query.to !== undefined) range.lt = String(query.to)
      return { op: 'and', filters: [filter, range] }
    }

    scoped.get(
      `${base}/histogram`,
      {
        config: { scope },
        schema: {
          tags: [tag],
          summary: `Histogram of a ${type} time field`,
          querystring: metricQuery.extend({
            granularity: z.enum(['day', 'week', 'month']).describe('Bucket size'),
          }),
          response: { 200: metricBody },
        },
      },
      async (request) => {
        const query = request.query as Record<string, unknown> & {
          'aggregate-on': string
          granularity: Granularity
        }
        const field = query['aggregate-on']
        const values = await entities.timeValues(
          callerOf(request),
          type,
          field,
          withPeriod(query, field),
        )
        return {
          type: 'histogram' as const,
          data: histogram(values, query.granularity),
          filters: filtersOf(query),
        }
      },
    )
    for (const kind of ['topn', 'cardinality'] as const) {
      scoped.get(
        `${base}/${kind}`,
        {
          config: { scope },
          schema: {
            tags: [tag],
            summary:
              kind === 'topn'
                ? `Most frequent values of a ${type} field`
                : `Number of distinct values of a ${type} field`,
            querystring: metricQuery,
            response: { 200: metricBody },
          },
        },
        async (request) => {
          const query = request.query as Record<string, unknown> & { 'aggregate-on': string }
          const limit = typeof query.limit === 'number' ? query.limit : 10
          const counts = await entities.valueCounts(
            callerOf(request),
            type,
            query['aggregate-on'],
            withPeriod(query, 'created'),
            limit,
          )
          return {
            type: kind,
            data:
              kind === 'topn'
                ? (query.sort_order === 'asc' ? [...counts.values].reverse() : counts.values).map(
                    (v) => ({ key: v.key, value: v.count }),
                  )
                : counts.distinct,
            filters: filtersOf(query),
          }
        },
      )
    }
  }

  const operations = [
    ['observables', CasebookObservablesOperationSchema],
    ['texts', CasebookTextsOperationSchema],
    ['bundle', CasebookBundleOperationSchema],
  ] as const
  for (const [field, schema] of operations) {
    app.post(
      `/casebook/:id/${field}`,
      {
        config: { scope: 'casebook', ctiaNotFound: 'json' },
        schema: {
          tags: ['Casebook'],
          summary: `Add, remove or replace the ${field} of a casebook`,
          params: idParams,
          querystring: waitFor,
          body: schema,
          response: { 200: entitySchema },
        },
      },
      async (request) => {
        const body = request.body as { operation: 'add' | 'remove' | 'replace' } & Record<
          string,
          unknown
        >
        return render(
          await options.casebooks.operate(
            callerOf(request),
            shortIdFrom(request.params.id, 'casebook'),
            field,
            body.operation,
            body[field],
            context(request),
          ),
        )
      },
    )
  }

  const observableParams = z.object({
    observable_type: z.enum(OBSERVABLE_TYPES).describe('CTIM observable type'),
    observable_value: z.string().min(1).max(2048).describe('Observable value'),
  })
  app.get(
    '/:observable_type/:observable_value/verdict',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Verdict'],
        summary: "The org's current verdict on an observable (from its judgements)",
        params: observableParams,
        response: { 200: entitySchema, 404: z.object({ error: z.string() }) },
      },
    },
    async (request, reply) => {
      const { observable_type: type, observable_value: value } = request.params
      const answer = await options.judgements.deliberate(
        callerOf(request).orgId,
        [{ type, value }],
        (e) => idUrl(baseUrl, e.entityType, e.id),
      )
      const verdict = answer.verdicts.docs[0]
      if (!verdict)
        return reply
          .code(404)
          .send({ error: 'no verdict currently available for the supplied observable' })
      return { ...verdict }
    },
  )
  app.get(
    '/:observable_type/:observable_value/judgements',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Judgement'],
        summary: 'Judgements on an observable',
        params: observableParams,
        querystring: z.looseObject(searchQuerySchema.shape),
        response: { 200: z.array(entitySchema) },
      },
    },
    async (request, reply) => {
      const { observable_type: type, observable_value: value } = request.params
      const { query, filter } = parseSearch('judgement', request.query)
      const search = {
        ...toCtiaSearch(query),
        filter: {
          op: 'and' as const,
          filters: [
            filter,
            { op: 'match' as const, field: 'observable.type', value: type, wildcard: false },
            { op: 'match' as const, field: 'observable.value', value, wildcard: false },
          ],
        },
      }
      const result = await entities.search(callerOf(request), 'judgement', search)
      return reply.headers(pagingHeaders(search, result)).send(result.hits.map(render))
    },
  )

  app.post(
    '/incident/:id/status',
    {
      config: { scope: 'private-intel', ctiaNotFound: 'empty' },
      schema: {
        tags: ['Incident'],
        summary: 'Change the status of an incident',
        params: idParams,
        body: IncidentStatusUpdateSchema,
        response: { 200: entitySchema },
      },
    },
    async (request) =>
      render(
        await options.incidents.setStatus(
          callerOf(request),
          shortIdFrom(request.params.id, 'incident'),
          request.body.status,
          context(request),
        ),
      ),
  )

  app.post(
    '/incident/:id/link',
    {
      config: { scope: 'private-intel', ctiaNotFound: 'empty' },
      schema: {
        tags: ['Incident'],
        summary: 'Link an incident to a casebook (or an investigation)',
        params: idParams,
        body: IncidentLinkSchema,
        response: { 201: entitySchema },
      },
    },
    async (request, reply) => {
      const { casebook_id, investigation_id, tlp } = request.body
      const relationship = await options.incidents.link(
        callerOf(request),
        shortIdFrom(request.params.id, 'incident'),
        {
          ...(casebook_id !== undefined
            ? { casebook_id: shortIdFrom(casebook_id, 'casebook') }
            : {}),
          ...(investigation_id !== undefined ? { investigation_id } : {}),
          ...(tlp !== undefined ? { tlp } : {}),
        },
        context(request),
      )
      const body = render(relationship)
      return reply
        .code(201)
        .header('Location', idUrl(baseUrl, 'relationship', relationship.id))
        .send(body)
    },
  )
}
