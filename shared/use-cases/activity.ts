// The activity feed's own writes: actions the platform took (an asset deleted or edited, a model trained), posted by
// its backend, beside everything CU Ledger logs itself.

import { idempotencyKeyReused, invalidField } from '../domain/errors';
import { requestFingerprint } from '../domain/fingerprint';
import type { AdminStore } from '../ports/admin-store';
import { SERVICE_ACTOR, type ActingRequest, type ActivityRecord } from '../ports/ledger-records';
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
