// How the API shows a project, member or API key with its usage bar for the current period: the service's admin
// listing and writes, the people's listing on the Analytics API (JSON and CSV) and their cap writes share these rows.

import * as z from 'zod/mini';
import { toCu } from '../domain/compute-units';
import { MEMBER_ROLES } from '../domain/permissions';
import type { ScopeKind } from '../ports/ledger-records';
import type { ScopeView } from '../use-cases/usage-views';
import { cuOrNull } from './log-rows';

/** A project, member or API key: its own id field (an API key's row names its project too), usage and cap. */
export const scopeAnswer = z.object({
  projectId: z.optional(z.nullable(z.string())),
  userId: z.optional(z.string()),
  keyId: z.optional(z.string()),
  role: z.optional(z.nullable(z.enum(MEMBER_ROLES))),
  adminOfProjectIds: z.optional(z.array(z.string())),
  name: z.nullable(z.string()),
  usedCu: z.number(),
  capCu: z.nullable(z.number()),
  capSource: z.enum(['individual', 'default', 'none']),
  status: z.enum(['ok', 'warning', 'reached']),
});

const SCOPE_ID_FIELD: Record<ScopeKind, string> = { project: 'projectId', member: 'userId', api_key: 'keyId' };

export function scopeRow(view: ScopeView): z.output<typeof scopeAnswer> {
  const { record } = view;
  return {
    [SCOPE_ID_FIELD[record.kind]]: record.id,
    ...(record.kind === 'member' ? { role: record.role, adminOfProjectIds: [...record.adminOfProjectIds] } : {}),
    ...(record.kind === 'api_key' ? { projectId: record.projectId } : {}),
    name: record.name,
    usedCu: toCu(view.usedMilli),
    capCu: cuOrNull(view.capMilli),
    capSource: view.capSource,
    status: view.status,
  };
}

const BAR_COLUMNS = ['name', 'usedCu', 'capCu', 'capSource', 'status'] as const;

/** The CSV columns of each kind's listing: the JSON row's fields, in this order. */
export const SCOPE_CSV_COLUMNS: Record<ScopeKind, readonly string[]> = {
  member: ['userId', 'role', 'adminOfProjectIds', ...BAR_COLUMNS],
  project: ['projectId', ...BAR_COLUMNS],
  api_key: ['keyId', 'projectId', ...BAR_COLUMNS],
};

/** The JSON row as a CSV row: a member's administered projects in one cell, separated by spaces. */
export function scopeCsvRow(view: ScopeView): Record<string, unknown> {
  const row: Record<string, unknown> = scopeRow(view);
  return Array.isArray(row.adminOfProjectIds) ? { ...row, adminOfProjectIds: row.adminOfProjectIds.join(' ') } : row;
}
