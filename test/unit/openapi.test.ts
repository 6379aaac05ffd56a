// The OpenAPI document: generated from the route schemas, committed as functions/openapi/openapi.json (what the
// openapi function serves), and held to the registry: every route of every area, with its method, path and path
// parameters, its body's required fields as its zod schema has them, and an OpenAPI 3.1 structure throughout.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { adminRoutes } from '../../functions/admin/admin.handler';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { API_AREAS } from '../../infra/api-routes';
import { openApiDocument, type DocumentedArea } from '../../infra/openapi';
import { OPENAPI_JSON_FILE, openApiJsonText, serviceOpenApiDocument } from '../../infra/openapi-document';
import { INTERNAL_ERROR_CODE, STATUS_BY_CODE } from '../../shared/http/error-response';
import type { RouteAccess, RouteDoc } from '../../shared/http/routes';
import { identifier, pageQuery } from '../../shared/http/schemas';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const INFO = { title: 'Test', version: '1.0.0', description: 'A test document' };

const document: Json = serviceOpenApiDocument();

/** Every operation of a document, with its path and method. */
function operationsOf(doc: Json): { path: string; method: string; operation: Json }[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
  );
}

function operationOf(doc: Json, routeKey: string): Json {
  const [method, path] = routeKey.split(' ') as [string, string];
  return doc.paths[path]?.[method.toLowerCase()];
}

/** The essentials of OpenAPI 3.1 that tools rely on (no validator package is installed; this checks what they check first). */
const schemaObject = z.record(z.string(), z.unknown());
const parameter = z.strictObject({
  name: z.string().check(z.minLength(1)),
  in: z.enum(['path', 'query', 'header', 'cookie']),
  required: z.boolean(),
  schema: schemaObject,
  style: z.optional(z.enum(['form', 'simple'])),
  explode: z.optional(z.boolean()),
});
const mediaTypes = z.record(z.string().check(z.regex(/^[a-z]+\/[a-z0-9.+-]+$/)), z.strictObject({ schema: z.optional(schemaObject) }));
const response = z.union([z.strictObject({ $ref: z.string().check(z.startsWith('#/components/responses/')) }), z.strictObject({ description: z.string(), content: z.optional(mediaTypes) })]);
const operation = z.strictObject({
  summary: z.string().check(z.minLength(1)),
  tags: z.array(z.string()),
  servers: z.optional(z.array(z.looseObject({ url: z.string() }))),
  security: z.array(z.record(z.string(), z.array(z.string()))),
  parameters: z.optional(z.array(parameter)),
  requestBody: z.optional(z.strictObject({ required: z.boolean(), content: mediaTypes })),
  responses: z.record(z.string().check(z.regex(/^([1-5]\d\d|[1-5]XX|default)$/)), response),
});
const openApi31 = z.strictObject({
  openapi: z.string().check(z.regex(/^3\.1\.\d+$/)),
  info: z.strictObject({ title: z.string(), version: z.string(), description: z.optional(z.string()) }),
  servers: z.array(z.looseObject({ url: z.string() })),
  paths: z.record(z.string().check(z.startsWith('/')), z.partialRecord(z.enum(METHODS), operation)),
  components: z.strictObject({
    schemas: z.record(z.string(), schemaObject),
    responses: z.record(z.string(), z.strictObject({ description: z.string(), content: mediaTypes })),
    securitySchemes: z.record(z.string(), z.looseObject({ type: z.enum(['apiKey', 'http', 'oauth2', 'openIdConnect', 'mutualTLS']) })),
  }),
});

/** Every `$ref` in the document, as a JSON pointer into it. */
function refsOf(value: Json): string[] {
  if (Array.isArray(value)) return value.flatMap(refsOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refsOf(inner)));
}

function resolve(doc: Json, ref: string): Json {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node, segment) => node?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

/** The properties a zod object schema requires of its input: those neither optional nor defaulted. */
function requiredByZod(schema: z.ZodMiniType): string[] {
  const shape = (schema as unknown as z.ZodMiniObject)._zod.def.shape;
  return Object.keys(shape).filter((key) => shape[key]!._zod.optin !== 'optional');
}

describe('the OpenAPI document', () => {
  it('is committed as the route schemas generate it (after changing a route or schema, run `npm run openapi`)', () => {
    expect(readFileSync(OPENAPI_JSON_FILE, 'utf8'), 'functions/openapi/openapi.json is stale: run `npm run openapi`').toBe(openApiJsonText(document));
  });

  it('describes every route of every area in the registry, with its method and path, and nothing else', () => {
    const routeKeys = API_AREAS.flatMap((area) => area.routeKeys);
    expect(routeKeys).toContain('GET /v1/openapi.json');
    for (const routeKey of routeKeys) expect(operationOf(document, routeKey), routeKey).toBeDefined();
    expect(operationsOf(document).map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort()).toEqual([...routeKeys].sort());
  });

  it('describes every route of the meter, admin and analytics route maps', () => {
    for (const routeKey of [...Object.keys(meterRoutes), ...Object.keys(adminRoutes), ...Object.keys(analyticsRoutes)]) {
      expect(operationOf(document, routeKey), routeKey).toBeDefined();
    }
  });

  it('declares every path parameter, required, with the schema the route validates it with', () => {
    for (const { path, method, operation } of operationsOf(document)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = (operation.parameters ?? []).filter((parameter: Json) => parameter.in === 'path');
      expect(declared.map((parameter: Json) => parameter.name), `${method} ${path}`).toEqual(inPath);
      for (const parameter of declared) expect(parameter.required).toBe(true);
    }
    const orgId = operationOf(document, 'GET /v1/orgs/{orgId}/balance').parameters.find((parameter: Json) => parameter.name === 'orgId');
    const { $schema: _dialect, ...identifierSchema } = z.toJSONSchema(identifier, { io: 'input' });
    expect(orgId.schema).toEqual(identifierSchema);
  });

  it('has the structure of an OpenAPI 3.1 document, and every $ref and security scheme it names resolves', () => {
    const checked = openApi31.safeParse(document);
    expect(checked.success ? [] : checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([]);
    for (const ref of refsOf(document)) expect(resolve(document, ref), ref).toBeDefined();
    for (const { operation } of operationsOf(document)) {
      for (const requirement of operation.security) for (const scheme of Object.keys(requirement)) expect(document.components.securitySchemes).toHaveProperty(scheme);
      expect(Object.keys(operation.responses).some((status) => /^2\d\d$/.test(status))).toBe(true);
    }
  });

  it("describes a body with zod's JSON Schema of the route's body schema: the same properties, the same required fields", () => {
    const bodies = Object.entries({ ...meterRoutes, ...adminRoutes }).filter(([, route]) => route.doc.body);
    expect(bodies.length).toBeGreaterThan(10);
    for (const [routeKey, route] of bodies) {
      const schema = operationOf(document, routeKey).requestBody.content['application/json'].schema;
      expect([routeKey, [...(schema.required ?? [])].sort()]).toEqual([routeKey, requiredByZod(route.doc.body!).sort()]);
      expect(Object.keys(schema.properties).sort()).toEqual(Object.keys((route.doc.body as unknown as z.ZodMiniObject)._zod.def.shape).sort());
    }
    const consume = operationOf(document, 'POST /v1/meter/consume').requestBody.content['application/json'].schema;
    expect(consume.required).toEqual(['requestId', 'orgId', 'projectId', 'userId', 'jobType', 'cu']);
    expect(consume.additionalProperties).toBe(false);
  });

  it('answers every operation with its success and the shared error body for 4XX and 5XX, naming every error code', () => {
    for (const { operation } of operationsOf(document)) {
      expect(operation.responses['4XX']).toEqual({ $ref: '#/components/responses/ClientError' });
      expect(operation.responses['5XX']).toEqual({ $ref: '#/components/responses/ServerError' });
    }
    const error = document.components.schemas.Error;
    expect(error.properties.error.required).toEqual(['code', 'message']);
    expect([...error.properties.error.properties.code.enum].sort()).toEqual([...Object.keys(STATUS_BY_CODE), INTERNAL_ERROR_CODE].sort());
    expect(operationOf(document, 'POST /v1/orgs/{orgId}/top-ups').responses).toHaveProperty('201');
    expect(operationOf(document, 'POST /v1/meter/consume').responses['200'].content['application/json'].schema.required).toContain('availableCu');
  });

  it('asks the service routes for SigV4 (a bearer token locally), and the OpenAPI document for nothing', () => {
    expect(operationOf(document, 'POST /v1/meter/consume').security).toEqual([{ awsSigV4: [] }, { serviceToken: [] }]);
    expect(operationOf(document, 'GET /v1/openapi.json').security).toEqual([]);
  });
});

describe('the generator', () => {
  const doc = (summary: string, parts: Omit<RouteDoc, 'summary'> = {}, accepts: RouteAccess = ['service']) => ({ doc: { summary, ...parts }, accepts });
  const orgPath = z.object({ orgId: identifier });

  it("asks each route for the credentials of the principals it accepts (analytics routes on the Analytics API), and a public route for nothing", () => {
    const generated: Json = openApiDocument(
      [
        { name: 'usage', auth: 'human', routes: { 'GET /v1/orgs/{orgId}/usage': doc('Usage', { path: orgPath }, ['person']) } },
        { name: 'analytics', auth: 'analytics', routes: { 'GET /v1/usage': doc('Usage for BI', {}, ['person', 'analytics_key']) } },
        { name: 'keys', auth: 'analytics', routes: { 'POST /v1/keys': doc('Keys', {}, ['service', 'person']) } },
        { name: 'docs', auth: 'public', routes: { 'GET /v1/docs': doc('Docs', {}, 'anyone') } },
      ],
      INFO,
    );

    expect(operationOf(generated, 'GET /v1/orgs/{orgId}/usage').security).toEqual([{ personJwt: [] }]);
    expect(operationOf(generated, 'POST /v1/keys').security).toEqual([{ awsSigV4: [] }, { serviceToken: [] }, { personJwt: [] }]);
    expect(operationOf(generated, 'GET /v1/usage').security).toEqual([{ personJwt: [] }, { analyticsKey: [] }]);
    expect(operationOf(generated, 'GET /v1/usage').servers).toEqual([expect.objectContaining({ url: '{analyticsApiUrl}' })]);
    expect(operationOf(generated, 'GET /v1/docs').security).toEqual([]);
    expect(Object.keys(generated.components.securitySchemes).sort()).toEqual(['analyticsKey', 'awsSigV4', 'personJwt', 'serviceToken']);
    expect(generated.components.securitySchemes.analyticsKey).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(openApi31.safeParse(generated).success).toBe(true);
  });

  it('makes each query property a parameter, optional where zod has it optional or defaulted, and a repeated one where it is an array', () => {
    const query = z.extend(pageQuery, { projectId: z.optional(z.array(identifier)), granularity: z.enum(['day', 'month']) });
    const generated: Json = openApiDocument([{ name: 'usage', auth: 'human', routes: { 'GET /v1/usage': doc('Usage', { query }) } }], INFO);

    const parameters = Object.fromEntries(operationOf(generated, 'GET /v1/usage').parameters.map((parameter: Json) => [parameter.name, parameter]));
    expect(parameters.limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', default: 100, minimum: 1, maximum: 1000 } });
    expect(parameters.cursor).toMatchObject({ in: 'query', required: false });
    expect(parameters.granularity).toMatchObject({ in: 'query', required: true, schema: { enum: ['day', 'month'] } });
    expect(parameters.projectId).toMatchObject({ in: 'query', required: false, style: 'form', explode: true, schema: { type: 'array' } });
  });

  it('spells a greedy path parameter as OpenAPI does, and merges the methods of one path', () => {
    const generated: Json = openApiDocument(
      [{ name: 'files', auth: 'service', routes: { 'GET /v1/files/{key+}': doc('Read', { path: z.object({ key: z.string() }) }), 'PUT /v1/files/{key+}': doc('Write', { path: z.object({ key: z.string() }) }) } }],
      INFO,
    );

    expect(Object.keys(generated.paths)).toEqual(['/v1/files/{key}']);
    expect(Object.keys(generated.paths['/v1/files/{key}'])).toEqual(['get', 'put']);
  });

  it.each<[string, DocumentedArea[], RegExp]>([
    ['a path parameter its doc does not declare', [{ name: 'a', auth: 'service', routes: { 'GET /v1/orgs/{orgId}': doc('Org') } }], /orgId.*none/],
    ['a path schema naming another parameter', [{ name: 'a', auth: 'service', routes: { 'GET /v1/orgs/{orgId}': doc('Org', { path: z.object({ org: identifier }) }) } }], /must name the same/],
    ['a query schema that is not an object', [{ name: 'a', auth: 'service', routes: { 'GET /v1/x': doc('X', { query: z.string() }) } }], /object schema/],
    ['the same route key in two areas', [{ name: 'a', auth: 'service', routes: { 'GET /v1/x': doc('X') } }, { name: 'b', auth: 'service', routes: { 'GET /v1/x': doc('X') } }], /declared twice/],
    ['a route key without a method', [{ name: 'a', auth: 'service', routes: { '/v1/x': doc('X') } }], /METHOD \/path/],
  ])('refuses %s, naming the route', (_name, areas, message) => {
    expect(() => openApiDocument(areas, INFO)).toThrow(message);
  });
});
