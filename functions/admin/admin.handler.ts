// The admin Lambda: provisioning of orgs, projects, members, API keys and caps by the platform's backend, and the
// usage bars, balance and activity log that go with them.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { termsAt, type BillingTerms } from '../../shared/domain/billing-terms';
import { toCu, toMilli, type MilliCu } from '../../shared/domain/compute-units';
import { MEMBER_ROLES } from '../../shared/domain/permissions';
import { ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler, type Routes } from '../../shared/http/lambda';
import { serviceRoute } from '../../shared/http/routes';
import { parseInput, pathParameters, queryParameters, readJsonBody } from '../../shared/http/request';
import { cuLimit, identifier, isoDate, label, pageQuery } from '../../shared/http/schemas';
import type { MeterEventRecord, OrgRecord, ScopeKind } from '../../shared/ports/ledger-records';
import { putApiKey, putMember, putOrg, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { getBalance, listEvents, listScopes, type ScopeView } from '../../shared/use-cases/usage-views';

const orgPath = z.object({ orgId: identifier });
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

const milliOrNull = (cu: number | null | undefined): MilliCu | null | undefined =>
  cu === null || cu === undefined ? cu : toMilli(cu);
const cuOrNull = (milli: MilliCu | null): number | null => (milli === null ? null : toCu(milli));

const planView = (terms: BillingTerms) => ({ name: terms.planName, allowanceCu: toCu(terms.allowanceMilli) });

function orgView(org: OrgRecord, now: Date) {
  const terms = termsAt(org, now);
  return {
    orgId: org.orgId,
    name: org.name,
    plan: planView(terms),
    billingAnchor: org.billingAnchor,
    defaultLimitCu: cuOrNull(org.defaultCapMilli),
    highCostThresholdCu: toCu(terms.highCostMilli),
    currentPeriod: { start: terms.period.startDate, resetsAt: terms.period.resetsAt.toISOString() },
  };
}

const SCOPE_ID_FIELD: Record<ScopeKind, string> = { project: 'projectId', member: 'userId', api_key: 'keyId' };

function scopeRow(view: ScopeView) {
  const { record } = view;
  return {
    [SCOPE_ID_FIELD[record.kind]]: record.id,
    ...(record.kind === 'member' ? { role: record.role, adminOfProjectIds: record.adminOfProjectIds } : {}),
    ...(record.kind === 'api_key' ? { projectId: record.projectId } : {}),
    name: record.name,
    usedCu: toCu(view.usedMilli),
    capCu: cuOrNull(view.capMilli),
    capSource: view.capSource,
    status: view.status,
  };
}

function eventRow(event: MeterEventRecord) {
  const { fingerprint: _fingerprint, attemptId: _attemptId, periodId: _periodId, cuMilli, refundedMilli, availableAfterMilli: _available, ...rest } = event;
  return { ...rest, cu: toCu(cuMilli), ...(event.kind === 'consume' ? { refundedCu: toCu(refundedMilli ?? 0) } : {}) };
}

export async function putOrgRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const body = parseInput(orgBody, readJsonBody(event));
  const org = await putOrg(
    {
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
  const { capCu: cap } = parseInput(defaultLimitBody, readJsonBody(event));
  const org = await setDefaultLimit(orgId, milliOrNull(cap) ?? null, deps);
  return jsonResponse(200, orgView(org, deps.clock.now()));
}

export async function putProjectRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId, projectId } = pathParameters(event, z.extend(orgPath, { projectId: identifier }));
  const body = parseInput(projectBody, readJsonBody(event));
  const view = await putProject({ orgId, id: projectId, name: body.name, capMilli: milliOrNull(body.capCu) }, deps);
  return jsonResponse(200, scopeRow(view));
}

export async function putMemberRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId, userId } = pathParameters(event, z.extend(orgPath, { userId: identifier }));
  const body = parseInput(memberBody, readJsonBody(event));
  const view = await putMember(
    { orgId, id: userId, role: body.role, adminOfProjectIds: body.adminOfProjectIds, capMilli: milliOrNull(body.capCu) },
    deps,
  );
  return jsonResponse(200, scopeRow(view));
}

export async function putApiKeyRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId, keyId } = pathParameters(event, z.extend(orgPath, { keyId: identifier }));
  const body = parseInput(apiKeyBody, readJsonBody(event));
  const view = await putApiKey(
    { orgId, id: keyId, projectId: body.projectId, name: body.name, capMilli: milliOrNull(body.capCu) },
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

export async function getBalanceRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const balance = await getBalance(orgId, deps);
  return jsonResponse(200, {
    orgId,
    plan: planView(balance.terms),
    usedCu: toCu(balance.usedMilli),
    availableCu: toCu(balance.availableMilli),
    periodStart: balance.periodStart,
    resetsAt: balance.resetsAt.toISOString(),
  });
}

export async function listEventsRoute(event: APIGatewayProxyEventV2, deps: LedgerDependencies) {
  const { orgId } = pathParameters(event, orgPath);
  const page = queryParameters(event, pageQuery);
  const result = await listEvents(orgId, { limit: page.limit, cursor: page.cursor ?? null }, deps);
  return jsonResponse(200, { items: result.items.map(eventRow), nextCursor: result.nextCursor });
}

export const adminRoutes: Routes<LedgerDependencies> = {
  'PUT /v1/orgs/{orgId}': serviceRoute(putOrgRoute),
  'PUT /v1/orgs/{orgId}/default-limit': serviceRoute(putDefaultLimitRoute),
  'PUT /v1/orgs/{orgId}/projects/{projectId}': serviceRoute(putProjectRoute),
  'PUT /v1/orgs/{orgId}/members/{userId}': serviceRoute(putMemberRoute),
  'PUT /v1/orgs/{orgId}/api-keys/{keyId}': serviceRoute(putApiKeyRoute),
  'GET /v1/orgs/{orgId}/projects': serviceRoute(listScopesRoute('project')),
  'GET /v1/orgs/{orgId}/members': serviceRoute(listScopesRoute('member')),
  'GET /v1/orgs/{orgId}/api-keys': serviceRoute(listScopesRoute('api_key')),
  'GET /v1/orgs/{orgId}/balance': serviceRoute(getBalanceRoute),
  'GET /v1/orgs/{orgId}/events': serviceRoute(listEventsRoute),
};

export const handler = areaHandler(adminRoutes, ledgerDependencies);
