// The OpenAPI 3.1 document of the API, generated from the route maps: each route's summary and the zod schemas it
// validates with, turned into JSON Schema by zod itself. Build tooling, like the bundling: no Lambda imports it (the
// openapi function serves the JSON it wrote, see infra/openapi-document.ts).

import { STATUS_CODES } from 'node:http';
import * as z from 'zod/mini';
import type { ErrorCode } from '../shared/domain/errors';
import { errorBody } from '../shared/http/error-body';
import { INTERNAL_ERROR_CODE, STATUS_BY_CODE } from '../shared/http/error-response';
import type { RouteAccess, RouteDoc } from '../shared/http/routes';
import type { PrincipalKind } from '../shared/domain/permissions';
import { cuAmount, cuLimit, isoDate, isoInstant } from '../shared/http/schemas';
import type { RouteAuth } from './api-routes';

/** An area as the document sees it: who may call its routes, and each route's description by route key. */
export interface DocumentedArea {
  readonly name: string;
  readonly auth: RouteAuth;
  readonly routes: Readonly<Record<string, { readonly doc: RouteDoc; readonly accepts: RouteAccess }>>;
}

export interface ApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

type Json = Record<string, unknown>;

/** The credentials each kind of caller presents; an operation lists the schemes its area's authorizer accepts. */
const SECURITY_SCHEMES = {
  awsSigV4: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'AWS Signature Version 4, by an IAM identity allowed execute-api:Invoke (the stack output ServiceCallerPolicyArn names a policy for it).',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
  serviceToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The local runner only: `Authorization: Bearer <SERVICE_TOKEN>` stands in for SigV4.',
  },
  personJwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "A signed-in person's token from the platform's identity provider; it names the org and the user, the role comes from the member record.",
  },
  analyticsKey: {
    type: 'http',
    scheme: 'basic',
    description: "An org's analytics key, `Authorization: Basic base64(<key>:<secret>)`, for BI tools.",
  },
} as const;

type SecurityScheme = keyof typeof SECURITY_SCHEMES;

/** The credentials each principal presents. */
const SCHEMES_BY_PRINCIPAL: Record<PrincipalKind, readonly SecurityScheme[]> = {
  service: ['awsSigV4', 'serviceToken'],
  person: ['personJwt'],
  analytics_key: ['analyticsKey'],
};

/** Alternatives, any one of which lets the caller in: those of the principals the route accepts; none for a public route. */
function securityOf(accepts: RouteAccess): SecurityScheme[] {
  return accepts === 'anyone' ? [] : accepts.flatMap((kind) => SCHEMES_BY_PRINCIPAL[kind]);
}

/** Analytics routes live on an API of their own (a REST API, for its Basic challenge), not on the HTTP API. */
const ANALYTICS_SERVER = {
  url: '{analyticsApiUrl}',
  description: 'The Analytics API: on AWS a REST API of its own, at its stage URL; on the local runner, the same host as the rest.',
  variables: { analyticsApiUrl: { default: '/', description: "The Analytics API's base URL" } },
};

/**
 * What JSON Schema cannot read from the shared field rules, whose checks are refinements (functions): the formats and
 * the three-decimal rule. Kept here, not on the schemas, so no Lambda bundle carries them.
 */
export const FIELD_NOTES = new Map<z.core.$ZodType, Json>([
  [isoDate, { format: 'date', description: 'A calendar date, YYYY-MM-DD' }],
  [isoInstant, { format: 'date-time', description: 'An ISO 8601 instant with its zone, e.g. 2026-12-01T00:00:00Z' }],
  [cuAmount, { description: 'CU, more than 0, at most 3 decimal places' }],
  [cuLimit, { description: 'CU, 0 or more, at most 3 decimal places' }],
]);

const JSON_CONTENT = 'application/json';
const ERROR_SCHEMA_REF = { $ref: '#/components/schemas/Error' };

/** The OpenAPI 3.1 document of `areas`, in their order and their routes' order. */
export function openApiDocument(areas: readonly DocumentedArea[], info: ApiInfo): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const usedSchemes = new Set<SecurityScheme>();
  for (const area of areas) {
    for (const [routeKey, { doc, accepts }] of Object.entries(area.routes)) {
      const { method, path } = splitRouteKey(routeKey);
      const pathItem = (paths[path] ??= {});
      if (pathItem[method]) throw new Error(`${routeKey} is declared twice (area ${area.name}).`);
      securityOf(accepts).forEach((scheme) => usedSchemes.add(scheme));
      pathItem[method] = operation(routeKey, path, doc, accepts, area);
    }
  }
  return {
    openapi: '3.1.0',
    info,
    // Relative: the document is served by the API it describes, wherever that is deployed (or run locally).
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(documentedErrorBody(), 'output') },
      responses: {
        ClientError: errorAnswer((status) => status < 500),
        ServerError: errorAnswer((status) => status >= 500),
      },
      securitySchemes: Object.fromEntries(Object.entries(SECURITY_SCHEMES).filter(([name]) => usedSchemes.has(name as SecurityScheme))),
    },
  };
}

/** `PUT /v1/orgs/{orgId}` as OpenAPI spells it: the method in lower case, and `{proxy+}` as `{proxy}`. */
function splitRouteKey(routeKey: string): { method: string; path: string } {
  const [method, path, ...rest] = routeKey.split(' ');
  if (!method || !path || rest.length > 0 || !/^(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS)$/.test(method)) {
    throw new Error(`${routeKey} is not a route key of the form "METHOD /path".`);
  }
  return { method: method.toLowerCase(), path: path.replace(/\{(\w+)\+\}/g, '{$1}') };
}

function operation(routeKey: string, path: string, doc: RouteDoc, accepts: RouteAccess, area: DocumentedArea): Json {
  const requestBody = doc.body && { required: true, content: { [JSON_CONTENT]: { schema: jsonSchemaOf(doc.body, 'input') } } };
  const security = securityOf(accepts).map((scheme) => ({ [scheme]: [] }));
  const parameters = [...pathParameters(routeKey, path, doc.path), ...queryParameters(doc.query)];
  return {
    summary: doc.summary,
    tags: [area.name],
    ...(area.auth === 'analytics' ? { servers: [ANALYTICS_SERVER] } : {}),
    security,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      ...Object.fromEntries(
        (doc.statuses ?? [200]).map((status) => [
          String(status),
          // Every answer is JSON; its schema where the route describes one.
          { description: STATUS_CODES[status] ?? String(status), content: { [JSON_CONTENT]: doc.response ? { schema: jsonSchemaOf(doc.response, 'output') } : {} } },
        ]),
      ),
      '4XX': { $ref: '#/components/responses/ClientError' },
      '5XX': { $ref: '#/components/responses/ServerError' },
    },
  };
}

/** One parameter per `{name}` of the path, each described by the same property of the route's path schema. */
function pathParameters(routeKey: string, path: string, schema: z.ZodMiniType | undefined): Json[] {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  const properties = schema ? objectSchemaOf(schema, routeKey, 'path').properties : {};
  const declared = Object.keys(properties);
  if (names.length !== declared.length || !names.every((name) => declared.includes(name))) {
    throw new Error(`${routeKey}: its path parameters (${names.join(', ') || 'none'}) and its doc's path schema (${declared.join(', ') || 'none'}) must name the same.`);
  }
  return names.map((name) => ({ name, in: 'path', required: true, schema: properties[name] }));
}

/** One parameter per property of the query schema; an array is the parameter repeated (`?projectId=a&projectId=b`). */
function queryParameters(schema: z.ZodMiniType | undefined): Json[] {
  if (!schema) return [];
  const { properties, required } = objectSchemaOf(schema, 'a query', 'query');
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.includes(name),
    schema: property,
    ...(property.type === 'array' ? { style: 'form', explode: true } : {}),
  }));
}

function objectSchemaOf(schema: z.ZodMiniType, owner: string, part: string): { properties: Record<string, Json>; required: string[] } {
  const json = jsonSchemaOf(schema, 'input');
  if (json.type !== 'object' || typeof json.properties !== 'object') throw new Error(`${owner}: the doc's ${part} schema must be an object schema.`);
  return { properties: json.properties as Record<string, Json>, required: (json.required as string[] | undefined) ?? [] };
}

/**
 * zod's own JSON Schema of `schema`: what a request may send (`input`: a field with a default is optional) or what an
 * answer holds (`output`). Without `$schema`: OpenAPI 3.1 schemas are of the 2020-12 dialect zod writes.
 */
function jsonSchemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io,
    override: ({ zodSchema, jsonSchema }) => {
      Object.assign(jsonSchema, FIELD_NOTES.get(zodSchema));
      // `integer()` checks Number.isInteger in a refinement, which JSON Schema cannot see.
      if (zodSchema._zod.def.checks?.some((check) => (check._zod.def as { fn?: unknown }).fn === Number.isInteger)) jsonSchema.type = 'integer';
    },
  });
  return json;
}

/** The error body with its `code` named: every domain code, and the 500's. */
function documentedErrorBody() {
  const codes = [...(Object.keys(STATUS_BY_CODE) as ErrorCode[]), INTERNAL_ERROR_CODE];
  return z.extend(errorBody, { error: z.extend(errorBody.shape.error, { code: z.enum(codes) }) });
}

/** A response of the error body, saying which codes come with which of the statuses `selected` picks. */
function errorAnswer(selected: (status: number) => boolean): Json {
  const byStatus = new Map<number, string[]>();
  for (const [code, status] of Object.entries(STATUS_BY_CODE)) if (selected(status)) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  if (selected(500)) byStatus.set(500, [INTERNAL_ERROR_CODE]);
  const lines = [...byStatus].sort(([a], [b]) => a - b).map(([status, codes]) => `- ${status}: ${codes.map((code) => `\`${code}\``).join(', ')}`);
  const retry = selected(503) ? '\n\nA 503 comes with `Retry-After: 1`: the outcome is unknown; retry with the same requestId to learn it.' : '';
  return {
    description: `An error, with a stable machine \`code\` and, where one field is at fault, \`field\`. The codes by status:\n\n${lines.join('\n')}${retry}`,
    content: { [JSON_CONTENT]: { schema: ERROR_SCHEMA_REF } },
  };
}
