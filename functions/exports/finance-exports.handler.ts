// The finance exports' routes (issue 12): an org admin (Analytics API, JWT) or the platform's backend (HTTP API, IAM)
// asks for a month's export, answered 202 at once because a large month outlasts the gateway's 30 s, and lists the
// org's exports with their status and, once done, their manifests. The export itself runs in the job Lambda.

import * as z from 'zod/mini';
import { ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { busPublisher } from '../../shared/job-composition';
import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import { serviceOrPersonRoute, type RouteHandler, type Routes } from '../../shared/http/routes';
import { parseInput, readJsonBody } from '../../shared/http/request';
import type { EventPublisher } from '../../shared/ports/event-publisher';
import { administeredOrg, orgPath } from '../org-admin-access';
import { listFinanceExports, requestFinanceExport } from '../../shared/use-cases/finance-export';

export interface FinanceExportRouteDependencies extends LedgerDependencies {
  readonly publisher: EventPublisher;
}

const requestBody = z.strictObject({ month: z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a calendar month, YYYY-MM')) });

const requestedAnswer = z.object({ exportId: z.string(), month: z.string(), status: z.literal('requested'), requestedAt: z.string() });
const exportState = {
  exportId: z.string(),
  status: z.enum(['requested', 'done', 'failed']),
  requestedAt: z.string(),
  finishedAt: z.nullable(z.string()),
  manifest: z.nullable(z.record(z.string(), z.unknown())),
};
/** A month's export as it always was (with its kind), or a closed period's with the period's instants. */
const listAnswer = z.object({
  items: z.array(
    z.union([
      z.object({ kind: z.literal('month'), month: z.string(), ...exportState }),
      z.object({ kind: z.literal('period'), period: z.object({ start: z.string(), end: z.string() }), ...exportState }),
    ]),
  ),
});

const requestRoute: RouteHandler<FinanceExportRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  const { month } = parseInput(requestBody, readJsonBody(event));
  const record = await requestFinanceExport(orgId, month, deps);
  return jsonResponse(202, { exportId: record.exportId, month, status: 'requested', requestedAt: record.requestedAt } satisfies z.output<typeof requestedAnswer>);
};

const listRoute: RouteHandler<FinanceExportRouteDependencies, GatewayEvent> = async (event, deps, principal) => {
  const orgId = await administeredOrg(event, deps, principal);
  const records = await listFinanceExports(orgId, deps);
  const items = records.map(({ target, exportId, status, requestedAt, finishedAt, manifest }) => {
    const state = { exportId, status, requestedAt, finishedAt, manifest };
    return target.kind === 'month' ? { kind: target.kind, month: target.month, ...state } : { kind: target.kind, period: { start: target.periodStart, end: target.periodEnd }, ...state };
  });
  return jsonResponse(200, { items } satisfies z.output<typeof listAnswer>);
};

export const financeExportRoutes: Routes<FinanceExportRouteDependencies, GatewayEvent> = {
  'POST /v1/orgs/{orgId}/exports': serviceOrPersonRoute(requestRoute, {
    summary: "Export a month's usage to the export bucket, in the background: 202 with the export's id (org admins and the service)",
    path: orgPath,
    body: requestBody,
    response: requestedAnswer,
    statuses: [202],
  }),
  'GET /v1/orgs/{orgId}/exports': serviceOrPersonRoute(listRoute, { summary: "The org's finance exports, months then closed billing periods, oldest first: kind, status and, once done, the manifest", path: orgPath, response: listAnswer }),
};

export const handler = areaHandler<FinanceExportRouteDependencies, GatewayEvent>(financeExportRoutes, (signal) => ({ ...ledgerDependencies(signal), publisher: busPublisher() }));
