// Page cursors: the LastEvaluatedKey of a query, as base64url JSON. A cursor must hold exactly that query's key
// attributes and stay inside the query's partition: a cursor from another org, or a made-up one, is refused. A query
// bound to filters binds its cursors to them too: a cursor made under other filters is refused.

import { invalidCursor } from '../../domain/errors';
import type { TableQuery } from './ledger-table';

type CursorQuery = Pick<TableQuery, 'cursorAttributes' | 'cursorBelongs' | 'cursorBinding'>;

export function encodeCursor(key: Record<string, unknown> | undefined, query?: Pick<TableQuery, 'cursorBinding'>): string | null {
  if (!key) return null;
  const token = query?.cursorBinding === undefined ? key : { key, binding: query.cursorBinding };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** A string DynamoDB accepts as a key value: not empty, at most 1,024 bytes (the sort-key limit). */
function isKeyValue(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value, 'utf8') <= 1024;
}

/** The ExclusiveStartKey a cursor stands for in `query`; undefined for the first page. */
export function decodeCursor(cursor: string | null, query: CursorQuery): Record<string, unknown> | undefined {
  if (cursor === null) return undefined;
  let token: unknown;
  try {
    token = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    token = undefined;
  }
  const key = query.cursorBinding === undefined ? token : boundKey(token, query.cursorBinding);
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

/** The key of a bound cursor, if it was made under the same binding. */
function boundKey(token: unknown, binding: string): unknown {
  if (typeof token !== 'object' || token === null || Array.isArray(token)) return undefined;
  const { key, binding: madeUnder, ...rest } = token as Record<string, unknown>;
  return madeUnder === binding && Object.keys(rest).length === 0 ? key : undefined;
}
