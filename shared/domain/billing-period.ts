// Monthly billing periods anchored on a day of the month (UTC). An anchor past the end of a short month
// falls on that month's last day, so an org anchored on the 31st resets on Feb 28/29, Apr 30, ...

export interface BillingPeriod {
  /** First day of the period, `YYYY-MM-DD`; also the key under which the period's usage is counted. */
  readonly start: string;
  /** First day of the next period, `YYYY-MM-DD` (exclusive end). */
  readonly end: string;
  readonly startsAt: Date;
  readonly resetsAt: Date;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a strict `YYYY-MM-DD` calendar date; undefined for anything else (including Feb 30). */
export function parseIsoDate(text: string): { year: number; month: number; day: number } | undefined {
  const match = ISO_DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The anchored start of the period that begins in the given month (month is 1-12 and may overflow). */
function anchoredStart(year: number, month: number, anchorDay: number): Date {
  const normalized = new Date(Date.UTC(year, month - 1, 1));
  const y = normalized.getUTCFullYear();
  const m = normalized.getUTCMonth() + 1;
  return new Date(Date.UTC(y, m - 1, Math.min(anchorDay, daysInMonth(y, m))));
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The billing period, for an org anchored on `billingAnchor` (`YYYY-MM-DD`), that contains the instant `at`. */
export function billingPeriodAt(billingAnchor: string, at: Date): BillingPeriod {
  const anchor = parseIsoDate(billingAnchor);
  if (!anchor) throw new RangeError(`invalid billing anchor: ${billingAnchor}`);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth() + 1;
  let startsAt = anchoredStart(year, month, anchor.day);
  let monthOfStart = month;
  if (startsAt.getTime() > at.getTime()) {
    monthOfStart = month - 1;
    startsAt = anchoredStart(year, monthOfStart, anchor.day);
  }
  const resetsAt = anchoredStart(year, monthOfStart + 1, anchor.day);
  return { start: isoDate(startsAt), end: isoDate(resetsAt), startsAt, resetsAt };
}
