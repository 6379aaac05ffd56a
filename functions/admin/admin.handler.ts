// The admin Lambda: provisioning of orgs, projects, members, API keys and caps by the platform's backend, plans,
// top-ups and auto-refill, the usage bars, balance and activity log that go with them, and the platform's own
// actions for the activity feed.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { DEFAULT_MAX_REFILLS_PER_PERIOD, DEFAULT_REFILL_EXPIRY_DAYS } from '../../shared/domain/auto-refill';
import { termsAt, type BillingTerms } from '../../shared/domain/billing-terms';
import { toCu, toMilli, type MilliCu } from '../../shared/domain/compute-units';
import { invalidField } from '../../shared/domain/errors';
import { MEMBER_ROLES } from '../../shared/domain/permissions';
import { ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { jsonResponse } from '../../shared/http/error-response';
import { cuOrNull, logRow, pendingView, planRow } from '../../shared/http/log-rows';
import { scopeAnswer, scopeRow } from '../../shared/http/scope-rows';
import { areaHandler, type Routes } from '../../shared/http/lambda';
import { serviceRoute } from '../../shared/http/routes';
import { parseInput, pathParameters, queryParameters, readJsonBody, writeActor } from '../../shared/http/request';
import { cuAmount, cuLimit, identifier, integer, isoDate, isoInstant, label, pageOf, pageQuery } from '../../shared/http/schemas';
import type { OrgRecord, ScopeKind } from '../../shared/ports/ledger-records';
import { getBalance } from '../../shared/use-cases/balance';
import { recordPlatformAction } from '../../shared/use-cases/activity';
import { addTopUp, changePlan, provisionOrg, setAutoRefill } from '../../shared/use-cases/billing';
import { putApiKey, putMember, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { listEvents, listScopes, readOrg } from '../../shared/use-cases/usage-views';

const orgPath = z.object({ orgId: identifier });
const projectPath = z.extend(orgPath, { projectId: identifier });
const memberPath = z.extend(orgPath, { userId: identifier });
const apiKeyPath = z.extend(orgPath, { keyId: identifier });
const capCu = z.nullable(cuLimit);

const orgBody = z.strictObject({
  name: z.optional(label(200)),
  plan: z.strictObject({ name: label(100), allowanceCu: cuLimit }),
  billingAnchor: isoDate,
  highCostThresholdCu: z.optional(z.nullable(cuLimit)),
});
const projectBody = z.strictObject({ name: z.optional(label(200)), capCu: z.optional(capCu) });
const memberBody = z.strictObject({
  role: z.enum(MEMBER_ROLES),
  adminOfProjectIds: z.optional(z.array(identifier).check(z.maxLength(500, 'must list at most 500 projects'))),
  capCu: z.optional(capCu),
});
const apiKeyBody = z.strictObject({ projectId: identifier, name: z.optional(label(200)), capCu: z.optional(capCu) });
const defaultLimitBody = z.strictObject({ capCu });
const planBody = z.strictObject({ name: label(100), allowanceCu: cuLimit, change: z.enum(['upgrade', 'downgrade']) });
const topUpBody = z.strictObject({ purchaseId: identifier, cu: cuAmount, expiresAt: isoInstant });
const autoRefillBody = z.strictObject({
  enabled: z.boolean(),
  thresholdCu: cuLimit,
  amountCu: z.optional(cuAmount),
  expiresInDays: z.optional(integer(1, 5 * 365)),
  maxPerPeriod: z.optional(integer(0, 100)),
});
const balanceQuery = z.strictObject({ at: z.optional(isoInstant) });
const actionBody = z.strictObject({
  eventId: identifier,
  orgId: identifier,
  projectId: z.optional(identifier),
  userId: identifier,
  // Dotted, so that no action is ever named like one of the log's own kinds (snake_case, no dot).
  action: z.string().check(z.maxLength(100, 'must be at most 100 characters'), z.regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'must be lowercase dotted segments, e.g. asset.deleted')),
  subject: z.optional(label(200)),
  at: z.optional(isoInstant),
});

// The answers' shapes, for the OpenAPI document; each view below `satisfies` its schema, so the two cannot drift.
const planAnswer = z.object({ name: z.string(), allowanceCu: z.number() });
const pendingAnswer = z.nullable(z.object({ name: z.string(), allowanceCu: z.number(), effectiveAt: z.string() }));
const orgAnswer = z.object({
  orgId: z.string(),
  name: z.nullable(z.string()),
  plan: planAnswer,
  billingAnchor: z.string(),
  defaultLimitCu: z.nullable(z.number()),
  highCostThresholdCu: z.number(),
  currentPeriod: z.object({ start: z.string(), resetsAt: z.string() }),
  pendingDowngrade: pendingAnswer,
});
const topUpSource = z.enum(['purchase', 'auto_refill']);
const topUpAnswer = z.object({ purchaseId: z.string(), source: topUpSource, cu: z.number(), purchasedAt: z.string(), expiresAt: z.string(), replayed: z.boolean() });
const autoRefillAnswer = z.object({
  enabled: z.boolean(),
  thresholdCu: z.nullable(z.number()),
  amountCu: z.nullable(z.number()),
  expiresInDays: z.number(),
  maxPerPeriod: z.number(),
  currentPeriod: z.object({
    start: z.string(),
    refillCount: z.number(),
    refills: z.array(z.object({ purchaseId: z.string(), cu: z.number(), purchasedAt: z.string(), expiresAt: z.string() })),
  }),
});
const balanceAnswer = z.object({
  orgId: z.string(),
  /** Only on a view of the past (`?at=`). */
  at: z.optional(z.string()),
  plan: planAnswer,
  usedCu: z.number(),
  availableCu: z.number(),
  periodStart: z.string(),
  resetsAt: z.string(),
  allowance: z.object({ allowanceCu: z.number(), usedCu: z.number(), remainingCu: z.number(), resetsAt: z.string() }),
  topUps: z.array(z.object({ purchaseId: z.string(), source: topUpSource, cu: z.number(), remainingCu: z.number(), expiresAt: z.string() })),
  pendingDowngrade: pendingAnswer,
});
/** A log entry: a consume or refund, or an activity entry; each kind's fields are in the README. */
const logEntryAnswer = z.looseObject({ kind: z.string(), createdAt: z.string() });

const milliOrNull = (cu: number | null | undefined): MilliCu | null | undefined =>
  cu === null || cu === undefined ? cu : toMilli(cu);

const planView = (terms: BillingTerms) => ({ name: terms.planName, allowanceCu: toCu(terms.allowanceMilli) });

function orgView(org: OrgRecord, now: Date): z.output<typeof orgAnswer> {
  const terms = termsAt(org, now);
  return {
    orgId: org.orgId,
    name: org.name,
    plan: planView(terms),
    billingAnchor: org.billingAnchor,
    defaultLimitCu: cuOrNull(org.defaultCapMilli),
    highCostThresholdCu: toCu(terms.highCostMilli),
    currentPeriod: { start: terms.period.startsAt.toISOString(), resetsAt: terms.period.resetsAt.toISOString() },
    pendingDowngrade: pendingView(terms.pendingPlan),
  };
}

export async function putOrgRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const actor = writeActor(event);
  const body = parseInput(orgBody, readJsonBody(event));
  const org = await provisionOrg(
    {
      actor,
      orgId,
      name: body.name,
      planName: body.plan.name,
      allowanceMilli: toMilli(body.plan.allowanceCu),
      billingAnchor: body.billingAnchor,
      highCostMilli: milliOrNull(body.highCostThresholdCu),
    },
    deps,
  );
  return jsonResponse(200, orgView(org, deps.clock.now()));
}

export async function putDefaultLimitRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const actor = writeActor(event);
  const { capCu: cap } = parseInput(defaultLimitBody, readJsonBody(event));
  const org = await setDefaultLimit({ actor, orgId, capMilli: milliOrNull(cap) ?? null }, deps);
  return jsonResponse(200, orgView(org, deps.clock.now()));
}

export async function putProjectRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId, projectId } = pathParameters(event, projectPath);
  const actor = writeActor(event);
  const body = parseInput(projectBody, readJsonBody(event));
  const view = await putProject({ actor, orgId, id: projectId, name: body.name, capMilli: milliOrNull(body.capCu) }, deps);
  return jsonResponse(200, scopeRow(view));
}

export async function putMemberRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId, userId } = pathParameters(event, memberPath);
  const actor = writeActor(event);
  const body = parseInput(memberBody, readJsonBody(event));
  const view = await putMember(
    { actor, orgId, id: userId, role: body.role, adminOfProjectIds: body.adminOfProjectIds, capMilli: milliOrNull(body.capCu) },
    deps,
  );
  return jsonResponse(200, scopeRow(view));
}

export async function putApiKeyRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId, keyId } = pathParameters(event, apiKeyPath);
  const actor = writeActor(event);
  const body = parseInput(apiKeyBody, readJsonBody(event));
  const view = await putApiKey(
    { actor, orgId, id: keyId, projectId: body.projectId, name: body.name, capMilli: milliOrNull(body.capCu) },
    deps,
  );
  return jsonResponse(200, scopeRow(view));
}

function listScopesRoute(kind: ScopeKind) {
  return async (event: APIGatewayProxyEventV2, deps: LedgerDependencies) => {
    const { orgId } = pathParameters(event, orgPath);
    const page = queryParameters(event, pageQuery);
    const result = await listScopes(orgId, kind, { limit: page.limit, cursor: page.cursor ?? null }, deps);
    return jsonResponse(200, { items: result.items.map(scopeRow), nextCursor: result.nextCursor });
  };
}

export async function putPlanRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const actor = writeActor(event);
  const body = parseInput(planBody, readJsonBody(event));
  const org = await changePlan({ actor, orgId, planName: body.name, allowanceMilli: toMilli(body.allowanceCu), change: body.change }, deps);
  return jsonResponse(200, orgView(org, deps.clock.now()));
}

export async function postTopUpRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const actor = writeActor(event);
  const body = parseInput(topUpBody, readJsonBody(event));
  const { batch, replayed } = await addTopUp({ actor, orgId, purchaseId: body.purchaseId, cuMilli: toMilli(body.cu), expiresAt: body.expiresAt }, deps);
  return jsonResponse(replayed ? 200 : 201, {
    purchaseId: batch.purchaseId,
    source: batch.source,
    cu: toCu(batch.cuMilli),
    purchasedAt: batch.purchasedAt,
    expiresAt: batch.expiresAt,
    replayed,
  } satisfies z.output<typeof topUpAnswer>);
}

function autoRefillView(org: OrgRecord, now: Date): z.output<typeof autoRefillAnswer> {
  const settings = org.autoRefill;
  const { period } = termsAt(org, now);
  const refills = org.topUps.filter((batch) => batch.source === 'auto_refill' && batch.purchasedAt >= period.id);
  return {
    enabled: settings?.enabled ?? false,
    thresholdCu: settings ? toCu(settings.thresholdMilli) : null,
    amountCu: settings ? toCu(settings.amountMilli) : null,
    expiresInDays: settings?.expiresInDays ?? DEFAULT_REFILL_EXPIRY_DAYS,
    maxPerPeriod: settings?.maxPerPeriod ?? DEFAULT_MAX_REFILLS_PER_PERIOD,
    currentPeriod: {
      start: period.startsAt.toISOString(),
      refillCount: org.refills[period.id] ?? 0,
      refills: refills.map((batch) => ({ purchaseId: batch.purchaseId, cu: toCu(batch.cuMilli), purchasedAt: batch.purchasedAt, expiresAt: batch.expiresAt })),
    },
  };
}

export async function putAutoRefillRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  // Validated like on every admin write; auto-refill settings have no log entry to record it on.
  writeActor(event);
  const body = parseInput(autoRefillBody, readJsonBody(event));
  if (body.amountCu === undefined) throw invalidField('amountCu', 'is required with a threshold: how much CU each refill buys');
  const org = await setAutoRefill(
    orgId,
    {
      enabled: body.enabled,
      thresholdMilli: toMilli(body.thresholdCu),
      amountMilli: toMilli(body.amountCu),
      expiresInDays: body.expiresInDays ?? DEFAULT_REFILL_EXPIRY_DAYS,
      maxPerPeriod: body.maxPerPeriod ?? DEFAULT_MAX_REFILLS_PER_PERIOD,
    },
    deps,
  );
  return jsonResponse(200, autoRefillView(org, deps.clock.now()));
}

export async function getAutoRefillRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  return jsonResponse(200, autoRefillView(await readOrg(orgId, deps), deps.clock.now()));
}

export async function getBalanceRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const { at } = queryParameters(event, balanceQuery);
  const balance = await getBalance(orgId, at === undefined ? undefined : new Date(at), deps);
  const { period, allowance } = balance;
  return jsonResponse(200, {
    orgId,
    // A view of the past says which instant it shows; the live view is simply now.
    ...(at === undefined ? {} : { at: balance.at.toISOString() }),
    plan: planRow(balance.plan),
    usedCu: toCu(allowance.usedMilli),
    availableCu: toCu(balance.availableMilli),
    periodStart: period.startsAt.toISOString(),
    resetsAt: period.resetsAt.toISOString(),
    allowance: { allowanceCu: toCu(allowance.allowanceMilli), usedCu: toCu(allowance.usedMilli), remainingCu: toCu(allowance.remainingMilli), resetsAt: allowance.resetsAt.toISOString() },
    topUps: balance.topUps.map((batch) => ({ purchaseId: batch.purchaseId, source: batch.source, cu: toCu(batch.cuMilli), remainingCu: toCu(batch.remainingMilli), expiresAt: batch.expiresAt })),
    pendingDowngrade: pendingView(balance.pendingDowngrade),
  } satisfies z.output<typeof balanceAnswer>);
}

export async function listEventsRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const page = queryParameters(event, pageQuery);
  const result = await listEvents(orgId, { limit: page.limit, cursor: page.cursor ?? null }, deps);
  return jsonResponse(200, { items: result.items.map(logRow), nextCursor: result.nextCursor });
}

export async function postActivityRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const actor = writeActor(event);
  const body = parseInput(actionBody, readJsonBody(event));
  const { entry, replayed } = await recordPlatformAction({ ...body, actor }, deps);
  return jsonResponse(replayed ? 200 : 201, {
    id: entry.entryId,
    eventId: entry.eventId,
    orgId: entry.orgId,
    action: entry.action,
    userId: entry.userId,
    projectId: entry.projectId,
    subject: entry.subject,
    at: entry.createdAt,
    replayed,
  });
}

const scopePage = pageOf(scopeAnswer);
const org = { path: orgPath, response: orgAnswer };

export const adminRoutes: Routes<LedgerDependencies> = {
  'PUT /v1/orgs/{orgId}': serviceRoute(putOrgRoute, { summary: 'Provision an org with its plan and billing anchor, or rename it', ...org, body: orgBody }),
  'PUT /v1/orgs/{orgId}/default-limit': serviceRoute(putDefaultLimitRoute, { summary: 'Set or remove the cap of every member and API key without one', ...org, body: defaultLimitBody }),
  'PUT /v1/orgs/{orgId}/projects/{projectId}': serviceRoute(putProjectRoute, { summary: 'Create or update a project and its cap', path: projectPath, body: projectBody, response: scopeAnswer }),
  'PUT /v1/orgs/{orgId}/members/{userId}': serviceRoute(putMemberRoute, { summary: 'Create or update a member: role, projects administered, cap', path: memberPath, body: memberBody, response: scopeAnswer }),
  'PUT /v1/orgs/{orgId}/api-keys/{keyId}': serviceRoute(putApiKeyRoute, { summary: 'Create or update an API key (id starting apiu_) and its cap', path: apiKeyPath, body: apiKeyBody, response: scopeAnswer }),
  'GET /v1/orgs/{orgId}/projects': serviceRoute(listScopesRoute('project'), { summary: "The org's projects with their usage bars", path: orgPath, query: pageQuery, response: scopePage }),
  'GET /v1/orgs/{orgId}/members': serviceRoute(listScopesRoute('member'), { summary: "The org's members with their usage bars", path: orgPath, query: pageQuery, response: scopePage }),
  'GET /v1/orgs/{orgId}/api-keys': serviceRoute(listScopesRoute('api_key'), { summary: "The org's API keys with their usage bars", path: orgPath, query: pageQuery, response: scopePage }),
  'PUT /v1/orgs/{orgId}/plan': serviceRoute(putPlanRoute, { summary: 'Upgrade now (a new period starts) or downgrade at the next reset', ...org, body: planBody }),
  'POST /v1/orgs/{orgId}/top-ups': serviceRoute(postTopUpRoute, { summary: 'Add a batch of top-up CU with its own expiry (idempotent by purchaseId)', path: orgPath, body: topUpBody, response: topUpAnswer, statuses: [201, 200] }),
  'PUT /v1/orgs/{orgId}/auto-refill': serviceRoute(putAutoRefillRoute, { summary: 'Turn auto-refill on or off, with its threshold and amount', path: orgPath, body: autoRefillBody, response: autoRefillAnswer }),
  'GET /v1/orgs/{orgId}/auto-refill': serviceRoute(getAutoRefillRoute, { summary: "The auto-refill settings and this period's refills", path: orgPath, response: autoRefillAnswer }),
  'GET /v1/orgs/{orgId}/balance': serviceRoute(getBalanceRoute, { summary: 'The CU available: allowance and live top-ups, now or at a past instant', path: orgPath, query: balanceQuery, response: balanceAnswer }),
  'GET /v1/orgs/{orgId}/events': serviceRoute(listEventsRoute, { summary: "The org's activity log, newest first", path: orgPath, query: pageQuery, response: pageOf(logEntryAnswer) }),
  'POST /v1/activity': serviceRoute(postActivityRoute, {
    summary: "Records an action the platform took (asset.deleted, asset.edited, model.trained, ...) in the org's activity feed; idempotent by eventId (201 new, 200 replayed, 409 eventId reused with another body)",
    body: actionBody,
    statuses: [201, 200],
  }),
};

export const handler = areaHandler(adminRoutes, ledgerDependencies);
