// A project's, member's or API key's row as the routes answer it: its own id field, its settings, and its usage bar
// for the current period (used / cap, the cap's source, ok / warning / reached).

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

