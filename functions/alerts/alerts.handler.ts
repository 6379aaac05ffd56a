// The cost alerts' routes (issue 12): an org admin (Analytics API, JWT) or the platform's backend (HTTP API, IAM) sets
// the org's thresholds and reads them with what fired this period, and sets, reads or removes the org's webhook (URL
// and format). The webhook's signing secret is answered once, by the PUT that issues it (a new webhook, or
// `rotateSecret`); deliveries run in the alert-webhook job.

import * as z from 'zod/mini';
import { ledgerDependencies, webhookSigningKey, webhookUrlRules, type LedgerDependencies } from '../../shared/composition';
import { WEBHOOK_FORMATS } from '../../shared/domain/alert-webhooks';
import { toCu, toMilli } from '../../shared/domain/compute-units';
import { firingId, MAX_ALERT_THRESHOLDS, type AlertLevel, type AlertScope, type AlertThreshold } from '../../shared/domain/cost-alerts';
import { invalidField } from '../../shared/domain/errors';
import { cuLimit, identifier, integer } from '../../shared/http/schemas';
import { readAlerts, setAlertThresholds, type AlertsView } from '../../shared/use-cases/cost-alerts';
import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import { serviceOrPersonRoute, type RouteHandler, type Routes } from '../../shared/http/routes';
import { parseInput, readJsonBody } from '../../shared/http/request';
import { readAlertWebhook, removeAlertWebhook, setAlertWebhook, type WebhookConfigDependencies, type WebhookView } from '../../shared/use-cases/alert-webhooks';
import { administeredOrg, orgPath } from '../org-admin-access';

export type AlertRouteDependencies = LedgerDependencies & Pick<WebhookConfigDependencies, 'signingKey' | 'urlRules'>;

const alertScopeBody = z.strictObject({ kind: z.enum(['org', 'project', 'member', 'api_key']), id: z.optional(identifier) });
const alertThresholdBody = z.strictObject({
  id: identifier,
  scope: alertScopeBody,
  /** Exactly one of the two: absolute CU, or a percentage of the scope's allowance (the pool) or cap. */
  cu: z.optional(cuLimit),
  percent: z.optional(integer(1, 100)),
});
const alertsBody = z.strictObject({
  thresholds: z.array(alertThresholdBody).check(z.maxLength(MAX_ALERT_THRESHOLDS, `must list at most ${MAX_ALERT_THRESHOLDS} thresholds`)),
});
const alertThresholdAnswer = z.object({
  id: z.string(),
  scope: z.object({ kind: z.enum(['org', 'project', 'member', 'api_key']), id: z.optional(z.string()) }),
  cu: z.optional(z.number()),
  percent: z.optional(z.number()),
});
const alertsAnswer = z.object({
  thresholds: z.array(alertThresholdAnswer),
  currentPeriod: z.object({ start: z.string(), resetsAt: z.string() }),
  /** What fired this period: each threshold at most once, with the usage that crossed it and the level it crossed. */
  fired: z.array(
    z.object({
      /** The threshold's id, or `~projected-exhaustion` for the pool's projection. */
      id: z.string(),
      kind: z.enum(['threshold', 'projected_exhaustion']),
      firedAt: z.string(),
      usageCu: z.number(),
      /** The allowance or cap (null: an absolute threshold on a scope without one); for a projection, the pool. */
      limitCu: z.nullable(z.number()),
      /** A projection only: when the pool was projected to run out. */
      projectedAt: z.optional(z.string()),
    }),
  ),
});
/** The body's thresholds as the domain's: a scope names its id unless it is the pool; a level is CU or a percentage. */
function alertThresholdsOf(body: z.output<typeof alertsBody>): AlertThreshold[] {
  return body.thresholds.map((threshold, index) => {
    const field = `thresholds.${index}`;
    const { kind, id } = threshold.scope;
    if (kind === 'org' && id !== undefined) throw invalidField(`${field}.scope.id`, 'must be absent for the org pool');
    if (kind !== 'org' && id === undefined) throw invalidField(`${field}.scope.id`, `is required for a ${kind} scope`);
    const scope: AlertScope = kind === 'org' ? { kind } : { kind, id: id! };
    if ((threshold.cu === undefined) === (threshold.percent === undefined)) throw invalidField(`${field}.cu`, 'give exactly one of cu and percent');
    const level: AlertLevel = threshold.cu !== undefined ? { kind: 'absolute', cuMilli: toMilli(threshold.cu) } : { kind: 'percent', percent: threshold.percent! };
    return { thresholdId: threshold.id, scope, level };
  });
}

function alertsView(view: AlertsView): z.output<typeof alertsAnswer> {
  return {
    thresholds: view.thresholds.map(({ thresholdId, scope, level }) => ({
      id: thresholdId,
      scope: { ...scope },
      ...(level.kind === 'absolute' ? { cu: toCu(level.cuMilli) } : { percent: level.percent }),
    })),
    currentPeriod: { start: view.terms.period.startsAt.toISOString(), resetsAt: view.terms.period.resetsAt.toISOString() },
    fired: view.fired.map((firing) => ({
      id: firingId(firing),
      kind: firing.kind,
      firedAt: firing.firedAt,
      usageCu: toCu(firing.usageMilli),
      limitCu: firing.limitMilli === null ? null : toCu(firing.limitMilli),
      ...(firing.kind === 'projected_exhaustion' ? { projectedAt: firing.projectedAt } : {}),
    })),
  };
}

const putAlertsRoute: RouteHandler<AlertRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  const thresholds = alertThresholdsOf(parseInput(alertsBody, readJsonBody(event)));
  return jsonResponse(200, alertsView(await setAlertThresholds(orgId, thresholds, deps)));
};

const getAlertsRoute: RouteHandler<AlertRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  return jsonResponse(200, alertsView(await readAlerts(orgId, deps)));
};

const webhookBody = z.strictObject({
  // Checked in full by the use case (https, no credentials, no private or metadata address): 400 with field `url`.
  url: z.string().check(z.maxLength(2048, 'must be at most 2048 characters')),
  format: z.enum(WEBHOOK_FORMATS),
  /** Issue a new secret (the old one stops verifying at once) and answer it. */
  rotateSecret: z.optional(z.boolean()),
});

const webhookAnswer = z.object({
  url: z.string(),
  format: z.enum(WEBHOOK_FORMATS),
  /** The first characters of the current secret. */
  secretHint: z.string(),
  secretCreatedAt: z.string(),
  updatedAt: z.string(),
  /** Only in the answer that issued it: keep it now, it is never shown again. */
  secret: z.optional(z.string()),
});

function webhookView({ webhook, secretHint, secret }: WebhookView): z.output<typeof webhookAnswer> {
  return { url: webhook.url, format: webhook.format, secretHint, secretCreatedAt: webhook.secretCreatedAt, updatedAt: webhook.updatedAt, ...(secret ? { secret } : {}) };
}

const putRoute: RouteHandler<AlertRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  const body = parseInput(webhookBody, readJsonBody(event));
  return jsonResponse(200, webhookView(await setAlertWebhook({ orgId, url: body.url, format: body.format, rotateSecret: body.rotateSecret ?? false }, deps)));
};

const getRoute: RouteHandler<AlertRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  return jsonResponse(200, webhookView(await readAlertWebhook(orgId, deps)));
};

const deleteRoute: RouteHandler<AlertRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  return jsonResponse(200, { deleted: await removeAlertWebhook(orgId, deps) });
};

export const alertRoutes: Routes<AlertRouteDependencies, GatewayEvent> = {
  'PUT /v1/orgs/{orgId}/alerts': serviceOrPersonRoute(putAlertsRoute, {
    summary: 'Replace the cost-alert thresholds: per scope (the pool, a project, member or API key), absolute CU or a percentage of its allowance or cap (org admins and the service)',
    path: orgPath,
    body: alertsBody,
    response: alertsAnswer,
  }),
  'GET /v1/orgs/{orgId}/alerts': serviceOrPersonRoute(getAlertsRoute, { summary: 'The cost-alert thresholds and what fired this period (thresholds and the projected exhaustion)', path: orgPath, response: alertsAnswer }),
  'PUT /v1/orgs/{orgId}/alerts/webhook': serviceOrPersonRoute(putRoute, {
    summary: "Set the org's cost-alert webhook (https URL, json or slack body); a new webhook or rotateSecret answers the signing secret, once (org admins and the service)",
    path: orgPath,
    body: webhookBody,
    response: webhookAnswer,
  }),
  'GET /v1/orgs/{orgId}/alerts/webhook': serviceOrPersonRoute(getRoute, { summary: "The org's cost-alert webhook: URL, format and the secret's hint, never the secret", path: orgPath, response: webhookAnswer }),
  'DELETE /v1/orgs/{orgId}/alerts/webhook': serviceOrPersonRoute(deleteRoute, { summary: "Remove the org's cost-alert webhook (deleted: false when it had none): alerts are no longer delivered", path: orgPath, response: z.object({ deleted: z.boolean() }) }),
};

export const handler = areaHandler<AlertRouteDependencies, GatewayEvent>(alertRoutes, (signal) => ({
  ...ledgerDependencies(signal),
  signingKey: webhookSigningKey(),
  urlRules: webhookUrlRules(),
}));
