// The Usage view (seeds 000 and 002): the filters, the main graph with its slider, the totals, the power users, the
// consumption events table and the activity feed, each read from the route a BI tool reads with the same filters.

import { useState } from 'preact/hooks';
import { UsageGraph, type BarBucket } from './charts';
import { useDashboard } from './context';
import {
  activityQuery,
  eventsQuery,
  granularityFor,
  IO_TYPES,
  isoDay,
  POOL_CATEGORIES,
  QUICK_RANGES,
  RANGE_LABELS,
  resolveRange,
  usageQuery,
  type EventFilters,
  type EventSort,
  type RangeChoice,
} from './filters';
import { formatCount, formatCu, formatInstant, jobTypeLabel } from './format';
import { AnySelect, ErrorNote, MultiSelect, Pager, Panel, useCursorPages, useLoad, type Choice } from './widgets';

interface Timeseries {
  readonly granularity: string;
  readonly buckets: readonly BarBucket[];
}
interface Totals {
  readonly totalCU: number;
  readonly totalJobs: number;
  readonly jobTypes: readonly { jobType: string; jobs: number; cu: number }[];
}
interface PowerUsers {
  readonly users: readonly { userId: string; apiKey: boolean; cu: number; jobs: number }[];
}
interface Breakdown {
  readonly groups: readonly Record<string, string | number | null>[];
}
interface EventRow {
  readonly eventId: string;
  readonly createdAt: string;
  readonly kind: string;
  readonly userId: string;
  readonly amount: number;
  readonly resourceType: string | null;
  readonly poolCategory: string | null;
  readonly ioType: string | null;
  readonly requestId: string;
  readonly endpoint: string | null;
  readonly projectId: string | null;
  readonly jobType: string | null;
  readonly modelName?: string | null;
}
interface ActivityRow {
  readonly id: string;
  readonly at: string;
  readonly kind: string;
  readonly userId: string | null;
  readonly projectId: string | null;
  readonly summary: string;
  readonly actor: { kind: string; id: string; actingUserId?: string };
}
interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export const EVENTS_PAGE_SIZE = 25;

function FilterBar() {
  const { api, access, state, now, navigate } = useDashboard();
  const range = resolveRange(state, now);
  // The choices: the projects the person may see; the people and job types with usage in the range.
  const options = useLoad(async () => {
    const query = new URLSearchParams({ startDate: range.startDate, endDate: range.endDate, groupBy: 'userId,jobType' });
    for (const project of state.projects) query.append('projectId', project);
    const breakdown: Breakdown = await api.get('/v1/usage/breakdown', query);
    const users = [...new Set(breakdown.groups.map((group) => String(group.userId)))].sort();
    const jobTypes = [...new Set(breakdown.groups.map((group) => String(group.jobType)))].sort();
    return { users, jobTypes };
  }, `${range.startDate}:${range.endDate}:${state.projects.join(',')}`);
  const projectChoices: Choice[] = access.projects.map((project) => ({ value: project.projectId!, label: project.name ? `${project.name} (${project.projectId})` : project.projectId! }));
  const userChoices: Choice[] = (options.data?.users ?? []).map((user) => ({ value: user, label: user.startsWith('apiu_') ? `${user} (API key)` : user }));
  const jobChoices: Choice[] = (options.data?.jobTypes ?? []).map((jobType) => ({ value: jobType, label: jobTypeLabel(jobType) }));
  const today = isoDay(now);
  return (
    <form class="filters" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
      <label class="field">
        <span>Dates</span>
        <select
          value={state.range}
          onChange={(event) => {
            const choice = event.currentTarget.value as RangeChoice;
            navigate(choice === 'custom' ? { range: 'custom', from: range.startDate, to: range.endDate } : { range: choice, from: '', to: '' });
          }}
        >
          {[...QUICK_RANGES, 'custom' as const].map((choice) => (
            <option value={choice} key={choice}>
              {RANGE_LABELS[choice]}
            </option>
          ))}
        </select>
      </label>
      {state.range === 'custom' ? (
        <>
          <label class="field">
            <span>From (UTC)</span>
            <input type="date" key={state.from} defaultValue={state.from} max={today} onChange={(event) => {
                const from = event.currentTarget.value;
                if (from) navigate((current) => ({ from, to: current.to < from ? from : current.to }));
              }} />
          </label>
          <label class="field">
            <span>To (UTC)</span>
            <input type="date" key={state.to} defaultValue={state.to} max={today} onChange={(event) => {
                const to = event.currentTarget.value;
                if (to) navigate((current) => ({ to, from: current.from > to ? to : current.from }));
              }} />
          </label>
        </>
      ) : (
        <p class="range-note">
          {range.startDate} – {range.endDate} UTC
        </p>
      )}
      <MultiSelect id="filter-projects" label="Projects" allLabel={access.role === 'org_admin' ? 'All projects' : 'All my projects'} choices={projectChoices} selected={state.projects} onChange={(projects) => navigate({ projects })} />
      <MultiSelect id="filter-users" label="Users" allLabel="All users" choices={userChoices} selected={state.users} onChange={(users) => navigate({ users })} />
      <MultiSelect id="filter-job-types" label="Job types" allLabel="All job types" choices={jobChoices} selected={state.jobTypes} onChange={(jobTypes) => navigate({ jobTypes })} />
    </form>
  );
}

function MainGraph() {
  const { api, state, now, navigate } = useDashboard();
  const range = resolveRange(state, now);
  const granularity = granularityFor(range);
  const query = usageQuery(state, now);
  query.set('metric', state.metric);
  query.set('granularity', granularity);
  const series = useLoad<Timeseries>(() => api.get('/v1/usage/timeseries', query), query.toString());
  return (
    <Panel
      id="graph"
      title={state.metric === 'cu' ? 'Compute units over time' : 'Jobs over time'}
      busy={series.loading}
      actions={
        <div class="toggle" role="group" aria-label="Metric">
          {(['cu', 'jobs'] as const).map((metric) => (
            <button type="button" key={metric} aria-pressed={state.metric === metric} onClick={() => navigate({ metric })}>
              {metric === 'cu' ? 'CU' : 'Jobs'}
            </button>
          ))}
        </div>
      }
    >
      {series.error ? <ErrorNote error={series.error} /> : null}
      {series.data ? (
        <UsageGraph
          buckets={series.data.buckets}
          granularity={series.data.granularity}
          metric={state.metric}
          busy={series.loading}
          onWindow={(first, last) => {
            // The window's whole days, inside the range: the filters, and so every panel, follow the slider.
            const from = first.start.slice(0, 10) < range.startDate ? range.startDate : first.start.slice(0, 10);
            const lastDay = granularity === 'hour' || granularity === 'day' ? last.start.slice(0, 10) : range.endDate;
            const to = lastDay > range.endDate ? range.endDate : lastDay;
            navigate({ range: 'custom', from, to: to < from ? from : to });
          }}
        />
      ) : null}
    </Panel>
  );
}

function TotalsPanel() {
  const { api, state, now } = useDashboard();
  const query = usageQuery(state, now);
  const totals = useLoad<Totals>(() => api.get('/v1/usage/totals', query), query.toString());
  return (
    <Panel id="totals" title="Totals" busy={totals.loading}>
      {totals.error ? <ErrorNote error={totals.error} /> : null}
      {totals.data ? (
        <dl class="totals">
          <div class="total-main">
            <dt>Compute units</dt>
            <dd data-testid="total-cu">{formatCu(totals.data.totalCU)}</dd>
          </div>
          <div class="total-main">
            <dt>Jobs</dt>
            <dd data-testid="total-jobs">{formatCount(totals.data.totalJobs)}</dd>
          </div>
          {totals.data.jobTypes.map((jobType) => (
            <div key={jobType.jobType} data-testid="total-job-type" data-job-type={jobType.jobType}>
              <dt>{jobTypeLabel(jobType.jobType)}</dt>
              <dd>
                {formatCount(jobType.jobs)} jobs · {formatCu(jobType.cu)} CU
              </dd>
            </div>
          ))}
        </dl>
      ) : null}
    </Panel>
  );
}

function PowerUsersPanel() {
  const { api, state, now } = useDashboard();
  const query = usageQuery(state, now);
  query.set('limit', '10');
  const power = useLoad<PowerUsers>(() => api.get('/v1/usage/power-users', query), query.toString());
  const top = power.data?.users[0]?.cu ?? 0;
  return (
    <Panel id="power-users" title="Power users" busy={power.loading}>
      {power.error ? <ErrorNote error={power.error} /> : null}
      {power.data && power.data.users.length === 0 ? <p class="muted">No usage in this range.</p> : null}
      <ol class="power-users" data-testid="power-users">
        {(power.data?.users ?? []).map((user) => (
          <li key={user.userId} data-user-id={user.userId}>
            <span class="who">
              {user.userId}
              {user.apiKey ? <span class="badge"> API key</span> : null}
            </span>
            <span class="power-bar" aria-hidden="true">
              <span class="fill" style={{ width: `${top > 0 ? Math.max(2, (user.cu / top) * 100) : 0}%` }} />
            </span>
            <span class="num">
              {formatCu(user.cu)} CU · {formatCount(user.jobs)} jobs
            </span>
          </li>
        ))}
      </ol>
    </Panel>
  );
}

const COLUMNS: readonly { key: string; label: string; sort?: EventSort; num?: boolean }[] = [
  { key: 'createdAt', label: 'Created (UTC)', sort: 'createdAt' },
  { key: 'userId', label: 'User ID', sort: 'userId' },
  { key: 'amount', label: 'Amount (CU)', sort: 'amount', num: true },
  { key: 'resourceType', label: 'Resource type' },
  { key: 'poolCategory', label: 'Pool category' },
  { key: 'ioType', label: 'I/O type' },
  { key: 'requestId', label: 'Request ID' },
  { key: 'endpoint', label: 'Endpoint' },
  { key: 'projectId', label: 'Project' },
  { key: 'jobType', label: 'Job type' },
];

function EventsTable() {
  const { api, state, now, navigate } = useDashboard();
  const pages = useCursorPages(eventsQuery(state, now, { limit: EVENTS_PAGE_SIZE }).toString());
  const { cursor } = pages;
  const query = eventsQuery(state, now, { limit: EVENTS_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
  const page = useLoad<Page<EventRow>>(() => api.get('/v1/usage/events', query), query.toString());
  const [download, setDownload] = useState<Error | 'busy' | undefined>();
  const setEvents = (change: Partial<EventFilters>) => navigate((current) => ({ events: { ...current.events, ...change } }));
  const sortBy = (sort: EventSort) => setEvents(state.events.sort === sort ? { order: state.events.order === 'desc' ? 'asc' : 'desc' } : { sort, order: 'desc' });
  const csv = () => {
    const csvQuery = eventsQuery(state, now, { limit: EVENTS_PAGE_SIZE });
    csvQuery.delete('limit');
    setDownload('busy');
    api.download('/v1/usage/export.csv', csvQuery, `events-${csvQuery.get('startDate')}-${csvQuery.get('endDate')}.csv`).then(
      () => setDownload(undefined),
      (error: Error) => setDownload(error),
    );
  };
  return (
    <Panel
      id="events"
      title="Consumption events"
      busy={page.loading}
      actions={
        <button type="button" onClick={csv} disabled={download === 'busy'}>
          Download CSV
        </button>
      }
    >
      {download instanceof Error ? <ErrorNote error={download} /> : null}
      {/* Typed fields are uncontrolled (keyed by the URL's value): a render while data loads must not wipe what is being typed. */}
      <form class="filters table-filters" aria-label="Event filters" onSubmit={(event) => event.preventDefault()}>
        <label class="field">
          <span>Resource type</span>
          <input type="text" key={state.events.resourceType} defaultValue={state.events.resourceType} placeholder="any" onChange={(event) => setEvents({ resourceType: event.currentTarget.value.trim() })} />
        </label>
        <AnySelect label="Pool category" values={POOL_CATEGORIES} value={state.events.poolCategory} onChange={(poolCategory) => setEvents({ poolCategory })} />
        <AnySelect label="I/O type" values={IO_TYPES} value={state.events.ioType} onChange={(ioType) => setEvents({ ioType })} />
        <label class="field narrow">
          <span>Min CU</span>
          <input type="number" step="any" inputMode="decimal" key={state.events.minCu} defaultValue={state.events.minCu} onChange={(event) => setEvents({ minCu: event.currentTarget.value })} />
        </label>
        <label class="field narrow">
          <span>Max CU</span>
          <input type="number" step="any" inputMode="decimal" key={state.events.maxCu} defaultValue={state.events.maxCu} onChange={(event) => setEvents({ maxCu: event.currentTarget.value })} />
        </label>
      </form>
      {page.error ? <ErrorNote error={page.error} /> : null}
      <div class="table-scroll">
        <table class="events" data-testid="events-table">
          <caption class="visually-hidden">Consumption events, 25 a page</caption>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <th
                  scope="col"
                  key={column.key}
                  class={column.num ? 'num' : undefined}
                  aria-sort={column.sort && state.events.sort === column.sort ? (state.events.order === 'asc' ? 'ascending' : 'descending') : undefined}
                >
                  {column.sort ? (
                    <button type="button" class="sort" onClick={() => sortBy(column.sort!)}>
                      {column.label}
                      <span aria-hidden="true">{state.events.sort === column.sort ? (state.events.order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                    </button>
                  ) : (
                    column.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {(page.data?.items ?? []).map((row) => (
              <tr key={row.eventId} data-event-id={row.eventId}>
                <td>{formatInstant(row.createdAt)}</td>
                <td>{row.userId}</td>
                <td class="num" data-amount={row.amount}>
                  {formatCu(row.amount)}
                </td>
                <td>{row.resourceType ?? '–'}</td>
                <td>{row.poolCategory ?? '–'}</td>
                <td>{row.ioType ?? '–'}</td>
                <td class="mono">{row.requestId}</td>
                <td class="mono">{row.endpoint ?? '–'}</td>
                <td>{row.projectId ?? '–'}</td>
                <td>{row.jobType ? jobTypeLabel(row.jobType) : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data && page.data.items.length === 0 ? <p class="muted">No events match these filters.</p> : null}
      <Pager label="Events pages" pages={pages} nextCursor={page.data?.nextCursor} back="Previous" forward="Next" showNumber="events-page" />
    </Panel>
  );
}

function ActivityFeed() {
  const { api, state, now } = useDashboard();
  const pages = useCursorPages(activityQuery(state, now, { limit: 20 }).toString());
  const { cursor } = pages;
  const query = activityQuery(state, now, { limit: 20, ...(cursor ? { cursor } : {}) });
  const feed = useLoad<Page<ActivityRow>>(() => api.get('/v1/activity', query), query.toString());
  return (
    <Panel id="activity" title="Activity feed" busy={feed.loading}>
      <p class="muted small">Filtered by the projects and users above.</p>
      {feed.error ? <ErrorNote error={feed.error} /> : null}
      <ol class="feed" data-testid="activity-feed">
        {(feed.data?.items ?? []).map((row) => (
          <li key={row.id} data-kind={row.kind}>
            <time dateTime={row.at}>{formatInstant(row.at)}</time>
            <span class="summary">{row.summary}</span>
            <span class="muted small">
              {row.kind}
              {row.projectId ? ` · ${row.projectId}` : ''}
              {row.actor.actingUserId ? ` · by ${row.actor.actingUserId}` : row.actor.kind === 'person' ? ` · by ${row.actor.id}` : ''}
            </span>
          </li>
        ))}
      </ol>
      {feed.data && feed.data.items.length === 0 ? <p class="muted">Nothing happened in this range.</p> : null}
      <Pager label="Activity pages" pages={pages} nextCursor={feed.data?.nextCursor} back="Newer" forward="Older" />
    </Panel>
  );
}

export function UsageView() {
  return (
    <>
      <FilterBar />
      <div class="grid-top">
        <MainGraph />
        <PowerUsersPanel />
      </div>
      <TotalsPanel />
      <EventsTable />
      <ActivityFeed />
    </>
  );
}
