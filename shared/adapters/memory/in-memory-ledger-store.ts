// The ledger's ports in memory, with the DynamoDB adapter's semantics: the same conditions on every leg of a charge
// or refund (all or nothing), implicit registration, config versions, period-keyed counters, and paging that hands
// out a cursor whenever a page is full. The reference model the DynamoDB adapter is checked against, and a fast
// store for use-case unit tests.

import { invalidCursor } from '../../domain/errors';
import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import type { AdminStore, OrgSettings, Page, ScopeSettings } from '../../ports/admin-store';
import { parseCounter, type MeterEventRecord, type OrgRecord, type ScopeKind, type ScopeRecord, type ScopeRef } from '../../ports/ledger-records';
import type { ChargeCommand, ChargeOutcome, MeterSnapshot, MeterStore, RefundCommand, RefundOutcome } from '../../ports/meter-store';

type Usage = Record<string, number>;
type StoredOrg = Omit<OrgRecord, 'usage'> & { usage: Usage };
type StoredScope = Omit<ScopeRecord, 'usage' | 'exists'> & { usage: Usage };

const copyOrg = (org: StoredOrg): OrgRecord => ({ ...org, usage: { ...org.usage } });
const copyScope = (scope: StoredScope): ScopeRecord => ({ ...scope, exists: true, usage: { ...scope.usage }, adminOfProjectIds: [...scope.adminOfProjectIds] });

/** Whether a counter holding `used` (undefined: never charged this period) may take the charge: the same test as the table's condition. */
const fits = (used: number | undefined, maxUsedBefore: number | null) => maxUsedBefore === null || used === undefined || used <= maxUsedBefore;

export class InMemoryLedgerStore implements MeterStore, AdminStore {
  private readonly orgs = new Map<string, StoredOrg>();
  private readonly scopes = new Map<string, StoredScope>();
  private readonly events = new Map<string, MeterEventRecord>();

  async loadSnapshot(orgId: string, projectId: string, actor: ScopeRef, requestId: string | null): Promise<MeterSnapshot> {
    const org = this.orgs.get(orgId);
    const existing = requestId === null ? undefined : this.events.get(eventId(orgId, requestId));
    return {
      org: org && copyOrg(org),
      project: this.scopeRecord(orgId, { kind: 'project', id: projectId }),
      actor: this.scopeRecord(orgId, actor),
      existingEvent: existing && { ...existing },
    };
  }

  async getEvents(orgId: string, requestIds: readonly string[]): Promise<MeterEventRecord[]> {
    return [...new Set(requestIds)].flatMap((requestId) => {
      const event = this.events.get(eventId(orgId, requestId));
      return event ? [{ ...event }] : [];
    });
  }

  async commitCharge(command: ChargeCommand): Promise<ChargeOutcome> {
    const { event, maxUsedBefore } = command;
    const existing = this.events.get(eventId(event.orgId, event.requestId));
    if (existing) return { status: 'duplicate', existing: { ...existing } };
    const period = event.periodId;
    const org = this.orgs.get(event.orgId);
    const projectKey = scopeId(event.orgId, { kind: 'project', id: event.projectId });
    const actorKey = scopeId(event.orgId, { kind: event.actorKind, id: event.userId });
    const [project, actor] = [this.scopes.get(projectKey), this.scopes.get(actorKey)];
    const teamFails = !org || org.configVersion !== command.expectedConfigVersion || !fits(org.usage[period], maxUsedBefore.team);
    const projectFails = !capHolds(project, command.expectedProjectCapMilli) || !fits(project?.usage[period], maxUsedBefore.project);
    const actorFails = !capHolds(actor, command.expectedActorCapMilli) || !fits(actor?.usage[period], maxUsedBefore.actor);
    if (teamFails || projectFails || actorFails) {
      return {
        status: 'rejected',
        orgMissing: teamFails && !org,
        org: teamFails && org ? copyOrg(org) : undefined,
        project: projectFails ? this.scopeRecord(event.orgId, { kind: 'project', id: event.projectId }) : undefined,
        actor: actorFails ? this.scopeRecord(event.orgId, { kind: event.actorKind, id: event.userId }) : undefined,
      };
    }
    this.events.set(eventId(event.orgId, event.requestId), asStored(event));
    org!.usage[period] = (org!.usage[period] ?? 0) + event.cuMilli;
    const registered = (kind: ScopeKind, id: string): StoredScope => ({
      ...emptyScope(kind, id, event.createdAt),
      ...(kind === 'member' ? { role: DEFAULT_MEMBER_ROLE } : {}),
      ...(kind === 'api_key' ? { projectId: command.apiKeyProjectId ?? event.projectId } : {}),
    });
    for (const [key, kind, id] of [[projectKey, 'project', event.projectId], [actorKey, event.actorKind, event.userId]] as const) {
      const scope = this.scopes.get(key) ?? registered(kind, id);
      scope.usage[period] = (scope.usage[period] ?? 0) + event.cuMilli;
      this.scopes.set(key, scope);
    }
    return { status: 'charged' };
  }

  async commitRefund(command: RefundCommand): Promise<RefundOutcome> {
    const { event, original } = command;
    const existing = this.events.get(eventId(event.orgId, event.requestId));
    if (existing) return { status: 'duplicate', existing: { ...existing } };
    const stored = this.events.get(eventId(original.orgId, original.requestId));
    const counters = original.counters.map((name) => this.counter(original.orgId, name));
    const refundFits = stored?.kind === 'consume' && (stored.refundedMilli ?? 0) <= command.maxRefundedBefore;
    if (!refundFits || counters.some((counter) => counter === undefined)) return { status: 'rejected' };
    this.events.set(eventId(event.orgId, event.requestId), asStored(event));
    this.events.set(eventId(original.orgId, original.requestId), { ...stored, refundedMilli: (stored.refundedMilli ?? 0) + event.cuMilli });
    for (const counter of counters) counter!.usage[original.periodId] = (counter!.usage[original.periodId] ?? 0) - event.cuMilli;
    return { status: 'refunded' };
  }

  async getOrg(orgId: string): Promise<OrgRecord | undefined> {
    const org = this.orgs.get(orgId);
    return org && copyOrg(org);
  }

  async putOrg(settings: OrgSettings, now: string): Promise<OrgRecord> {
    const before = this.orgs.get(settings.orgId);
    const highCostMilli = settings.highCostMilli === undefined ? (before?.highCostMilli ?? null) : settings.highCostMilli;
    const org: StoredOrg = {
      usage: {},
      name: null,
      defaultCapMilli: null,
      createdAt: now,
      ...before,
      orgId: settings.orgId,
      planName: settings.planName,
      allowanceMilli: settings.allowanceMilli,
      billingAnchor: settings.billingAnchor,
      highCostMilli,
      ...(settings.name === undefined ? {} : { name: settings.name }),
      configVersion: (before?.configVersion ?? 0) + 1,
      updatedAt: now,
    };
    this.orgs.set(settings.orgId, org);
    return copyOrg(org);
  }

  async setDefaultLimit(orgId: string, capMilli: number | null, now: string): Promise<OrgRecord | undefined> {
    const org = this.orgs.get(orgId);
    if (!org) return undefined;
    Object.assign(org, { defaultCapMilli: capMilli, configVersion: org.configVersion + 1, updatedAt: now });
    return copyOrg(org);
  }

  async putScope(orgId: string, scope: ScopeRef, settings: ScopeSettings, now: string): Promise<ScopeRecord | undefined> {
    if (!this.orgs.has(orgId)) return undefined;
    const key = scopeId(orgId, scope);
    const stored = this.scopes.get(key) ?? emptyScope(scope.kind, scope.id, now);
    const defined = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
    const role = stored.role ?? (scope.kind === 'member' ? DEFAULT_MEMBER_ROLE : null);
    this.scopes.set(key, { ...stored, role, ...defined, updatedAt: now });
    return this.scopeRecord(orgId, scope);
  }

  async listScopes(orgId: string, kind: ScopeKind, limit: number, cursor: string | null): Promise<Page<ScopeRecord>> {
    const all = [...this.scopes.entries()]
      .filter(([key]) => key.startsWith(`${orgId}\u0000${kind}\u0000`))
      .map(([, scope]) => ({ sortKey: scope.id, record: copyScope(scope) }));
    return page(all, `${orgId}\u0000${kind}`, limit, cursor, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async listEvents(orgId: string, limit: number, cursor: string | null): Promise<Page<MeterEventRecord>> {
    const all = [...this.events.values()]
      .filter((event) => event.orgId === orgId)
      .map((event) => ({ sortKey: `${event.createdAt}#${event.eventId}`, record: { ...event } }));
    return page(all, `${orgId}\u0000log`, limit, cursor, (a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  private scopeRecord(orgId: string, scope: ScopeRef): ScopeRecord {
    const stored = this.scopes.get(scopeId(orgId, scope));
    if (stored) return copyScope(stored);
    return { ...emptyScope(scope.kind, scope.id, null), exists: false, role: scope.kind === 'member' ? DEFAULT_MEMBER_ROLE : null };
  }

  /** The item a refund moves a counter on: the org for `team`, a scope otherwise. */
  private counter(orgId: string, name: string): { usage: Usage } | undefined {
    const counter = parseCounter(name);
    return counter.kind === 'team' ? this.orgs.get(orgId) : this.scopes.get(scopeId(orgId, counter));
  }
}

/** An event as the table keeps it: attributes left undefined are not stored at all. */
function asStored(event: MeterEventRecord): MeterEventRecord {
  return JSON.parse(JSON.stringify(event)) as MeterEventRecord;
}

function eventId(orgId: string, requestId: string): string {
  return `${orgId}\u0000${requestId}`;
}

function scopeId(orgId: string, scope: ScopeRef): string {
  return `${orgId}\u0000${scope.kind}\u0000${scope.id}`;
}

/** A scope as a first charge registers it: created, never updated by an admin. */
function emptyScope(kind: ScopeKind, id: string, now: string | null): StoredScope {
  return { kind, id, capMilli: null, usage: {}, name: null, role: null, adminOfProjectIds: [], projectId: null, createdAt: now, updatedAt: null };
}

/** A stored cap still matches what the charge was evaluated on (null: the scope has no cap of its own). */
function capHolds(scope: StoredScope | undefined, expectedCapMilli: number | null): boolean {
  return (scope?.capMilli ?? null) === expectedCapMilli;
}

/** One page in sort order after the cursor; a full page hands out a cursor even when nothing follows (as DynamoDB does). */
function page<T>(all: { sortKey: string; record: T }[], listId: string, limit: number, cursor: string | null, order: (a: string, b: string) => number): Page<T> {
  const after = cursor === null ? undefined : decode(cursor, listId);
  const sorted = all.sort((a, b) => order(a.sortKey, b.sortKey)).filter((entry) => after === undefined || order(entry.sortKey, after) > 0);
  const items = sorted.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map((entry) => entry.record), nextCursor: items.length === limit && last ? encode(listId, last.sortKey) : null };
}

function encode(listId: string, sortKey: string): string {
  return Buffer.from(JSON.stringify([listId, sortKey])).toString('base64url');
}

function decode(cursor: string, listId: string): string {
  try {
    const [list, sortKey] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (list === listId && typeof sortKey === 'string') return sortKey;
  } catch {
    // not a cursor of ours: refused below
  }
  throw invalidCursor();
}
