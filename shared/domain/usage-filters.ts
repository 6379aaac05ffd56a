// The filters every usage and activity view takes (seed 000, "Using Filters"): a range of UTC days, and any
// combination of projects, users, job types and models. A reader's scope narrows them: a project admin sees their
// projects only, and naming another project is refused rather than quietly emptied.

import { forbidden, invalidField, teamNotFound } from './errors';
import { scopeIncludes, type ReadScope } from './permissions';

/** The longest range a view may cover, in days (a year, leap years included). */
export const MAX_RANGE_DAYS = 366;
/** The most values one repeatable filter may list. */
export const MAX_FILTER_VALUES = 100;
/** Without dates, a view covers the last 30 days, today included. */
export const DEFAULT_RANGE_DAYS = 30;

const DAY_MS = 86_400_000;

export interface DayRange {
  /** ISO dates, inclusive, UTC days. */
  readonly startDate: string;
  readonly endDate: string;
}

/** The filters as asked for: an empty list means "any". */
export interface UsageFilterInput {
  readonly startDate?: string | undefined;
  readonly endDate?: string | undefined;
  readonly teamId?: string | undefined;
  readonly projectIds?: readonly string[] | undefined;
  readonly userIds?: readonly string[] | undefined;
  readonly jobTypes?: readonly string[] | undefined;
  readonly modelIds?: readonly string[] | undefined;
}

/** What a view selects, with the reader's scope applied. `projects: 'all'` only for readers of the whole org. */
export interface UsageSelection extends DayRange {
  readonly orgId: string;
  readonly projects: 'all' | ReadonlySet<string>;
  readonly users: ReadonlySet<string> | null;
  readonly jobTypes: ReadonlySet<string> | null;
  readonly models: ReadonlySet<string> | null;
}

/** The dimensions a usage record is selected on. `modelId` null: a job without a model. */
export interface UsageDimensions {
  readonly projectId: string;
  readonly userId: string;
  readonly jobType: string;
  readonly modelId: string | null;
}

export function dayOf(instant: string | Date): string {
  return (typeof instant === 'string' ? new Date(instant) : instant).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Days from `startDate` to `endDate`, both included. */
export function daysBetween(range: DayRange): number {
  return Math.round((Date.parse(`${range.endDate}T00:00:00Z`) - Date.parse(`${range.startDate}T00:00:00Z`)) / DAY_MS) + 1;
}

/** Every day of the range, in order. */
export function daysOf(range: DayRange): string[] {
  const count = daysBetween(range);
  return Array.from({ length: count }, (_, index) => addDays(range.startDate, index));
}

/** The range asked for, checked: not reversed, at most `maxDays`; missing ends default around today. */
export function dayRange(input: Pick<UsageFilterInput, 'startDate' | 'endDate'>, today: Date, maxDays = MAX_RANGE_DAYS): DayRange {
  const endDate = input.endDate ?? (input.startDate ? minDay(addDays(input.startDate, DEFAULT_RANGE_DAYS - 1), dayOf(today)) : dayOf(today));
  const startDate = input.startDate ?? addDays(endDate, -(DEFAULT_RANGE_DAYS - 1));
  if (startDate > endDate) throw invalidField(input.endDate ? 'endDate' : 'startDate', 'endDate must not be before startDate');
  if (daysBetween({ startDate, endDate }) > maxDays) throw invalidField('endDate', `the range may cover at most ${maxDays} days`);
  return { startDate, endDate };
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

/**
 * The selection a reader's filters make. `teamId` is the org's id (an alias scope, as in the Analytics API); any
 * other value is 404, so a reader of one org never learns anything of another. A project admin naming a project
 * outside their scope is 403.
 */
export function selectionFor(reader: ReadScope, input: UsageFilterInput, today: Date, maxDays = MAX_RANGE_DAYS): UsageSelection {
  if (input.teamId !== undefined && input.teamId !== reader.orgId) throw teamNotFound(input.teamId);
  const range = dayRange(input, today, maxDays);
  const asked = nonEmpty(input.projectIds);
  if (asked && reader.projects !== 'all' && [...asked].some((projectId) => !scopeIncludes(reader, projectId))) throw forbidden();
  const projects = asked ?? (reader.projects === 'all' ? 'all' : new Set(reader.projects));
  return { orgId: reader.orgId, ...range, projects, users: nonEmpty(input.userIds), jobTypes: nonEmpty(input.jobTypes), models: nonEmpty(input.modelIds) };
}

function nonEmpty(values: readonly string[] | undefined): ReadonlySet<string> | null {
  return values && values.length > 0 ? new Set(values) : null;
}

/** Whether a record with these dimensions is in the selection (its day is checked by the caller's range). */
export function selects(selection: UsageSelection, record: UsageDimensions): boolean {
  return (
    (selection.projects === 'all' || selection.projects.has(record.projectId)) &&
    (selection.users === null || selection.users.has(record.userId)) &&
    (selection.jobTypes === null || selection.jobTypes.has(record.jobType)) &&
    (selection.models === null || (record.modelId !== null && selection.models.has(record.modelId)))
  );
}

/** Whether the selection narrows anything besides the dates (a project admin's scope counts). */
export function narrowsBeyondDates(selection: UsageSelection): boolean {
  return selection.projects !== 'all' || selection.users !== null || selection.jobTypes !== null || selection.models !== null;
}
