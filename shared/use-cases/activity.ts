// The activity feed (seed 000): the org's audit trail, newest first, as far as its reader may see it; and its own
// writes, the actions the platform took (an asset deleted or edited, a model trained), posted by its backend beside
// everything CU Ledger logs itself.

import { idempotencyKeyReused, invalidField } from '../domain/errors';
import { requestFingerprint } from '../domain/fingerprint';
import type { ReadScope } from '../domain/permissions';
import { selectionFor, type UsageFilterInput, type UsageSelection } from '../domain/usage-filters';
import type { ActivitySelection, AdminStore, Page } from '../ports/admin-store';
import { SERVICE_ACTOR, type ActingRequest, type ActivityRecord, type LogEntry } from '../ports/ledger-records';
import type { Clock, IdGenerator } from '../ports/runtime';
import { withStoreRetries } from './store-retry';
import { readOrg } from './usage-views';

/** How far ahead of our clock a platform action's `at` may be: the platform's clock may run a little ahead. */
export const ACTION_CLOCK_SKEW_MS = 5 * 60_000;

export interface PlatformActionRequest extends ActingRequest {
  readonly orgId: string;
  readonly eventId: string;
  readonly userId: string;
  /** Lowercase dotted segments, e.g. `asset.deleted`. */
  readonly action: string;
  readonly projectId?: string | undefined;
  readonly subject?: string | undefined;
  /** When it happened (an ISO instant); now when left out. Its place in the log. */
  readonly at?: string | undefined;
}

export type PlatformActionEntry = ActivityRecord & { readonly kind: 'platform_action' };

export interface PlatformActionResult {
  readonly entry: PlatformActionEntry;
  readonly replayed: boolean;
}

/**
 * Steps:
 * 1. Check `at` (not in the future, give or take the platform's clock) and read the org: unknown org, 404.
 * 2. Write the entry under its eventId, once per org.
 * 3. The eventId was taken: the same body is a replay (the first entry again); another body, 409.
 */
export async function recordPlatformAction(request: PlatformActionRequest, deps: { store: AdminStore; clock: Clock; ids: IdGenerator }): Promise<PlatformActionResult> {
  const now = deps.clock.now();
  const at = request.at === undefined ? undefined : new Date(request.at);
  if (at && at.getTime() > now.getTime() + ACTION_CLOCK_SKEW_MS) throw invalidField('at', 'must not be in the future');
  await readOrg(request.orgId, deps);
  const { orgId, eventId, userId, action } = request;
  const details = { action, userId, projectId: request.projectId ?? null, subject: request.subject ?? null };
  // `at` as an instant: the same time written another way is the same body.
  const fingerprint = requestFingerprint('platform_action', { ...details, at: at?.toISOString() ?? null });
  const entry: PlatformActionEntry = {
    orgId,
    entryId: deps.ids.eventId(),
    createdAt: (at ?? now).toISOString(),
    actor: request.actor ?? SERVICE_ACTOR,
    kind: 'platform_action',
    eventId,
    ...details,
    fingerprint,
  };
  const outcome = await withStoreRetries(() => deps.store.recordAction(entry));
  if (outcome.status === 'added') return { entry, replayed: false };
  const existing = outcome.existing;
  if (existing.kind !== 'platform_action' || existing.fingerprint !== fingerprint) throw idempotencyKeyReused('eventId');
  // Our own write, whose answer was lost and retried, is no replay.
  return { entry: existing, replayed: existing.entryId !== entry.entryId };
}

export interface ActivityFeedRequest {
  /** Dates, the org alias (`teamId`), projects and users; job types and models do not apply to the feed. */
  readonly filters: Omit<UsageFilterInput, 'jobTypes' | 'modelIds'>;
  readonly limit: number;
  readonly cursor: string | null;
}

/**
 * Steps:
 * 1. The selection the filters make within the reader's scope: another org's `teamId` is 404, a project beyond a
 *    project admin's is 403, dates are checked (the last 30 days by default). A project admin sees only entries of
 *    their projects: none of the org-wide ones (plan changes, resets, top-ups, the default limit).
 * 2. A reader who may see no project (a project admin of none) sees nothing.
 * 3. One page of the org's log, newest first.
 */
export async function readActivityFeed(reader: ReadScope, request: ActivityFeedRequest, deps: { store: AdminStore; clock: Clock }): Promise<Page<LogEntry>> {
  const selection = activitySelection(selectionFor(reader, request.filters, deps.clock.now()));
  if (selection.projects !== 'all' && selection.projects.length === 0) return { items: [], nextCursor: null };
  return withStoreRetries(() => deps.store.activityFeed(selection, request.limit, request.cursor));
}

/** The selection's UTC days as instants (the first millisecond of the first, the last of the last), its lists sorted. */
function activitySelection(selection: UsageSelection): ActivitySelection {
  return {
    orgId: selection.orgId,
    from: `${selection.startDate}T00:00:00.000Z`,
    to: `${selection.endDate}T23:59:59.999Z`,
    projects: selection.projects === 'all' ? 'all' : [...selection.projects].sort(),
    users: selection.users === null ? null : [...selection.users].sort(),
  };
}
