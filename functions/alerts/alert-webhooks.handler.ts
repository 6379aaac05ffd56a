// The cost-alert webhook's routes (issue 12): an org admin (Analytics API, JWT) or the platform's backend (HTTP API,
// IAM) sets the org's webhook (URL and format), reads it, or removes it. The signing secret is answered once, by the
// PUT that issues it (a new webhook, or `rotateSecret`); deliveries run in the alert-webhook job.

import * as z from 'zod/mini';
import { ledgerDependencies, webhookSigningKey, webhookUrlRules, type LedgerDependencies } from '../../shared/composition';
import { WEBHOOK_FORMATS } from '../../shared/domain/alert-webhooks';
import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import { serviceOrPersonRoute, type RouteHandler, type Routes } from '../../shared/http/routes';
import { parseInput, readJsonBody } from '../../shared/http/request';
import { readAlertWebhook, removeAlertWebhook, setAlertWebhook, type WebhookConfigDependencies, type WebhookView } from '../../shared/use-cases/alert-webhooks';
import { administeredOrg, orgPath } from '../org-admin-access';

export type AlertWebhookRouteDependencies = LedgerDependencies & Pick<WebhookConfigDependencies, 'signingKey' | 'urlRules'>;

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

const putRoute: RouteHandler<AlertWebhookRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  const body = parseInput(webhookBody, readJsonBody(event));
  return jsonResponse(200, webhookView(await setAlertWebhook({ orgId, url: body.url, format: body.format, rotateSecret: body.rotateSecret ?? false }, deps)));
};

const getRoute: RouteHandler<AlertWebhookRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  return jsonResponse(200, webhookView(await readAlertWebhook(orgId, deps)));
};

const deleteRoute: RouteHandler<AlertWebhookRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  return jsonResponse(200, { deleted: await removeAlertWebhook(orgId, deps) });
};

export const alertWebhookRoutes: Routes<AlertWebhookRouteDependencies, GatewayEvent> = {
  'PUT /v1/orgs/{orgId}/alerts/webhook': serviceOrPersonRoute(putRoute, {
    summary: "Set the org's cost-alert webhook (https URL, json or slack body); a new webhook or rotateSecret answers the signing secret, once (org admins and the service)",
    path: orgPath,
    body: webhookBody,
    response: webhookAnswer,
  }),
  'GET /v1/orgs/{orgId}/alerts/webhook': serviceOrPersonRoute(getRoute, { summary: "The org's cost-alert webhook: URL, format and the secret's hint, never the secret", path: orgPath, response: webhookAnswer }),
  'DELETE /v1/orgs/{orgId}/alerts/webhook': serviceOrPersonRoute(deleteRoute, { summary: "Remove the org's cost-alert webhook (deleted: false when it had none): alerts are no longer delivered", path: orgPath, response: z.object({ deleted: z.boolean() }) }),
};

export const handler = areaHandler<AlertWebhookRouteDependencies, GatewayEvent>(alertWebhookRoutes, (signal) => ({
  ...ledgerDependencies(signal),
  signingKey: webhookSigningKey(),
  urlRules: webhookUrlRules(),
}));
