// What every view is given: the API, who is signed in and what they may see, and the URL's view state.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api';
import type { DashboardState } from './filters';

export interface ScopeRow {
  readonly userId?: string;
  readonly projectId?: string;
  readonly keyId?: string;
  readonly role?: string;
  readonly adminOfProjectIds?: readonly string[];
  readonly name: string | null;
  readonly usedCu: number;
  readonly capCu: number | null;
  readonly capSource: 'individual' | 'default' | 'none';
  readonly status: 'ok' | 'warning' | 'reached';
}

export interface Access {
  readonly orgId: string;
  readonly userId: string;
  /** Org admins see the whole org; project admins the projects listed. */
  readonly role: 'org_admin' | 'project_admin';
  readonly projects: readonly ScopeRow[];
}

export interface DashboardContext {
  readonly api: Api;
  readonly access: Access;
  readonly state: DashboardState;
  /** The instant "today" is resolved against, fixed when the state last changed. */
  readonly now: Date;
  /** Changes the view state and the URL with it: a change, or one worked out from the latest state. */
  navigate(change: Partial<DashboardState> | ((current: DashboardState) => Partial<DashboardState>)): void;
}

export const Dashboard = createContext<DashboardContext | null>(null);

export function useDashboard(): DashboardContext {
  return useContext(Dashboard)!;
}

/** Every page of a people listing (a project admin's pages may be short: follow the cursor to the end). */
export async function listAll(api: Api, path: string): Promise<ScopeRow[]> {
  const rows: ScopeRow[] = [];
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({ limit: '1000', ...(cursor ? { cursor } : {}) });
    const page: { items: ScopeRow[]; nextCursor: string | null } = await api.get(path, query);
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return rows;
}
