// The Plan view (seed 001's Plans → Manage, seed 002's surplus and consumption charts): the CU available, the
// allowance and when it resets, each top-up batch and when it expires, the auto-refill settings, and the pool over time.

import { SeriesChart } from './charts';
import { useDashboard } from './context';
import { QUICK_RANGES, RANGE_LABELS, resolveRange, daysIn, type RangeChoice } from './filters';
import { formatCount, formatCu, formatDay, formatInstant } from './format';
import { ErrorNote, Panel, useLoad } from './widgets';

interface PlanAnswer {
  readonly balance: {
    readonly plan: { readonly name: string; readonly allowanceCu: number };
    readonly availableCu: number;
    readonly allowance: { readonly allowanceCu: number; readonly usedCu: number; readonly remainingCu: number; readonly resetsAt: string };
    readonly topUps: readonly { purchaseId: string; source: string; cu: number; remainingCu: number; expiresAt: string }[];
    readonly pendingDowngrade: { name: string; allowanceCu: number; effectiveAt: string } | null;
  };
  readonly autoRefill: {
    readonly enabled: boolean;
    readonly thresholdCu: number | null;
    readonly amountCu: number | null;
    readonly expiresInDays: number;
    readonly maxPerPeriod: number;
    readonly currentPeriod: { readonly refillCount: number };
  };
  readonly defaultLimitCu?: number | null;
}

interface SurplusAnswer {
  readonly granularity: string;
  readonly buckets: readonly { start: string; at: string; allowanceRemainingCu: number | null; surplusRemainingCu: number | null; availableCu: number | null }[];
}

interface Timeseries {
  readonly buckets: readonly { start: string; value: number }[];
}

function Balance() {
  const { api, access } = useDashboard();
  const plan = useLoad<PlanAnswer>(() => api.get(`/v1/orgs/${encodeURIComponent(access.orgId)}/usage/plan`), 'plan');
  if (plan.error) return <ErrorNote error={plan.error} />;
  if (!plan.data)
    return (
      <p aria-busy="true" class="muted">
        Loading…
      </p>
    );
  const { balance, autoRefill } = plan.data;
  return (
    <div class="plan-grid">
      <Panel id="available" title="Compute units available">
        <p class="big" data-testid="available-cu">
          {formatCu(balance.availableCu)} CU
        </p>
        <p class="muted">
          {balance.plan.name} plan · {formatCu(balance.plan.allowanceCu)} CU a month
        </p>
        <ul class="pool-list">
          <li data-testid="allowance">
            <strong>Monthly allowance</strong>: {formatCu(balance.allowance.remainingCu)} of {formatCu(balance.allowance.allowanceCu)} CU left
            <span class="muted"> · Resets {formatDay(balance.allowance.resetsAt)}</span>
          </li>
          {balance.topUps.map((batch) => (
            <li key={batch.purchaseId} data-testid="top-up">
              <strong>{batch.source === 'auto_refill' ? 'Auto-refill' : 'Top-up'}</strong>: {formatCu(batch.remainingCu)} of {formatCu(batch.cu)} CU left
              <span class="muted"> · Expires {formatInstant(batch.expiresAt)}</span>
            </li>
          ))}
        </ul>
        {balance.pendingDowngrade ? (
          <p class="note">
            Changes to {balance.pendingDowngrade.name} ({formatCu(balance.pendingDowngrade.allowanceCu)} CU) on {formatDay(balance.pendingDowngrade.effectiveAt)}.
          </p>
        ) : null}
      </Panel>
      <Panel id="auto-refill" title="Auto-refill">
        {autoRefill.enabled ? (
          <dl class="settings" data-testid="auto-refill">
            <div>
              <dt>When the balance drops below</dt>
              <dd>{formatCu(autoRefill.thresholdCu ?? 0)} CU</dd>
            </div>
            <div>
              <dt>Buy</dt>
              <dd>{formatCu(autoRefill.amountCu ?? 0)} CU</dd>
            </div>
            <div>
              <dt>Each batch expires after</dt>
              <dd>{formatCount(autoRefill.expiresInDays)} days</dd>
            </div>
            <div>
              <dt>Refills this period</dt>
              <dd>
                {formatCount(autoRefill.currentPeriod.refillCount)} of at most {formatCount(autoRefill.maxPerPeriod)}
              </dd>
            </div>
          </dl>
        ) : (
          <p data-testid="auto-refill">Off. The platform's backend turns it on (PUT /v1/orgs/{'{orgId}'}/auto-refill).</p>
        )}
      </Panel>
    </div>
  );
}

function PoolCharts() {
  const { api, state, now, navigate } = useDashboard();
  const range = resolveRange(state, now);
  // The pool by the hour for two days or less, else by the day, as the main graph.
  const granularity = daysIn(range) <= 2 ? 'hour' : 'day';
  const query = new URLSearchParams({ startDate: range.startDate, endDate: range.endDate, granularity });
  const surplus = useLoad<SurplusAnswer>(() => api.get('/v1/usage/surplus', query), `surplus:${query}`);
  const consumption = useLoad<Timeseries>(() => api.get('/v1/usage/timeseries', new URLSearchParams({ startDate: range.startDate, endDate: range.endDate, granularity, metric: 'cu' })), `consumption:${query}`);
  return (
    <Panel
      id="pool"
      title="The pool over time"
      busy={surplus.loading || consumption.loading}
      actions={
        <label class="field inline">
          <span>Dates</span>
          <select value={state.range === 'custom' ? 'custom' : state.range} onChange={(event) => navigate({ range: event.currentTarget.value as RangeChoice, from: '', to: '' })}>
            {QUICK_RANGES.map((choice) => (
              <option key={choice} value={choice}>
                {RANGE_LABELS[choice]}
              </option>
            ))}
            {state.range === 'custom' ? <option value="custom">{`${range.startDate} – ${range.endDate}`}</option> : null}
          </select>
        </label>
      }
    >
      <div class="chart-pair">
        {surplus.error ? <ErrorNote error={surplus.error} /> : null}
        {surplus.data ? (
          <SeriesChart
            testId="surplus-chart"
            title="Surplus fluctuation: CU left (UTC)"
            granularity={surplus.data.granularity}
            instants={surplus.data.buckets.map((bucket) => bucket.start)}
            series={[
              { label: 'Top-up (surplus) CU', color: '--warn', values: surplus.data.buckets.map((bucket) => bucket.surplusRemainingCu) },
              { label: 'Allowance CU', color: '--accent', values: surplus.data.buckets.map((bucket) => bucket.allowanceRemainingCu) },
            ]}
          />
        ) : null}
        {consumption.error ? <ErrorNote error={consumption.error} /> : null}
        {consumption.data ? (
          <SeriesChart
            testId="consumption-chart"
            title="Consumption: CU used (UTC)"
            granularity={granularity}
            instants={consumption.data.buckets.map((bucket) => bucket.start)}
            series={[{ label: 'CU used', color: '--accent-2', values: consumption.data.buckets.map((bucket) => bucket.value), bars: true }]}
          />
        ) : null}
      </div>
    </Panel>
  );
}

export function PlanView() {
  return (
    <>
      <Balance />
      <PoolCharts />
    </>
  );
}
