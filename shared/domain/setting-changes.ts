// What an admin changed on a project, member or API key, setting by setting, for the activity log. A PUT that changes
// nothing is no change: a retried or repeated PUT must not fill the log.

import type { MilliCu } from './compute-units';
import type { MemberRole } from './permissions';

/** What an admin sets on a project, member or API key (its usage aside). */
export interface ScopeSettingsValues {
  readonly name: string | null;
  /** null: no cap of its own. */
  readonly capMilli: MilliCu | null;
  /** Members only. */
  readonly role: MemberRole | null;
  /** Members only: a set, in no particular order. */
  readonly adminOfProjectIds: readonly string[];
  /** API keys only: the project the key belongs to. */
  readonly projectId: string | null;
}

/** A PUT's settings: undefined leaves a setting as it is; null (a cap) removes it. */
export type GivenSettings = { readonly [Setting in keyof ScopeSettingsValues]?: ScopeSettingsValues[Setting] | undefined };

export interface SettingChange<T> {
  readonly before: T;
  readonly after: T;
}

/** The settings that changed, each before and after; the ones left out did not change. */
export type SettingChanges = { readonly [Setting in keyof ScopeSettingsValues]?: SettingChange<ScopeSettingsValues[Setting]> };

const SETTINGS = ['name', 'capMilli', 'role', 'adminOfProjectIds', 'projectId'] as const;

/** A scope before any admin set anything: what a newly created one's changes are counted from. */
export const UNSET: ScopeSettingsValues = { name: null, capMilli: null, role: null, adminOfProjectIds: [], projectId: null };

/** The settings once `given` is applied to `before`. The same projects in another order are the same projects. */
export function settingsAfter(before: ScopeSettingsValues, given: GivenSettings): ScopeSettingsValues {
  const after: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = given[setting];
    after[setting] = value === undefined || sameSetting(before[setting], value) ? before[setting] : value;
  }
  return after as unknown as ScopeSettingsValues;
}

/** Each setting whose value differs between `before` and `after`. */
export function settingChanges(before: ScopeSettingsValues, after: ScopeSettingsValues): SettingChanges {
  const changes: Record<string, SettingChange<unknown>> = {};
  for (const setting of SETTINGS) {
    if (!sameSetting(before[setting], after[setting])) changes[setting] = { before: before[setting], after: after[setting] };
  }
  return changes as SettingChanges;
}

function sameSetting(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const [left, right] = [new Set(a), new Set(b)];
    return left.size === right.size && [...left].every((value) => right.has(value));
  }
  return a === b;
}
