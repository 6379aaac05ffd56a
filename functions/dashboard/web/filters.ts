// The dashboard's view, as the page's URL holds it, so that a link shares it: which tab, the date range (a quick
// range or a custom one), the projects, users and job types, the graph's metric, and the events table's own filters,
// order and page. Pure: no DOM, so the unit tests run it as the page does.

export const VIEWS = ['usage', 'plan', 'members', 'projects', 'keys'] as const;
export type View = (typeof VIEWS)[number];

export const QUICK_RANGES = ['today', 'yesterday', 'month', 'quarter', 'last7', 'last30'] as const;
export type QuickRange = (typeof QUICK_RANGES)[number];
export type RangeChoice = QuickRange | 'custom';

export const RANGE_LABELS: Record<RangeChoice, string> = {
  today: 'Today',
  yesterday: 'Yesterday',
  month: 'This month',
  quarter: 'This quarter',
  last7: 'Last 7 days',
  last30: 'Last 30 days',
  custom: 'Custom range',
};

export type Metric = 'cu' | 'jobs';
export type Granularity = 'hour' | 'day' | 'week' | 'month';
export const EVENT_SORTS = ['createdAt', 'amount', 'userId'] as const;
export type EventSort = (typeof EVENT_SORTS)[number];
export const POOL_CATEGORIES = ['allocated', 'surplus', 'hybrid'] as const;
export const IO_TYPES = ['input', 'output'] as const;

/** The events table's own filters, as URL and route parameters of the same names. */
const EVENT_FILTER_FIELDS = ['resourceType', 'poolCategory', 'ioType', 'minCu', 'maxCu'] as const;

export interface EventFilters {
  readonly resourceType: string;
  readonly poolCategory: string;
  readonly ioType: string;
  readonly minCu: string;
  readonly maxCu: string;
  readonly sort: EventSort;
  readonly order: 'asc' | 'desc';
}

export interface DashboardState {
  readonly view: View;
  readonly range: RangeChoice;
  /** Custom range only (`YYYY-MM-DD`); quick ranges resolve against today. */
  readonly from: string;
  readonly to: string;
  readonly projects: readonly string[];
  readonly users: readonly string[];
  readonly jobTypes: readonly string[];
  readonly metric: Metric;
  readonly events: EventFilters;
}

export const DEFAULT_STATE: DashboardState = {
  view: 'usage',
  // Seed 002's charts open on the last 7 days.
  range: 'last7',
  from: '',
  to: '',
  projects: [],
  users: [],
  jobTypes: [],
  metric: 'cu',
  events: { resourceType: '', poolCategory: '', ioType: '', minCu: '', maxCu: '', sort: 'createdAt', order: 'desc' },
};

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function oneOf<T extends string>(values: readonly T[], value: string | null, fallback: T): T {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : fallback;
}

function isDay(value: string | null): value is string {
  return value !== null && ISO_DAY.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

function decimal(value: string | null): string {
  return value !== null && /^-?\d+(\.\d+)?$/.test(value) ? value : '';
}

/** The state a URL's query names; anything unknown or malformed falls back to the default, never throws. */
export function parseState(search: string): DashboardState {
  const query = new URLSearchParams(search);
  const from = query.get('from');
  const to = query.get('to');
  const custom = query.get('range') === 'custom' && isDay(from) && isDay(to) && from <= to;
  const list = (name: string) => [...new Set(query.getAll(name).filter((value) => value.length > 0 && value.length <= 128))].slice(0, 100);
  return {
    view: oneOf(VIEWS, query.get('view'), DEFAULT_STATE.view),
    range: custom ? 'custom' : oneOf(QUICK_RANGES, query.get('range'), DEFAULT_STATE.range as QuickRange),
    from: custom ? from! : '',
    to: custom ? to! : '',
    projects: list('project'),
    users: list('user'),
    jobTypes: list('jobType'),
    metric: query.get('metric') === 'jobs' ? 'jobs' : 'cu',
    events: {
      resourceType: (query.get('resourceType') ?? '').slice(0, 64),
      poolCategory: oneOf(['', ...POOL_CATEGORIES], query.get('poolCategory'), ''),
      ioType: oneOf(['', ...IO_TYPES], query.get('ioType'), ''),
      minCu: decimal(query.get('minCu')),
      maxCu: decimal(query.get('maxCu')),
      sort: oneOf(EVENT_SORTS, query.get('sort'), 'createdAt'),
      order: query.get('order') === 'asc' ? 'asc' : 'desc',
    },
  };
}

/** The URL query for a state: only what differs from the default, in a stable order. */
export function stateQuery(state: DashboardState): string {
  const query = new URLSearchParams();
  if (state.view !== DEFAULT_STATE.view) query.set('view', state.view);
  if (state.range !== DEFAULT_STATE.range) query.set('range', state.range);
  if (state.range === 'custom') {
    query.set('from', state.from);
    query.set('to', state.to);
  }
  for (const project of state.projects) query.append('project', project);
  for (const user of state.users) query.append('user', user);
  for (const jobType of state.jobTypes) query.append('jobType', jobType);
  if (state.metric !== 'cu') query.set('metric', state.metric);
  const { events } = state;
  for (const name of EVENT_FILTER_FIELDS) if (events[name]) query.set(name, events[name]);
  if (events.sort !== 'createdAt') query.set('sort', events.sort);
  if (events.order !== 'desc') query.set('order', events.order);
  const text = query.toString();
  return text ? `?${text}` : '';
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(day: string, days: number): string {
  return isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000));
}

/** The range's first and last UTC day (both included), given the instant that is now. */
export function resolveRange(state: Pick<DashboardState, 'range' | 'from' | 'to'>, now: Date): { readonly startDate: string; readonly endDate: string } {
  const today = isoDay(now);
  switch (state.range) {
    case 'custom':
      return { startDate: state.from, endDate: state.to };
    case 'today':
      return { startDate: today, endDate: today };
    case 'yesterday': {
      const yesterday = addDays(today, -1);
      return { startDate: yesterday, endDate: yesterday };
    }
    case 'month':
      return { startDate: `${today.slice(0, 7)}-01`, endDate: today };
    case 'quarter': {
      const month = now.getUTCMonth();
      const first = String(month - (month % 3) + 1).padStart(2, '0');
      return { startDate: `${today.slice(0, 4)}-${first}-01`, endDate: today };
    }
    case 'last7':
      return { startDate: addDays(today, -6), endDate: today };
    case 'last30':
      return { startDate: addDays(today, -29), endDate: today };
  }
}

/** How many UTC days a range spans, both ends included. */
export function daysIn(range: { readonly startDate: string; readonly endDate: string }): number {
  return Math.round((Date.parse(`${range.endDate}T00:00:00Z`) - Date.parse(`${range.startDate}T00:00:00Z`)) / 86_400_000) + 1;
}

/** The graph's buckets for a range: hours up to two days, days up to two months, weeks up to half a year, then months. */
export function granularityFor(range: { readonly startDate: string; readonly endDate: string }): Granularity {
  const days = daysIn(range);
  if (days <= 2) return 'hour';
  if (days <= 62) return 'day';
  if (days <= 186) return 'week';
  return 'month';
}

/** The filters every usage route takes, as query parameters. */
export function usageQuery(state: DashboardState, now: Date): URLSearchParams {
  const { startDate, endDate } = resolveRange(state, now);
  const query = new URLSearchParams({ startDate, endDate });
  for (const project of state.projects) query.append('projectId', project);
  for (const user of state.users) query.append('userId', user);
  for (const jobType of state.jobTypes) query.append('jobType', jobType);
  return query;
}

/** The events table's query: the shared filters, its own, its order and page. */
export function eventsQuery(state: DashboardState, now: Date, page: { readonly limit: number; readonly cursor?: string }): URLSearchParams {
  const query = usageQuery(state, now);
  const { events } = state;
  for (const name of EVENT_FILTER_FIELDS) if (events[name]) query.set(name, events[name]);
  query.set('sort', events.sort);
  query.set('order', events.order);
  query.set('limit', String(page.limit));
  if (page.cursor) query.set('cursor', page.cursor);
  return query;
}

/** The activity feed's query: the dates, and the projects and users filters (the feed has no job-type filter). */
export function activityQuery(state: DashboardState, now: Date, page: { readonly limit: number; readonly cursor?: string }): URLSearchParams {
  const { startDate, endDate } = resolveRange(state, now);
  const query = new URLSearchParams({ startDate, endDate, limit: String(page.limit) });
  for (const project of state.projects) query.append('projectId', project);
  for (const user of state.users) query.append('userId', user);
  if (page.cursor) query.set('cursor', page.cursor);
  return query;
}
