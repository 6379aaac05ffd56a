// CSV for spreadsheets and finance tools: a header row, then rows as they are read. Text cells are spreadsheet-safe:
// one starting with `=`, `+`, `-`, `@` (or a tab or carriage return) would run as a formula when opened, so it gets
// a leading apostrophe. Numbers stay numbers (a refund's negative amount is a number, not a formula).

import { stringify } from 'csv-stringify/sync';

const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell as text: formulas neutralised, absent values empty. */
export function safeCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = String(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Rows as CSV lines (RFC 4180 quoting), in the columns' order; with `header`, the column names first. */
export function csvLines(columns: readonly string[], rows: readonly Readonly<Record<string, unknown>>[], header: boolean): string {
  const records = rows.map((row) => columns.map((column) => safeCell(row[column])));
  return stringify(header ? [columns.map(safeCell), ...records] : records, { eof: true, record_delimiter: 'unix' });
}

/**
 * A CSV body that streams: the header with the first batch (read before anything is sent, so a store that cannot
 * answer still gets its own status), then each batch as it arrives. No rows: the header alone.
 */
export async function* csvStream(columns: readonly string[], batches: AsyncIterable<readonly Readonly<Record<string, unknown>>[]>): AsyncGenerator<string> {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  yield csvLines(columns, first.done ? [] : first.value, true);
  if (first.done) return;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    if (next.value.length > 0) yield csvLines(columns, next.value, false);
  }
}
