// The ledger's ports in memory, with the DynamoDB adapter's semantics: the same conditions on every leg of a charge
// or refund (all or nothing), implicit registration, config versions, period-keyed counters, top-up batches, the
// jobs' once-per-fact writes, and paging that hands out a cursor whenever a page is full. The reference model the
// DynamoDB adapter is checked against, and a fast store for use-case unit tests. Like the table's stream, it keeps
// every org change that drew on the pool, for the auto-refill trigger.

import { chargesOutsideKeyProject } from '../../domain/api-key-project';
import type { AutoRefillSettings } from '../../domain/auto-refill';
import { invalidCursor } from '../../domain/errors';
import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import type { SourceDraw, TopUpBatch } from '../../domain/pool';
import {
  activitySelects,
  type ActivitySelection,
  type AdminStore,
  type DefaultLimitCommand,
  type FirstDue,
  type OrgDetails,
  type OrgSettings,
  type Page,
  type PlanChangeCommand,
  type PlatformActionOutcome,
  type ScopeChangeCommand,
  type ScopeChangeOutcome,
  type TopUpCommand,
  type TopUpOutcome,
} from '../../ports/admin-store';
import type { DueItem, DueKind, ExpiryCommand, JobStore, JobWriteOutcome, OrgChange, RefillCommand, RolloverCommand } from '../../ports/job-store';
import {
  parseCounter,
  type ActivityRecord,
  type LogEntry,
  type MeterEventRecord,
  type OrgRecord,
  type ScopeKind,
  type ScopeRecord,
  type ScopeRef,
} from '../../ports/ledger-records';
import type { ChargeCommand, ChargeOutcome, MeterSnapshot, MeterStore, RefundCommand, RefundOutcome, RefundSnapshot } from '../../ports/meter-store';

type Usage = Record<string, number>;
type StoredOrg = Omit<OrgRecord, 'usage' | 'topUps' | 'refills'> & { usage: Usage; topUps: Map<string, TopUpBatch>; refills: Usage };
type StoredScope = Omit<ScopeRecord, 'usage' | 'exists'> & { usage: Usage };

const copyOrg = (org: StoredOrg): OrgRecord => ({
  ...org,
  usage: { ...org.usage },
  refills: { ...org.refills },
  topUps: [...org.topUps.values()].map((batch) => ({ ...batch })).sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.purchaseId.localeCompare(b.purchaseId)),
});
const copyScope = (scope: StoredScope): ScopeRecord => ({ ...scope, exists: true, usage: { ...scope.usage }, adminOfProjectIds: [...scope.adminOfProjectIds] });

/** Whether a counter holding `used` (undefined: never charged this period) may take the charge: the same test as the table's condition. */
const fits = (used: number | undefined, maxUsedBefore: number | null) => maxUsedBefore === null || used === undefined || used <= maxUsedBefore;

export class InMemoryLedgerStore implements MeterStore, AdminStore, JobStore {
  private readonly orgs = new Map<string, StoredOrg>();
  private readonly scopes = new Map<string, StoredScope>();
  private readonly events = new Map<string, MeterEventRecord>();
  private readonly activity = new Map<string, ActivityRecord>();
  private readonly due = new Map<string, DueItem>();
  private readonly orgChanges: OrgChange[] = [];
  private sequence = 0;

  /** The org changes that drew on the pool since the last call, in order: what the table's stream would deliver. */
  takeOrgChanges(): OrgChange[] {
    return this.orgChanges.splice(0);
  }

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

  async loadRefund(orgId: string, requestId: string, refundOf: string): Promise<RefundSnapshot> {
    const org = this.orgs.get(orgId);
    const existing = this.events.get(eventId(orgId, requestId));
    const original = this.events.get(eventId(orgId, refundOf));
    return { org: org && copyOrg(org), existing: existing && { ...existing }, original: original && { ...original } };
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
    const teamFails = !org || org.configVersion !== command.expectedConfigVersion || !command.draws.every((draw) => drawHolds(org, period, draw));
    const projectFails = !capHolds(project, command.expectedProjectCapMilli) || !fits(project?.usage[period], maxUsedBefore.project);
    const actorFails =
      !capHolds(actor, command.expectedActorCapMilli) || !fits(actor?.usage[period], maxUsedBefore.actor) || (actor !== undefined && chargesOutsideKeyProject(actor, event.projectId));
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
    const before = copyOrg(org!);
    for (const draw of command.draws) {
      if (draw.ref.kind === 'allowance') org!.usage[period] = (org!.usage[period] ?? 0) + draw.milli;
      else {
        const batch = org!.topUps.get(draw.ref.purchaseId)!;
        org!.topUps.set(batch.purchaseId, { ...batch, usedMilli: batch.usedMilli + draw.milli });
      }
    }
    this.sequence += 1;
    this.orgChanges.push({ before, after: copyOrg(org!), at: new Date(event.createdAt), sequenceNumber: String(this.sequence).padStart(21, '0') });
    const registered = (kind: ScopeKind, id: string): StoredScope => ({
      ...emptyScope(kind, id, event.createdAt),
      ...(kind === 'member' ? { role: DEFAULT_MEMBER_ROLE } : {}),
      ...(kind === 'api_key' ? { projectId: event.projectId } : {}),
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
    const period = original.periodId;
    const org = this.orgs.get(original.orgId);
    const scopes = command.countersKept
      ? original.counters.filter((name) => name !== 'team').map((name) => this.scopes.get(scopeId(original.orgId, parseCounter(name) as ScopeRef)))
      : [];
    const allowanceBack = command.returns.filter((part) => part.ref.kind === 'allowance').reduce((sum, part) => sum + part.milli, 0);
    const restoredBatches = command.returns.filter((part) => part.restored && part.ref.kind === 'top_up');
    const refundFits = stored?.kind === 'consume' && (stored.refundedMilli ?? 0) === command.refundedBefore;
    const teamMoves = command.countersKept && allowanceBack > 0;
    const sourcesLive =
      (!teamMoves || org?.usage[period] !== undefined) &&
      restoredBatches.every((part) => {
        const batch = part.ref.kind === 'top_up' ? org?.topUps.get(part.ref.purchaseId) : undefined;
        return batch !== undefined && batch.expiresAt > event.createdAt;
      });
    const countersKept = scopes.every((scope) => scope?.usage[period] !== undefined);
    if (!refundFits || !sourcesLive || !countersKept) return { status: 'rejected' };
    this.events.set(eventId(event.orgId, event.requestId), asStored(event));
    this.events.set(eventId(original.orgId, original.requestId), { ...stored, refundedMilli: (stored.refundedMilli ?? 0) + event.cuMilli });
    if (teamMoves) org!.usage[period] = org!.usage[period]! - allowanceBack;
    for (const part of restoredBatches) {
      const batch = org!.topUps.get(part.ref.kind === 'top_up' ? part.ref.purchaseId : '')!;
      org!.topUps.set(batch.purchaseId, { ...batch, usedMilli: batch.usedMilli - part.milli });
    }
    for (const scope of scopes) scope!.usage[period] = scope!.usage[period]! - event.cuMilli;
    return { status: 'refunded' };
  }

  async getOrg(orgId: string): Promise<OrgRecord | undefined> {
    const org = this.orgs.get(orgId);
    return org && copyOrg(org);
  }

  async createOrg(settings: OrgSettings, entry: ActivityRecord & { kind: 'org_provisioned' }, due: FirstDue): Promise<OrgRecord | undefined> {
    if (this.orgs.has(settings.orgId)) return undefined;
    const now = entry.createdAt;
    const org: StoredOrg = {
      orgId: settings.orgId,
      name: settings.name ?? null,
      planName: settings.planName,
      allowanceMilli: settings.allowanceMilli,
      billingAnchor: settings.billingAnchor,
      periodStartedAt: null,
      pendingPlan: null,
      highCostMilli: settings.highCostMilli ?? null,
      defaultCapMilli: null,
      configVersion: 1,
      usage: {},
      topUps: new Map(),
      autoRefill: null,
      refills: {},
      countersKeptFrom: null,
      nextResetDue: due.reset,
      createdAt: now,
      updatedAt: now,
    };
    this.orgs.set(settings.orgId, org);
    this.activity.set(activityId(settings.orgId, 'PROVISIONED'), entry);
    this.fileDue('rollover', due.reset, settings.orgId, 'reset');
    this.fileDue('export', due.monthlyExport.dueAt, settings.orgId, due.monthlyExport.ref);
    return copyOrg(org);
  }

  async updateOrgDetails(orgId: string, details: OrgDetails, now: string): Promise<OrgRecord | undefined> {
    const org = this.orgs.get(orgId);
    if (!org) return undefined;
    if (details.name !== undefined) Object.assign(org, { name: details.name });
    if (details.highCostMilli !== undefined) Object.assign(org, { highCostMilli: details.highCostMilli });
    Object.assign(org, { updatedAt: now });
    return copyOrg(org);
  }

  async changePlan(command: PlanChangeCommand, now: string): Promise<'done' | 'stale'> {
    const org = this.orgs.get(command.orgId);
    if (!org || org.configVersion !== command.expectedConfigVersion) return 'stale';
    const { planName, allowanceMilli, billingAnchor, periodStartedAt, pendingPlan } = command.after;
    Object.assign(org, { planName, allowanceMilli, billingAnchor, periodStartedAt, pendingPlan, configVersion: org.configVersion + 1, updatedAt: now });
    this.activity.set(activityId(command.orgId, `PLAN#${command.entry.createdAt}#${command.entry.entryId}`), command.entry);
    if (command.nextReset !== null) {
      this.fileDue('rollover', command.nextReset, command.orgId, 'reset');
      Object.assign(org, { nextResetDue: command.nextReset });
    }
    return 'done';
  }

  async addTopUp(command: TopUpCommand, now: string): Promise<TopUpOutcome> {
    const key = activityId(command.orgId, `TOPUP#${command.batch.purchaseId}`);
    const existing = this.activity.get(key);
    if (existing) return { status: 'duplicate', existing };
    const org = this.orgs.get(command.orgId);
    if (!org) return { status: 'org_missing' };
    this.activity.set(key, command.entry);
    org.topUps.set(command.batch.purchaseId, { ...command.batch, usedMilli: 0 });
    Object.assign(org, { configVersion: org.configVersion + 1, updatedAt: now });
    this.fileDue('expiry', command.batch.expiresAt, command.orgId, command.batch.purchaseId);
    return { status: 'added' };
  }

  async recordAction(entry: ActivityRecord & { kind: 'platform_action' }): Promise<PlatformActionOutcome> {
    const key = activityId(entry.orgId, `ACTION#${entry.eventId}`);
    const existing = this.activity.get(key);
    if (existing) return { status: 'duplicate', existing };
    this.activity.set(key, entry);
    return { status: 'added' };
  }

  async setAutoRefill(orgId: string, settings: AutoRefillSettings, now: string): Promise<OrgRecord | undefined> {
    const org = this.orgs.get(orgId);
    if (!org) return undefined;
    Object.assign(org, { autoRefill: { ...settings }, updatedAt: now });
    return copyOrg(org);
  }

  async setDefaultLimit(command: DefaultLimitCommand, now: string): Promise<'done' | 'stale'> {
    const org = this.orgs.get(command.orgId);
    if (!org || org.configVersion !== command.expectedConfigVersion) return 'stale';
    Object.assign(org, { defaultCapMilli: command.capMilli, configVersion: org.configVersion + 1, updatedAt: now });
    this.activity.set(activityId(command.orgId, `CHANGE#${command.entry.createdAt}#${command.entry.entryId}`), command.entry);
    return 'done';
  }

  async putScope(command: ScopeChangeCommand, now: string): Promise<ScopeChangeOutcome> {
    const { orgId, scope, seen, entry } = command;
    if (!this.orgs.has(orgId)) return { status: 'org_missing' };
    const key = scopeId(orgId, scope);
    const stored = this.scopes.get(key);
    if ((stored !== undefined) !== seen.exists || (stored?.settingsVersion ?? 0) !== seen.settingsVersion) return { status: 'stale' };
    const base = stored ?? emptyScope(scope.kind, scope.id, now);
    this.scopes.set(key, { ...base, ...command.settings, settingsVersion: base.settingsVersion + 1, updatedAt: now });
    this.activity.set(activityId(orgId, `CHANGE#${entry.createdAt}#${entry.entryId}`), entry);
    return { status: 'done', scope: this.scopeRecord(orgId, scope) };
  }

  async getScope(orgId: string, scope: ScopeRef): Promise<ScopeRecord> {
    return this.scopeRecord(orgId, scope);
  }

  async listScopes(orgId: string, kind: ScopeKind, limit: number, cursor: string | null): Promise<Page<ScopeRecord>> {
    const all = [...this.scopes.entries()]
      .filter(([key]) => key.startsWith(`${orgId}\u0000${kind}\u0000`))
      .map(([, scope]) => ({ sortKey: scope.id, record: copyScope(scope) }));
    return page(all, `${orgId}\u0000${kind}`, limit, cursor, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async listEvents(orgId: string, limit: number, cursor: string | null): Promise<Page<LogEntry>> {
    return page(this.log(orgId), `${orgId}\u0000log`, limit, cursor, (a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  async activityFeed(selection: ActivitySelection, limit: number, cursor: string | null): Promise<Page<LogEntry>> {
    // The list is the selection itself: a cursor of another org or other filters names another list, and is refused.
    const selected = this.log(selection.orgId).filter((entry) => activitySelects(selection, entry.record));
    return page(selected, `${selection.orgId}\u0000feed\u0000${JSON.stringify(selection)}`, limit, cursor, (a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  async logUpTo(orgId: string, at: string): Promise<LogEntry[]> {
    const upTo = `${at}#\uffff`;
    return this.log(orgId)
      .filter((entry) => entry.sortKey <= upTo)
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
      .map((entry) => entry.record);
  }

  async listDue(kind: DueKind, upTo: Date, limit: number, after?: DueItem): Promise<DueItem[]> {
    return [...this.due.values()]
      .filter((item) => item.kind === kind && dueSortKey(item) <= `${upTo.toISOString()}#\uffff` && (after === undefined || dueSortKey(item) > dueSortKey(after)))
      .sort((a, b) => (dueSortKey(a) < dueSortKey(b) ? -1 : 1))
      .slice(0, limit);
  }

  async dropDue(due: DueItem): Promise<void> {
    this.due.delete(dueId(due));
  }

  async refileDue(handled: DueItem, next: DueItem): Promise<void> {
    this.due.delete(dueId(handled));
    this.fileDue(next.kind, next.dueAt, next.orgId, next.ref);
  }

  async rollPeriod(command: RolloverCommand): Promise<JobWriteOutcome> {
    const { due, entry } = command;
    const key = activityId(due.orgId, `RESET#${entry.periodId}`);
    if (this.activity.has(key)) return 'already_done';
    const org = this.orgs.get(due.orgId);
    if (!org || org.configVersion !== command.expectedConfigVersion) return 'stale';
    this.activity.set(key, entry);
    if (command.settledNow) {
      const { planName, allowanceMilli, billingAnchor, periodStartedAt, pendingPlan } = command.settled;
      Object.assign(org, { planName, allowanceMilli, billingAnchor, periodStartedAt, pendingPlan, configVersion: org.configVersion + 1 });
    }
    Object.assign(org, { countersKeptFrom: command.keepCountersFrom, nextResetDue: command.nextReset });
    for (const periodId of command.prunePeriods) {
      delete org.usage[periodId];
      delete org.refills[periodId];
    }
    this.fileDue('rollover', command.nextReset, due.orgId, 'reset');
    this.fileDue('export', command.monthlyExport.dueAt, due.orgId, command.monthlyExport.ref);
    this.due.delete(dueId(due));
    return 'done';
  }

  async pruneScopeCounters(orgId: string, keepFrom: string): Promise<number> {
    let changed = 0;
    for (const [key, scope] of this.scopes) {
      if (!key.startsWith(`${orgId}\u0000`)) continue;
      const old = Object.keys(scope.usage).filter((periodId) => periodId < keepFrom);
      for (const periodId of old) delete scope.usage[periodId];
      if (old.length > 0) changed += 1;
    }
    return changed;
  }

  async expireTopUp(command: ExpiryCommand): Promise<JobWriteOutcome> {
    const { due, batch, entry } = command;
    const key = activityId(due.orgId, `EXPIRED#${batch.purchaseId}`);
    if (this.activity.has(key)) return 'already_done';
    const stored = this.orgs.get(due.orgId)?.topUps.get(batch.purchaseId);
    if (!stored || stored.usedMilli !== batch.usedMilli) return 'stale';
    this.activity.set(key, entry);
    this.orgs.get(due.orgId)!.topUps.delete(batch.purchaseId);
    this.due.delete(dueId(due));
    return 'done';
  }

  async refill(command: RefillCommand): Promise<JobWriteOutcome> {
    const key = activityId(command.orgId, `TOPUP#${command.batch.purchaseId}`);
    if (this.activity.has(key)) return 'already_done';
    const org = this.orgs.get(command.orgId);
    // As the table's condition: no count yet when none was seen, else exactly the count seen.
    const count = org?.refills[command.periodId];
    if (!org || (command.refillsSeen === 0 ? count !== undefined : count !== command.refillsSeen)) return 'stale';
    this.activity.set(key, command.entry);
    org.topUps.set(command.batch.purchaseId, { ...command.batch, usedMilli: 0 });
    org.refills[command.periodId] = command.refillsSeen + 1;
    Object.assign(org, { configVersion: org.configVersion + 1, updatedAt: command.batch.purchasedAt });
    this.fileDue('expiry', command.batch.expiresAt, command.orgId, command.batch.purchaseId);
    return 'done';
  }

  private log(orgId: string): { sortKey: string; record: LogEntry }[] {
    const meter = [...this.events.values()].filter((event) => event.orgId === orgId).map((event) => ({ sortKey: `${event.createdAt}#${event.eventId}`, record: { ...event } as LogEntry }));
    const entries = [...this.activity.values()].filter((entry) => entry.orgId === orgId).map((entry) => ({ sortKey: `${entry.createdAt}#${entry.entryId}`, record: { ...entry } as LogEntry }));
    return [...meter, ...entries];
  }

  private fileDue(kind: DueKind, dueAt: string, orgId: string, ref: string): void {
    const item = { kind, dueAt, orgId, ref };
    this.due.set(dueId(item), item);
  }

  private scopeRecord(orgId: string, scope: ScopeRef): ScopeRecord {
    const stored = this.scopes.get(scopeId(orgId, scope));
    if (stored) return copyScope(stored);
    return { ...emptyScope(scope.kind, scope.id, null), exists: false, role: scope.kind === 'member' ? DEFAULT_MEMBER_ROLE : null };
  }

}

/** An event as the table keeps it: attributes left undefined are not stored at all. */
function asStored(event: MeterEventRecord): MeterEventRecord {
  return JSON.parse(JSON.stringify(event)) as MeterEventRecord;
}

function activityId(orgId: string, entryKey: string): string {
  return `${orgId}\u0000${entryKey}`;
}

function dueSortKey(item: DueItem): string {
  return `${item.dueAt}#${item.orgId}#${item.ref}`;
}

function dueId(item: DueItem): string {
  return `${item.kind}\u0000${dueSortKey(item)}`;
}

/** A draw's source is as the plan assumed: the table's `drawsHold` condition, clause by clause. */
function drawHolds(org: StoredOrg, periodId: string, draw: SourceDraw): boolean {
  let used: number | undefined;
  if (draw.ref.kind === 'allowance') used = org.usage[periodId];
  else {
    const batch = org.topUps.get(draw.ref.purchaseId);
    if (!batch) return false;
    used = batch.usedMilli;
  }
  const { min, max } = draw.usedBefore;
  if (used === undefined) return min === null || max === 0;
  return min === null ? used <= max : used === max;
}

function eventId(orgId: string, requestId: string): string {
  return `${orgId}\u0000${requestId}`;
}

function scopeId(orgId: string, scope: ScopeRef): string {
  return `${orgId}\u0000${scope.kind}\u0000${scope.id}`;
}

/** A scope as a first charge registers it: created, never updated by an admin. */
function emptyScope(kind: ScopeKind, id: string, now: string | null): StoredScope {
  return { kind, id, capMilli: null, usage: {}, name: null, role: null, adminOfProjectIds: [], projectId: null, settingsVersion: 0, createdAt: now, updatedAt: null };
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
