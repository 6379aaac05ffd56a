// End to end: every route of the registry (API_AREAS) under every kind of caller, against the local runner. What each
// caller gets follows from rules by the kind of route (its area's auth) and the kind of caller, never from a table per
// route, so a route is in the matrix the day it is registered. A refused caller's answer is the error body and holds
// none of the org's data; a reader of another scope (a project admin of another project, another org's key) gets its
// own data and none of the org's.

import { keyMayCall } from '../../shared/domain/analytics-keys';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { API_AREAS, type ApiArea } from '../../infra/api-routes';
import { ROUTE_MAPS } from '../../infra/openapi-document';
import { ORG_LISTINGS } from '../../functions/analytics/org-listing-routes';
import { basicAuthorization, createAnalyticsKey, devIssuerForSuite, provision, type IssuedKey } from '../support/analytics-callers';
import { client, runnerForSuite, type Reply } from '../support/runner-http';

const ORG = 'acme-matrix';
const OTHER_ORG = 'globex-matrix';
const ORG_BODY = { name: 'Acme', plan: { name: 'pro', allowanceCu: 1000 }, billingAnchor: '2026-01-15' };

/** What each scope's data shows (ids, job types, model names): one of them in a reader's answer, it saw that scope. */
const WEB_DATA = ['ana-web', 'proj-web', 'web_marker_job', 'Web Marker Model'];
const SIDE_DATA = ['sid-side', 'proj-side', 'side_marker_job', 'Side Marker Model'];
const OTHER_ORG_DATA = ['gus-globex', 'globex-proj', 'globex_marker_job', 'Globex Marker Model'];
const MEMBERS = { 'org admin': 'olga-admin', 'project admin of another project': 'pat-padmin', contributor: 'cora-contrib', viewer: 'vic-viewer' } as const;

const CALLERS = [
  'service',
  'org admin',
  'project admin of another project',
  'contributor',
  'viewer',
  'admin of another org',
  'key of this org',
  'key of another org',
  'revoked key',
  'nobody',
] as const;
type Caller = (typeof CALLERS)[number];

/**
 * The kinds of route, by their area: the service's (the HTTP API, IAM on AWS); the Analytics API's read routes (people
 * and keys, through the authorizer); its read routes for people only, under the org's path (no key pattern covers
 * them); people's admin writes (caps); routes for the service and the org's admins (an analytics area the service
 * calls too); the public one.
 */
type RouteKind = 'service' | 'read' | 'people read' | 'admin' | 'people-admin' | 'public';

function kindOf(area: ApiArea, routeKey: string): RouteKind {
  if (area.auth === 'service' || area.auth === 'public') return area.auth;
  // No key pattern covers people's own routes: their reads under the org's path, and their admin writes.
  if (area.auth === 'analytics') return area.serviceToo ? 'admin' : keyMayCall(...(routeKey.split(' ') as [string, string])) ? 'read' : routeKey.startsWith('GET ') ? 'people read' : 'people-admin';
  throw new Error(`The matrix has no rule for ${area.auth} routes (area ${area.name}): add one.`);
}

/** Whose data a successful read shows: the whole org, the other project only, or the other org only. */
type Sees = 'org' | 'other project' | 'other org';
const READ_SCOPE: Partial<Record<Caller, Sees>> = {
  'org admin': 'org',
  'key of this org': 'org',
  'project admin of another project': 'other project',
  'admin of another org': 'other org',
  'key of another org': 'other org',
};

interface Expected {
  readonly status: number;
  readonly sees?: Sees;
}

/** The org's listings that span projects (its members): for readers of every project only; a project admin gets 403. */
const SPANS_PROJECTS = ORG_LISTINGS.filter((listing) => listing.kind === 'member').flatMap((listing) => [listing.path, `${listing.path}.csv`].map((path) => `GET /v1/orgs/{orgId}/usage/${path}`));

/** The rules: what `caller` gets from a route of `kind` that answers `success` when it serves the request. */
function expected(kind: RouteKind, caller: Caller, success: number, routeKey: string): Expected {
  switch (kind) {
    case 'public':
      return { status: success };
    case 'service':
      // Anyone with a credential that is not the service's is someone, just not the service: 403; nobody is 401.
      return { status: caller === 'service' ? success : caller === 'nobody' ? 401 : 403 };
    case 'admin':
      if (caller === 'service' || caller === 'org admin') return { status: success };
      // A revoked key and no credentials are nobody the authorizer knows; keys reach the read routes only.
      return { status: caller === 'nobody' || caller === 'revoked key' ? 401 : 403 };
    case 'people-admin':
      // The path's project is not the project admin's: only the org admin passes; the service is no one there.
      if (caller === 'org admin') return { status: success };
      return { status: caller === 'service' || caller === 'nobody' || caller === 'revoked key' ? 401 : 403 };
    case 'read': {
      // The Analytics API's authorizer knows people and keys: the service's token (IAM on AWS) is no credential there.
      if (caller === 'service' || caller === 'nobody' || caller === 'revoked key') return { status: 401 };
      const sees = READ_SCOPE[caller];
      return sees ? { status: success, sees } : { status: 403 };
    }
    case 'people read': {
      if (caller === 'service' || caller === 'nobody' || caller === 'revoked key') return { status: 401 };
      // The path names the org: a reader of another org (a person or a key) and every key gets 403.
      if (caller === 'org admin') return { status: success, sees: 'org' };
      if (caller === 'project admin of another project' && !SPANS_PROJECTS.includes(routeKey)) return { status: success, sees: 'other project' };
      return { status: 403 };
    }
  }
}

const DAY_MS = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
/** Around today, so that a run across midnight (UTC) still reads what it wrote. */
const WINDOW = `startDate=${day(-1)}&endDate=${day(1)}`;
let sequence = 0;
const fresh = (prefix: string) => `${prefix}-${++sequence}`;

/**
 * A valid request for each route that needs more than its path: bodies, and the queries a route requires or that make
 * its answer whole. A route that writes and is not here fails the matrix, which says so. Reads get the window of today
 * on top.
 */
const INPUTS: Readonly<Record<string, { readonly body?: () => unknown; readonly query?: string }>> = {
  'POST /v1/meter/consume': { body: () => ({ requestId: fresh('matrix-consume'), orgId: ORG, projectId: 'proj-web', userId: 'ana-web', jobType: 'web_marker_job', cu: 0.5 }) },
  'POST /v1/meter/refund': { body: () => ({ requestId: fresh('matrix-refund'), orgId: ORG, refundOf: 'web-1', cu: 0.125 }) },
  'POST /v1/meter/check': { body: () => ({ orgId: ORG, projectId: 'proj-web', userId: 'ana-web', cu: 1 }) },
  'PUT /v1/orgs/{orgId}': { body: () => ORG_BODY },
  'PUT /v1/orgs/{orgId}/default-limit': { body: () => ({ capCu: null }) },
  'PUT /v1/orgs/{orgId}/projects/{projectId}': { body: () => ({}) },
  'PUT /v1/orgs/{orgId}/members/{userId}': { body: () => ({ role: 'viewer' }) },
  'PUT /v1/orgs/{orgId}/api-keys/{keyId}': { body: () => ({ projectId: 'proj-web' }) },
  'PUT /v1/orgs/{orgId}/plan': { body: () => ({ name: 'pro', allowanceCu: 1000, change: 'upgrade' }) },
  'POST /v1/orgs/{orgId}/top-ups': { body: () => ({ purchaseId: fresh('matrix-top-up'), cu: 5, expiresAt: `${day(90)}T00:00:00Z` }) },
  'PUT /v1/orgs/{orgId}/auto-refill': { body: () => ({ enabled: false, thresholdCu: 10, amountCu: 5 }) },
  'PUT /v1/orgs/{orgId}/alerts': { body: () => ({ thresholds: [] }) },
  'POST /v1/activity': { body: () => ({ eventId: fresh('matrix-action'), orgId: ORG, userId: 'olga-admin', action: 'asset.deleted' }) },
  'GET /v1/usage/breakdown': { query: 'groupBy=userId,projectId,jobType' },
  // A full page: the matrix's own writes must not push the consumes off the first one.
  'GET /v1/activity': { query: 'limit=100' },
  'POST /v1/orgs/{orgId}/analytics-keys': { body: () => ({ name: 'matrix-created' }) },
  'POST /v1/orgs/{orgId}/analytics-keys/{keyId}/rotate': { body: () => ({ graceSeconds: 0 }) },
  // The current month: the org was created today, so no earlier month may be exported.
  'POST /v1/orgs/{orgId}/exports': { body: () => ({ month: day(0).slice(0, 7) }) },
  // Each caller that may rotates: its answer's secret joins the ones no refusal may show.
  'PUT /v1/orgs/{orgId}/projects/{projectId}/cap': { body: () => ({ capCu: null }) },
  'PUT /v1/orgs/{orgId}/members/{userId}/cap': { body: () => ({ capCu: null }) },
  'PUT /v1/orgs/{orgId}/api-keys/{keyId}/cap': { body: () => ({ capCu: null }) },
  'PUT /v1/orgs/{orgId}/default-limit/cap': { body: () => ({ capCu: null }) },
  'PUT /v1/orgs/{orgId}/alerts/webhook': { body: () => ({ url: 'https://hooks.example.com/cu-ledger', format: 'json', rotateSecret: true }) },
};

interface MatrixRoute {
  readonly routeKey: string;
  readonly area: ApiArea;
  readonly kind: RouteKind;
  /** The status the route answers when it serves our request: the first its doc names (201 for a creation), else 200. */
  readonly success: number;
}

const ROUTES: readonly MatrixRoute[] = API_AREAS.flatMap((area) =>
  area.routeKeys.map((routeKey) => ({ routeKey, area, kind: kindOf(area, routeKey), success: ROUTE_MAPS[area.name]?.[routeKey]?.doc.statuses?.[0] ?? 200 })),
);

describe('every route of the registry under every kind of caller', () => {
  const issuer = devIssuerForSuite();
  const runner = runnerForSuite({ inMemory: true, env: issuer.env });
  const call = client(runner);
  const authorization = {} as Record<Caller, string | null>;
  /** Every key and secret the run made: none may show in a refusal. */
  const keys: IssuedKey[] = [];
  /** The key that refused callers aim at (rotate, revoke): it must stay as it was. */
  let target: IssuedKey;

  beforeAll(async () => {
    for (const orgId of [ORG, OTHER_ORG]) await provision(call, `/v1/orgs/${orgId}`, ORG_BODY);
    // A project with no name or cap (its activity entry has no changes: an empty map on the stream).
    await provision(call, `/v1/orgs/${ORG}/projects/proj-web`, {});
    await provision(call, `/v1/orgs/${ORG}/projects/proj-side`, { name: 'Side' });
    await provision(call, `/v1/orgs/${ORG}/api-keys/apiu_matrix`, { projectId: 'proj-web' });
    // A key of the side project: the org's key listing shows both projects, a project admin's only theirs.
    await provision(call, `/v1/orgs/${ORG}/api-keys/apiu_side`, { projectId: 'proj-side' });
    await provision(call, `/v1/orgs/${ORG}/members/${MEMBERS['org admin']}`, { role: 'org_admin' });
    await provision(call, `/v1/orgs/${ORG}/members/${MEMBERS['project admin of another project']}`, { role: 'project_admin', adminOfProjectIds: ['proj-side'] });
    await provision(call, `/v1/orgs/${ORG}/members/${MEMBERS.contributor}`, { role: 'contributor' });
    await provision(call, `/v1/orgs/${ORG}/members/${MEMBERS.viewer}`, { role: 'viewer' });
    await provision(call, `/v1/orgs/${OTHER_ORG}/members/gary-globex`, { role: 'org_admin' });
    const jobs = [
      { requestId: 'web-1', orgId: ORG, projectId: 'proj-web', userId: 'ana-web', jobType: 'web_marker_job', cu: 7.125, modelId: 'web-model', modelName: 'Web Marker Model', assetKind: 'image', assetCount: 2 },
      { requestId: 'side-1', orgId: ORG, projectId: 'proj-side', userId: 'sid-side', jobType: 'side_marker_job', cu: 2.25, modelId: 'side-model', modelName: 'Side Marker Model', assetKind: 'video', assetCount: 1 },
      { requestId: 'globex-1', orgId: OTHER_ORG, projectId: 'globex-proj', userId: 'gus-globex', jobType: 'globex_marker_job', cu: 4.5, modelId: 'globex-model', modelName: 'Globex Marker Model', assetKind: 'image', assetCount: 1 },
    ];
    for (const job of jobs) expect((await call('POST', '/v1/meter/consume', { body: job })).status).toBe(200);

    const orgKey = await createAnalyticsKey(call, ORG, 'matrix-reader');
    const otherOrgKey = await createAnalyticsKey(call, OTHER_ORG, 'globex-reader');
    const revokedKey = await createAnalyticsKey(call, ORG, 'matrix-revoked');
    expect((await call('DELETE', `/v1/orgs/${ORG}/analytics-keys/${revokedKey.keyId}`)).status).toBe(200);
    target = await createAnalyticsKey(call, ORG, 'matrix-target');
    keys.push(orgKey, otherOrgKey, revokedKey, target);

    const person = async (orgId: string, userId: string) => `Bearer ${await issuer.tokenFor(orgId, userId)}`;
    Object.assign(authorization, {
      service: `Bearer ${runner().token}`,
      'org admin': await person(ORG, MEMBERS['org admin']),
      'project admin of another project': await person(ORG, MEMBERS['project admin of another project']),
      contributor: await person(ORG, MEMBERS.contributor),
      viewer: await person(ORG, MEMBERS.viewer),
      'admin of another org': await person(OTHER_ORG, 'gary-globex'),
      'key of this org': basicAuthorization(orgKey.keyId, orgKey.secret),
      'key of another org': basicAuthorization(otherOrgKey.keyId, otherOrgKey.secret),
      'revoked key': basicAuthorization(revokedKey.keyId, revokedKey.secret),
      nobody: null,
    } satisfies Record<Caller, string | null>);

    // The usage cells are written from the table's stream: wait until both orgs' consumes are in them.
    await vi.waitFor(
      async () => {
        for (const [caller, user] of [['key of this org', 'sid-side'], ['key of this org', 'ana-web'], ['key of another org', 'gus-globex']] as const) {
          const usage = await call('GET', `/v1/usage?${WINDOW}`, { authorization: authorization[caller] });
          expect(usage.body?.consumption?.map((row: { userId: string }) => row.userId), usage.text).toContain(user);
        }
      },
      { timeout: 60_000, interval: 200 },
    );
  }, 120_000);

  /** The path of `routeKey` with real ids; a key a successful rotate or revoke acts on is made for it, so none is spent. */
  async function pathOf(route: MatrixRoute, succeeds: boolean): Promise<string> {
    let keyId: string;
    if (route.area.name !== 'analytics-keys') keyId = 'apiu_matrix';
    else if (succeeds) {
      const made = await createAnalyticsKey(call, ORG, 'matrix-spent');
      keys.push(made);
      keyId = made.keyId;
    } else keyId = target.keyId;
    const ids: Record<string, string> = { orgId: ORG, projectId: 'proj-web', userId: MEMBERS.viewer, keyId };
    return route.routeKey.split(' ')[1]!.replace(/\{(\w+)\}/g, (_whole, name: string) => {
      if (!(name in ids)) throw new Error(`The matrix has no id for {${name}} in ${route.routeKey}: add one.`);
      return ids[name]!;
    });
  }

  async function callAs(caller: Caller, route: MatrixRoute, want: Expected): Promise<Reply> {
    const [method] = route.routeKey.split(' ') as [string];
    const input = INPUTS[route.routeKey];
    if (method !== 'GET' && method !== 'DELETE' && !input?.body) throw new Error(`Give the matrix a valid body for ${route.routeKey} (INPUTS).`);
    const query = [route.kind === 'read' ? WINDOW : '', input?.query ?? ''].filter(Boolean).join('&');
    const path = `${await pathOf(route, want.status < 300)}${query ? `?${query}` : ''}`;
    const reply = await call(method, path, { authorization: authorization[caller], ...(input?.body ? { body: input.body() } : {}) });
    // An analytics key's secret comes with its id; a webhook's, with its hint.
    if (reply.body?.secret) keys.push({ keyId: reply.body.keyId ?? reply.body.secretHint, secret: reply.body.secret });
    return reply;
  }

  const anyOf = (text: string, markers: readonly string[]) => markers.some((marker) => text.includes(marker));
  /** Everything of the org, and of the other org, that a refusal must not show. */
  const everything = () => [...WEB_DATA, ...SIDE_DATA, ...OTHER_ORG_DATA, ORG, OTHER_ORG, ...Object.values(MEMBERS), 'gary-globex', ...keys.flatMap((key) => [key.keyId, key.secret])];

  /** A refusal: the error body alone, with none of the org's data. */
  function expectRefusal(reply: Reply, status: number, what: string): void {
    expect(reply.body, what).toEqual({ error: { code: status === 401 ? 'unauthorized' : 'forbidden', message: expect.any(String) } });
    for (const marker of everything()) expect(reply.text, `${what} shows ${marker}`).not.toContain(marker);
  }

  /** A read's answer: the data of the reader's scope, and nothing of any other. */
  function expectScope(reply: Reply, sees: Sees, what: string): void {
    const shown = { web: anyOf(reply.text, WEB_DATA), side: anyOf(reply.text, SIDE_DATA), otherOrg: anyOf(reply.text, OTHER_ORG_DATA) };
    const wanted = { org: { web: true, side: true, otherOrg: false }, 'other project': { web: false, side: true, otherOrg: false }, 'other org': { web: false, side: false, otherOrg: true } }[sees];
    expect(shown, `${what}: ${reply.text.slice(0, 2_000)}`).toEqual(wanted);
    if (sees === 'other org') for (const marker of [ORG, ...Object.values(MEMBERS)]) expect(reply.text, `${what} shows ${marker}`).not.toContain(marker);
  }

  it('has routes of every kind, and a rule for each', () => {
    expect(new Set(ROUTES.map((route) => route.kind))).toEqual(new Set(['service', 'read', 'people read', 'admin', 'people-admin', 'public']));
  });

  it.each(ROUTES.map((route) => [route.routeKey, route] as const))('%s', async (_routeKey, route) => {
    const replies: { caller: Caller; want: Expected; reply: Reply }[] = [];
    for (const caller of CALLERS) {
      const want = expected(route.kind, caller, route.success, route.routeKey);
      replies.push({ caller, want, reply: await callAs(caller, route, want) });
    }

    expect(replies.map(({ caller, reply }) => `${caller}: ${reply.status}`)).toEqual(replies.map(({ caller, want }) => `${caller}: ${want.status}`));
    for (const { caller, want, reply } of replies) {
      const what = `${route.routeKey} as ${caller}`;
      if (want.status >= 400) expectRefusal(reply, want.status, what);
      if (want.sees) expectScope(reply, want.sees, what);
    }
  });

  it('leaves the key the refused callers aimed their rotations and revocations at as it was made', async () => {
    const listed = await call('GET', `/v1/orgs/${ORG}/analytics-keys`);
    expect(listed.body.items.find((item: { keyId: string }) => item.keyId === target.keyId)).toMatchObject({ status: 'active', rotatedAt: null, revokedAt: null });
  });
});
