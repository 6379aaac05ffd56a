// Time-series charts on uPlot: bars for usage (hovering one names its job types), lines for the pool. uPlot draws on a
// canvas, so each chart also has its numbers as a table for screen readers and keyboards.

import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatBucket, formatCu, jobTypeLabel } from './format';

export interface BarBucket {
  readonly start: string;
  readonly value: number;
  readonly byJobType: Readonly<Record<string, number>>;
}

function useWidth(element: { current: HTMLElement | null }): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const target = element.current;
    if (!target) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.floor(entry!.contentRect.width)));
    observer.observe(target);
    return () => observer.disconnect();
  }, []);
  return width;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;
const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#3a6ff7';

/** The time axis's labels, in UTC: `11-24 09:00` for hours, `11-24` for days and longer. */
function timeAxis(granularity: string): uPlot.Axis {
  return {
    stroke: cssVar('--muted'),
    values: (_u, splits) => splits.map((split) => {
      const iso = new Date(split * 1000).toISOString();
      return granularity === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(5, 10);
    }),
  };
}

/** uPlot's axis dates in UTC, as every date on the page. */
const utc = (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');

/** A uPlot chart kept in step with its data and width. */
function useUPlot(host: { current: HTMLElement | null }, width: number, options: () => Omit<uPlot.Options, 'width' | 'height'>, data: uPlot.AlignedData, key: string, zoom?: [number, number]) {
  const chart = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!host.current || width === 0) return;
    chart.current?.destroy();
    chart.current = new uPlot({ ...options(), width, height: width < 500 ? 200 : 260 }, data, host.current);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [key, width]);
  useEffect(() => {
    if (chart.current && zoom) chart.current.setScale('x', { min: zoom[0], max: zoom[1] });
  }, [zoom?.[0], zoom?.[1], key, width]);
  return chart;
}

export interface UsageGraphProps {
  readonly buckets: readonly BarBucket[];
  readonly granularity: string;
  readonly metric: 'cu' | 'jobs';
  /** New buckets are on their way: the slider waits for them rather than act on the old. */
  readonly busy: boolean;
  /** The slider's committed window, as the first and last bucket it keeps. */
  onWindow(first: BarBucket, last: BarBucket): void;
}

/** The main graph: a bar per bucket, the hovered one's breakdown by job type, and a slider that narrows the window. */
export function UsageGraph({ buckets, granularity, metric, busy, onWindow }: UsageGraphProps) {
  const host = useRef<HTMLDivElement>(null);
  const width = useWidth(host);
  const [hover, setHover] = useState<number | null>(null);
  const [chosen, setWindow] = useState<[number, number]>([0, Math.max(0, buckets.length - 1)]);
  const key = `${buckets.length}:${buckets[0]?.start}:${granularity}:${metric}:${buckets.map((bucket) => bucket.value).join(',')}`;
  // New data may have fewer buckets than the window chosen on the old: clamp until the reset below lands.
  const end = Math.max(0, buckets.length - 1);
  const window: [number, number] = [Math.min(chosen[0], end), Math.min(chosen[1], end)];
  useEffect(() => setWindow([0, Math.max(0, buckets.length - 1)]), [key]);
  const xs = buckets.map((bucket) => seconds(bucket.start));
  const step = xs.length > 1 ? xs[1]! - xs[0]! : 3600;
  const unit = metric === 'cu' ? 'CU' : 'jobs';
  useUPlot(
    host,
    width,
    () => ({
      tzDate: utc,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [timeAxis(granularity), { stroke: cssVar('--muted'), size: 60 }],
      series: [{}, { label: unit, fill: cssVar('--accent'), stroke: cssVar('--accent'), paths: uPlot.paths.bars!({ size: [0.7, 60] }), points: { show: false } }],
      hooks: { setCursor: [(u) => setHover(u.cursor.idx ?? null)] },
    }),
    [xs, buckets.map((bucket) => bucket.value)],
    key,
    buckets.length > 0 ? [xs[window[0]]! - step / 2, xs[window[1]]! + step / 2] : undefined,
  );
  const hovered = hover === null ? undefined : buckets[hover];
  const last = Math.max(0, buckets.length - 1);
  return (
    <div class="graph">
      <div class="chart" ref={host} data-testid="usage-graph" aria-hidden="true" />
      <div class="hover-breakdown" aria-live="polite" data-testid="hover-breakdown">
        {hovered ? (
          <>
            <strong>{formatBucket(hovered.start, granularity)}</strong>: {formatCu(hovered.value)} {unit}
            <ul>
              {Object.entries(hovered.byJobType)
                .sort((a, b) => b[1] - a[1])
                .map(([jobType, value]) => (
                  <li key={jobType}>
                    {jobTypeLabel(jobType)}: {formatCu(value)} {unit}
                  </li>
                ))}
            </ul>
          </>
        ) : (
          <span class="muted">Hover a bar for its breakdown by job type.</span>
        )}
      </div>
      {buckets.length > 1 ? (
        <div class="slider" role="group" aria-label="Timeline window">
          <WindowEnd label="From" aria="Window start" bucket={buckets[window[0]]!} granularity={granularity} value={window[0]} last={last} busy={busy} place={(index) => [Math.min(index, window[1]), window[1]]} onMove={setWindow} onCommit={([first, final]) => onWindow(buckets[first]!, buckets[final]!)} />
          <WindowEnd label="To" aria="Window end" bucket={buckets[window[1]]!} granularity={granularity} value={window[1]} last={last} busy={busy} place={(index) => [window[0], Math.max(index, window[0])]} onMove={setWindow} onCommit={([first, final]) => onWindow(buckets[first]!, buckets[final]!)} />
        </div>
      ) : null}
      <details class="data-table">
        <summary>The graph's numbers</summary>
        <table>
          <caption class="visually-hidden">Usage per bucket ({unit})</caption>
          <thead>
            <tr>
              <th scope="col">Bucket (UTC)</th>
              <th scope="col" class="num">
                {unit}
              </th>
            </tr>
          </thead>
          <tbody>
            {buckets.map((bucket) => (
              <tr key={bucket.start}>
                <td>{formatBucket(bucket.start, granularity)}</td>
                <td class="num">{formatCu(bucket.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

/**
 * One end of the slider: moving it narrows the chart at once, letting go commits the window. Both work out the window
 * from the input's own value (`place`), never from a render's state that an event in the same task may have outrun.
 */
function WindowEnd(props: {
  label: string;
  aria: string;
  bucket: BarBucket;
  granularity: string;
  value: number;
  last: number;
  busy: boolean;
  place(index: number): [number, number];
  onMove(window: [number, number]): void;
  onCommit(window: [number, number]): void;
}) {
  return (
    <label>
      {props.label} <span class="slider-value">{formatBucket(props.bucket.start, props.granularity)}</span>
      <input
        type="range"
        min={0}
        max={props.last}
        value={props.value}
        aria-label={props.aria}
        disabled={props.busy}
        onInput={(event) => props.onMove(props.place(Number(event.currentTarget.value)))}
        onChange={(event) => props.onCommit(props.place(Number(event.currentTarget.value)))}
      />
    </label>
  );
}

export interface LineSeries {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
  /** Draw as bars rather than a line. */
  readonly bars?: boolean;
}

/** A small chart of one or more series over the same instants (the surplus and consumption charts). */
export function SeriesChart({ title, instants, series, granularity, testId }: { title: string; instants: readonly string[]; series: readonly LineSeries[]; granularity: string; testId: string }) {
  const host = useRef<HTMLDivElement>(null);
  const width = useWidth(host);
  const key = `${instants.join(',')}:${series.map((one) => one.values.join(',')).join('|')}`;
  useUPlot(
    host,
    width,
    () => ({
      tzDate: utc,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [timeAxis(granularity), { stroke: cssVar('--muted'), size: 60 }],
      series: [
        {},
        ...series.map((one) => ({
          label: one.label,
          stroke: cssVar(one.color),
          width: 2,
          ...(one.bars ? { fill: cssVar(one.color), paths: uPlot.paths.bars!({ size: [0.7, 60] }), points: { show: false } } : {}),
        })),
      ],
    }),
    [instants.map(seconds), ...series.map((one) => one.values as (number | null)[])],
    key,
  );
  return (
    <figure class="series-chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div class="chart" ref={host} aria-hidden="true" />
      <details class="data-table">
        <summary>{title}: the numbers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              {series.map((one) => (
                <th scope="col" class="num" key={one.label}>
                  {one.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {instants.map((instant, index) => (
              <tr key={instant}>
                <td>{formatBucket(instant, granularity)}</td>
                {series.map((one) => (
                  <td class="num" key={one.label}>
                    {one.values[index] === null || one.values[index] === undefined ? '–' : formatCu(one.values[index]!)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
