// The metering Lambda (hot path): consume, refund and check, called by the platform's backend before every job.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { toCu, toMilli } from '../../shared/domain/compute-units';
import { ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { drawRow, drawRowSchema, notRestoredCu, returnRow, returnRowSchema } from '../../shared/http/pool-rows';
import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler, type Routes } from '../../shared/http/lambda';
import { serviceRoute } from '../../shared/http/routes';
import { parseInput, readJsonBody } from '../../shared/http/request';
import { cuAmount, identifier, integer, label, snakeCase } from '../../shared/http/schemas';
import { check } from '../../shared/use-cases/check';
import { consume } from '../../shared/use-cases/consume';
import { refund } from '../../shared/use-cases/refund';

const consumeBody = z.strictObject({
  requestId: identifier,
  orgId: identifier,
  projectId: identifier,
  userId: identifier,
  jobType: snakeCase(64), // any snake_case job type; the known ones are listed in the README
  cu: cuAmount,
  modelId: z.optional(label(128)),
  modelName: z.optional(label(200)),
  assetKind: z.optional(z.enum(['image', 'video', '3d', 'audio'])),
  assetCount: z.optional(integer(0, 10_000, 'must not be negative')),
  resourceType: z.optional(snakeCase(64)),
  ioType: z.optional(z.enum(['input', 'output'])),
  endpoint: z.optional(label(256)),
});

const refundBody = z.strictObject({
  requestId: identifier,
  orgId: identifier,
  refundOf: identifier,
  cu: z.optional(cuAmount),
});

const checkBody = z.strictObject({
  orgId: identifier,
  projectId: identifier,
  userId: identifier,
  cu: cuAmount,
});

/** What the same actor can still spend in the same project this period; null when nothing caps it. */
const availableCu = z.nullable(z.number());

const consumeAnswer = z.object({
  eventId: z.string(),
  requestId: z.string(),
  chargedCu: z.number(),
  poolCategory: z.enum(['allocated', 'surplus', 'hybrid']),
  draws: z.array(drawRowSchema),
  availableCu,
  replayed: z.boolean(),
});

const refundAnswer = z.object({
  eventId: z.string(),
  requestId: z.string(),
  refundOf: z.string(),
  refundedCu: z.number(),
  returns: z.array(returnRowSchema),
  notRestoredCu: z.number(),
  replayed: z.boolean(),
});

const checkAnswer = z.object({
  allowed: z.boolean(),
  blockedBy: z.optional(z.object({ code: z.string(), level: z.enum(['team', 'project', 'member', 'api_key']), capCu: z.number(), usedCu: z.number() })),
  availableCu,
  highCost: z.boolean(),
});

export async function consumeRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { cu, ...body } = parseInput(consumeBody, readJsonBody(event));
  const result = await consume({ ...body, cuMilli: toMilli(cu) }, deps);
  return jsonResponse(200, {
    eventId: result.eventId,
    requestId: result.requestId,
    chargedCu: toCu(result.chargedMilli),
    poolCategory: result.poolCategory,
    draws: result.draws.map(drawRow),
    availableCu: result.availableMilli === null ? null : toCu(result.availableMilli),
    replayed: result.replayed,
  } satisfies z.output<typeof consumeAnswer>);
}

export async function refundRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { cu, ...body } = parseInput(refundBody, readJsonBody(event));
  const result = await refund({ ...body, cuMilli: cu === undefined ? undefined : toMilli(cu) }, deps);
  return jsonResponse(200, {
    eventId: result.eventId,
    requestId: result.requestId,
    refundOf: result.refundOf,
    refundedCu: toCu(result.refundedMilli),
    returns: result.returns.map(returnRow),
    notRestoredCu: notRestoredCu(result.returns),
    replayed: result.replayed,
  } satisfies z.output<typeof refundAnswer>);
}

export async function checkRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { cu, ...body } = parseInput(checkBody, readJsonBody(event));
  const result = await check({ ...body, cuMilli: toMilli(cu) }, deps);
  return jsonResponse(200, {
    allowed: result.allowed,
    ...(result.blockedBy ? { blockedBy: result.blockedBy } : {}),
    availableCu: result.availableMilli === null ? null : toCu(result.availableMilli),
    highCost: result.highCost,
  } satisfies z.output<typeof checkAnswer>);
}

export const meterRoutes: Routes<LedgerDependencies> = {
  'POST /v1/meter/consume': serviceRoute(consumeRoute, { summary: 'Charge a job before it runs, against every limit that applies', body: consumeBody, response: consumeAnswer }),
  'POST /v1/meter/refund': serviceRoute(refundRoute, { summary: 'Give back all or part of a charge', body: refundBody, response: refundAnswer }),
  'POST /v1/meter/check': serviceRoute(checkRoute, { summary: 'Whether a job of this size would be charged now (changes nothing)', body: checkBody, response: checkAnswer }),
};

export const handler = areaHandler(meterRoutes, ledgerDependencies);
