// Page cursors: the LastEvaluatedKey of a query, as base64url JSON. A cursor must hold exactly that query's key
// attributes and stay inside the query's partition: a cursor from another org, or a made-up one, is refused.

import { invalidCursor } from '../../domain/errors';
import type { TableQuery } from './ledger-table';

export function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

/** A string DynamoDB accepts as a key value: not empty, at most 1,024 bytes (the sort-key limit). */
function isKeyValue(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value, 'utf8') <= 1024;
}

/** The ExclusiveStartKey a cursor stands for in `query`; undefined for the first page. */
export function decodeCursor(cursor: string | null, query: Pick<TableQuery, 'cursorAttributes' | 'cursorBelongs'>): Record<string, unknown> | undefined {
  if (cursor === null) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const valid =
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    Object.keys(key).length === query.cursorAttributes.length &&
    query.cursorAttributes.every((attribute) => isKeyValue((key as Record<string, unknown>)[attribute])) &&
    query.cursorBelongs(key as Record<string, string>);
  if (!valid) throw invalidCursor();
  return key as Record<string, unknown>;
}
