// Numbers in the browser's locale, dates in UTC and labelled so.

const cuFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
const countFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percentFormat = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });

export function formatCu(value: number): string {
  return cuFormat.format(value);
}

export function formatCount(value: number): string {
  return countFormat.format(value);
}

export function formatPercent(ratio: number): string {
  return percentFormat.format(ratio);
}

/** `2026-05-03 10:00 UTC` */
export function formatInstant(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `2026-05-03` (a UTC day) */
export function formatDay(iso: string): string {
  return iso.slice(0, 10);
}

/** A bucket's label for its granularity: hours with their time, the rest by their first day. */
export function formatBucket(iso: string, granularity: string): string {
  return granularity === 'hour' ? formatInstant(iso) : `${formatDay(iso)}${granularity === 'day' ? '' : ` (${granularity})`}`;
}

/** A job type as people read it: `video_generation` → `Video generation`. */
export function jobTypeLabel(jobType: string): string {
  const words = jobType.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
