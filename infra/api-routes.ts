// Every HTTP route of the service and the area Lambda that serves it: the one list the local runner serves and
// the CDK stack wires to API Gateway, with what each area may touch (the stack grants exactly that).

import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { adminRoutes, handler as adminHandler } from '../functions/admin/admin.handler';
import { analyticsRoutes, handler as analyticsHandler } from '../functions/analytics/analytics.handler';
import { analyticsKeyRoutes, handler as analyticsKeysHandler } from '../functions/analytics/analytics-keys.handler';
import { DASHBOARD_PATHS } from '../functions/dashboard/dashboard-page';
import { handler as analyticsAuthorizerHandler } from '../functions/auth/analytics-authorizer.handler';
import { exportRoutes, streamingHandler as exportHandler } from '../functions/analytics/export.handler';
import { financeExportRoutes, handler as financeExportsHandler } from '../functions/exports/finance-exports.handler';
import { alertRoutes, handler as alertsHandler } from '../functions/alerts/alerts.handler';
import { handler as peopleAdminHandler, peopleAdminRoutes } from '../functions/people-admin/people-admin.handler';
import type { StreamingHandler } from '../shared/http/streaming';
import { handler as meterHandler, meterRoutes } from '../functions/meter/meter.handler';
import { handler as openApiHandler, openApiRoutes } from '../functions/openapi/openapi.handler';
import { EVENTS_BY_AMOUNT_INDEX, EVENTS_BY_USER_INDEX, EVENT_LOG_INDEX, type LedgerIndexName } from '../shared/adapters/dynamodb/ledger-table';

/** HTTP API routes (service, human) hand the Lambda payload v2 events, routed on `routeKey`. */
export type LambdaHttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
/**
 * Analytics routes live on a REST API, which hands payload v1 events: route on `${httpMethod} ${resource}`. The
 * shared area handler answers in the v2 result's shape, which a REST API takes as well.
 */
export type LambdaRestHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult | APIGatewayProxyStructuredResultV2>;
/** A REST API REQUEST authorizer: a policy and context for the caller, or a thrown `Unauthorized` (401). */
export type LambdaRequestAuthorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/**
 * Who may call an area's routes:
 * - `service`: the platform's backend (IAM SigV4 on AWS, a bearer token locally);
 * - `human`: a signed-in person (a JWT from the platform's identity provider);
 * - `analytics`: the Analytics API (a REST API): a signed-in person's JWT, or a BI tool's org analytics key (HTTP
 *   Basic), both checked by the analytics authorizer Lambda; an area with `serviceToo` is on the HTTP API as well,
 *   for the service (IAM), as its routes are for org admins and the platform's backend alike;
 * - `public`: anyone, without credentials: only for routes that hold no data (the OpenAPI document).
 */
export type RouteAuth = 'service' | 'human' | 'analytics' | 'public';

/** The DynamoDB actions a Lambda can be granted on the ledger table (a transaction item needs its own action). */
export type LedgerTableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem';

/** What a Lambda may touch; the stack turns this into its IAM policy and nothing more. */
export interface ResourceNeeds {
  /** Actions on the ledger table's items. */
  readonly table: readonly LedgerTableAction[];
  /** The table's indexes it queries: the activity log (`gsi1`), the by-day event indexes (`gsi2`, `gsi3`). */
  readonly indexes?: readonly LedgerIndexName[];
  /** Reads the pepper that analytics-key hashes are keyed with. */
  readonly pepper?: boolean;
  /** The analytics-key secrets under the key-store prefix: read them, or also create, rotate and delete them. */
  readonly keyStore?: 'read' | 'write';
  /** Reads the webhook signing key that each org's cost-alert webhook secret is derived from. */
  readonly webhookSigningKey?: boolean;
  /** Publishes events on the service's EventBridge bus. */
  readonly eventBus?: boolean;
  /** Writes objects into the export bucket. */
  readonly exportBucket?: boolean;
  /** Verifies people's JWTs: gets the identity provider's settings as environment (no IAM grant: the JWKS is public). */
  readonly personTokens?: boolean;
  /** Serves the usage dashboard: gets the OIDC client settings the page signs in with as environment. */
  readonly dashboardSettings?: boolean;
}

export interface DeployedFunction {
  readonly name: string;
  /** The handler module, relative to the repository root (the bundling entry); it exports `handler`. */
  readonly entry: string;
  readonly needs: ResourceNeeds;
  /** On the metering hot path: more memory, no source maps, never a reserved-concurrency ceiling. */
  readonly hotPath?: boolean;
  /** The most instances that may run at once, where a runaway caller would cost money. */
  readonly reservedConcurrency?: number;
  /** Its bundle also holds the dashboard's built script and stylesheet (infra/dashboard-assets.ts). */
  readonly bundlesDashboardAssets?: boolean;
}

/** A deployed authorizer, and the handler the local runner calls in its place. */
export interface AuthorizerFunction extends DeployedFunction {
  readonly handler: LambdaRequestAuthorizer;
}

interface AreaRoutes extends DeployedFunction {
  readonly routeKeys: readonly string[];
}

export type ApiArea =
  | (AreaRoutes & { readonly auth: 'service' | 'human' | 'public'; readonly handler: LambdaHttpHandler })
  | (AreaRoutes & { readonly auth: 'analytics'; readonly streaming?: false; readonly serviceToo?: false; readonly handler: LambdaRestHandler })
  /** An analytics area whose routes the service calls too, on the HTTP API: its handler takes both payloads. */
  | (AreaRoutes & { readonly auth: 'analytics'; readonly streaming?: false; readonly serviceToo: true; readonly handler: LambdaRestHandler & LambdaHttpHandler })
  /**
   * An analytics area whose answers stream (Lambda response streaming behind the REST API). `handler` writes to a
   * sink, which the local runner gives it; its module's Lambda entry (`handler` export) streams through the runtime.
   */
  | (AreaRoutes & { readonly auth: 'analytics'; readonly streaming: true; readonly serviceToo?: false; readonly handler: StreamingHandler<APIGatewayProxyEvent> });

/**
 * Whether a function serves the platform's backend behind IAM (an area of `service` routes, or an analytics area the
 * service calls too, such as the analytics keys): it is handed the deployment's service caller roles, which its
 * handler holds every IAM caller to.
 */
export function servesServiceRoutes(spec: DeployedFunction): boolean {
  if (!('auth' in spec)) return false;
  const area = spec as ApiArea;
  return area.auth === 'service' || (area.auth === 'analytics' && area.serviceToo === true);
}

export const API_AREAS: readonly ApiArea[] = [
  {
    name: 'meter',
    entry: 'functions/meter/meter.handler.ts',
    handler: meterHandler,
    routeKeys: Object.keys(meterRoutes),
    auth: 'service',
    hotPath: true,
    // Limits and replays are read in one BatchGetItem; a charge or refund is one transaction of puts and updates.
    needs: { table: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
  },
  {
    name: 'admin',
    entry: 'functions/admin/admin.handler.ts',
    handler: adminHandler,
    routeKeys: Object.keys(adminRoutes),
    auth: 'service',
    reservedConcurrency: 20,
    needs: {
      // Provisioning, plan changes and top-ups are transactions of an org update, a log entry (put) and a due item (put);
      // a plan change first rolls over a reset still due, as the rollover job does (its due item deleted, old counters pruned).
      table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
      indexes: [EVENT_LOG_INDEX],
    },
  },
  {
    name: 'analytics',
    entry: 'functions/analytics/analytics.handler.ts',
    handler: analyticsHandler,
    routeKeys: Object.keys(analyticsRoutes),
    auth: 'analytics',
    // Reads only: a person's member record (GetItem), rollup cells and model names (Query), the events table (its indexes).
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query'], indexes: [EVENT_LOG_INDEX, EVENTS_BY_AMOUNT_INDEX, EVENTS_BY_USER_INDEX] },
  },
  {
    name: 'export',
    entry: 'functions/analytics/export.handler.ts',
    handler: exportHandler,
    routeKeys: Object.keys(exportRoutes),
    auth: 'analytics',
    streaming: true,
    // The same reads as the analytics area's events table and breakdown.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query'], indexes: [EVENT_LOG_INDEX, EVENTS_BY_AMOUNT_INDEX, EVENTS_BY_USER_INDEX] },
  },
  {
    name: 'analytics-keys',
    entry: 'functions/analytics/analytics-keys.handler.ts',
    handler: analyticsKeysHandler,
    routeKeys: Object.keys(analyticsKeyRoutes),
    auth: 'analytics',
    serviceToo: true,
    // An admin's member record (GetItem), the org (GetItem), the keys' listings (Query); a change writes the listing
    // (update) and its activity entry (put) in one transaction. The key store holds the digests; the pepper keys them.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], pepper: true, keyStore: 'write' },
  },
  {
    name: 'finance-exports',
    entry: 'functions/exports/finance-exports.handler.ts',
    handler: financeExportsHandler,
    routeKeys: Object.keys(financeExportRoutes),
    auth: 'analytics',
    serviceToo: true,
    // An admin's member record and the org (GetItem), the exports' records (Query); a request is filed (put) and
    // published on the bus, where the finance-export job picks it up.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'], eventBus: true },
  },
  {
    name: 'alerts',
    entry: 'functions/alerts/alerts.handler.ts',
    handler: alertsHandler,
    routeKeys: Object.keys(alertRoutes),
    auth: 'analytics',
    serviceToo: true,
    // An admin's member record, the org, the thresholds and the webhook (GetItem), this period's firings (Query); the
    // thresholds and the webhook are each put while the org exists (a transaction of a check and a put), the webhook
    // deleted. The signing key derives the secret a PUT answers and a GET hints at.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'], webhookSigningKey: true },
  },
  {
    name: 'people-admin',
    entry: 'functions/people-admin/people-admin.handler.ts',
    handler: peopleAdminHandler,
    routeKeys: Object.keys(peopleAdminRoutes),
    auth: 'analytics',
    // The person's member record, the org and the scope (GetItem); a change is the provisioning transaction: the
    // org checked, the scope updated (or the org's default limit), its activity entry put.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'] },
  },
  {
    name: 'openapi',
    entry: 'functions/openapi/openapi.handler.ts',
    handler: openApiHandler,
    routeKeys: Object.keys(openApiRoutes),
    auth: 'public',
    // Anyone may call it: a ceiling keeps a flood of calls from taking the account's concurrency.
    reservedConcurrency: 5,
    // It answers with the document it was bundled with, and touches nothing.
    needs: { table: [] },
  },
];

/**
 * The Analytics API's authorizer: people's JWTs (the identity provider's settings) and analytics keys (their records
 * in the key store, the pepper); it writes a key's lastUsedAt and its failed-authentication bursts to the ledger (one
 * update each).
 */
export const ANALYTICS_AUTHORIZER: AuthorizerFunction = {
  name: 'analytics-authorizer',
  entry: 'functions/auth/analytics-authorizer.handler.ts',
  handler: analyticsAuthorizerHandler,
  needs: { table: ['dynamodb:UpdateItem'], personTokens: true, pepper: true, keyStore: 'read' },
};

/**
 * The usage dashboard: its page and assets on the Analytics API, without an authorizer (they hold no data; the page
 * calls the API's routes with the person's token), so that page and API share an origin and need no CORS.
 */
export const DASHBOARD: DeployedFunction & { readonly paths: readonly string[] } = {
  name: 'dashboard',
  entry: 'functions/dashboard/dashboard.handler.ts',
  paths: DASHBOARD_PATHS,
  // Anyone may load the page: a ceiling keeps a flood of loads from taking the account's concurrency.
  reservedConcurrency: 10,
  bundlesDashboardAssets: true,
  needs: { table: [], dashboardSettings: true },
};
