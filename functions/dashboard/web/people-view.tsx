// Members, Projects and API keys (seed 001): each row's usage bar, and cap editing by the rules of mayEditCap: an
// org admin sets, raises or removes any cap and the org's default limit; a project admin the caps of their projects.

import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';
import { listAll, useDashboard, type ScopeRow } from './context';
import { formatCu } from './format';
import { ErrorNote, Panel, useLoad, UsageBar } from './widgets';

type Kind = 'member' | 'project' | 'api_key';

const KIND: Record<Kind, { title: string; path: string; idOf(row: ScopeRow): string; capPath: string; noun: string }> = {
  member: { title: 'Members', path: 'members', idOf: (row) => row.userId!, capPath: 'members', noun: 'member' },
  project: { title: 'Projects', path: 'projects', idOf: (row) => row.projectId!, capPath: 'projects', noun: 'project' },
  api_key: { title: 'API keys', path: 'api-keys', idOf: (row) => row.keyId!, capPath: 'api-keys', noun: 'API key' },
};

const ROLE_LABELS: Record<string, string> = { org_admin: 'Org admin', project_admin: 'Project admin', contributor: 'Contributor', viewer: 'Viewer' };

/** How often the bars refresh by themselves, so that usage shows as it happens. */
const REFRESH_MS = 15_000;

function CapForm({ label, current, onSave, onCancel }: { label: string; current: number | null; onSave(capCu: number | null): Promise<void>; onCancel(): void }) {
  const [value, setValue] = useState(current === null ? '' : String(current));
  const [problem, setProblem] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const save = async (capCu: number | null) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await onSave(capCu);
    } catch (error) {
      setProblem(error as Error);
      setBusy(false);
    }
  };
  return (
    <form
      class="cap-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim() === '' || Number.isNaN(Number(value))) return setProblem(new Error('Enter a number of CU, or remove the cap.'));
        void save(Number(value));
      }}
    >
      <label class="field">
        <span>{label}</span>
        <input type="number" min="0" step="any" inputMode="decimal" value={value} required autoFocus onInput={(event) => setValue(event.currentTarget.value)} />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Save
      </button>
      <button type="button" disabled={busy || current === null} onClick={() => void save(null)}>
        Remove cap
      </button>
      <button type="button" class="link" onClick={onCancel}>
        Cancel
      </button>
      {problem ? <ErrorNote error={problem} /> : null}
    </form>
  );
}

function DefaultLimit({ rows, onChanged }: { rows: readonly ScopeRow[]; onChanged(): void }) {
  const { api, access } = useDashboard();
  // What the last change answered, else what a member without a cap of their own draws on (no route reads the
  // org's default limit for people yet: with every member capped, it shows as none).
  const [saved, setSaved] = useState<number | null | undefined>(undefined);
  const current = saved !== undefined ? saved : (rows.find((row) => row.capSource === 'default')?.capCu ?? null);
  const [editing, setEditing] = useState(false);
  return (
    <div class="default-limit" data-testid="default-limit">
      <p>
        <strong>Default usage limit</strong> (every member and API key without a cap of their own):{' '}
        <span data-testid="default-limit-value">{current === null ? 'none' : `${formatCu(current)} CU`}</span>{' '}
        {!editing ? (
          <button type="button" onClick={() => setEditing(true)}>
            Edit default limit
          </button>
        ) : null}
      </p>
      {editing ? (
        <CapForm
          label="Default limit (CU)"
          current={current}
          onCancel={() => setEditing(false)}
          onSave={async (capCu) => {
            const answer: { defaultLimitCu: number | null } = await api.put(`/v1/orgs/${encodeURIComponent(access.orgId)}/default-limit/cap`, { capCu });
            setSaved(answer.defaultLimitCu);
            setEditing(false);
            onChanged();
          }}
        />
      ) : null}
    </div>
  );
}

export function PeopleView({ kind }: { kind: Kind }) {
  const { api, access } = useDashboard();
  const spec = KIND[kind];
  const org = encodeURIComponent(access.orgId);
  const rows = useLoad(() => listAll(api, `/v1/orgs/${org}/usage/${spec.path}`), kind);
  const [editing, setEditing] = useState<string | undefined>();
  const [download, setDownload] = useState<Error | undefined>();
  useEffect(() => {
    const timer = setInterval(() => editing === undefined && rows.reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [editing, kind]);
  // The seed's rules, as the API enforces them (mayEditCap): the page only hides what would be refused.
  const mayEdit = (row: ScopeRow) => access.role === 'org_admin' || (kind === 'project' && access.projects.some((project) => project.projectId === row.projectId));
  return (
    <Panel
      id={`people-${kind}`}
      title={spec.title}
      busy={rows.loading}
      actions={
        <>
          <button type="button" onClick={() => rows.reload()}>
            Refresh
          </button>
          <button
            type="button"
            onClick={() => {
              setDownload(undefined);
              api.download(`/v1/orgs/${org}/usage/${spec.path}.csv`, undefined, `${spec.path}.csv`).catch((error: Error) => setDownload(error));
            }}
          >
            Download CSV
          </button>
        </>
      }
    >
      {download ? <ErrorNote error={download} /> : null}
      {kind === 'member' && access.role === 'org_admin' ? <DefaultLimit rows={rows.data ?? []} onChanged={() => rows.reload()} /> : null}
      {rows.error ? <ErrorNote error={rows.error} /> : null}
      <p class="muted small">Usage this billing period. Bars turn amber from 80 % of the cap and red at 100 %.</p>
      <div class="table-scroll">
        <table class="people" data-testid={`${kind}-table`}>
          <thead>
            <tr>
              <th scope="col">{kind === 'member' ? 'Member' : kind === 'project' ? 'Project' : 'Key'}</th>
              {kind === 'member' ? <th scope="col">Role</th> : null}
              {kind === 'api_key' ? <th scope="col">Project</th> : null}
              <th scope="col">Usage</th>
              <th scope="col">Cap</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(rows.data ?? []).map((row) => {
              const id = spec.idOf(row);
              const name = row.name ? `${row.name} (${id})` : id;
              return [
                <tr key={id} data-row-id={id} data-status={row.status}>
                  <th scope="row">{name}</th>
                  {kind === 'member' ? <td>{ROLE_LABELS[row.role ?? ''] ?? row.role}</td> : null}
                  {kind === 'api_key' ? <td>{row.projectId}</td> : null}
                  <td>
                    <UsageBar usedCu={row.usedCu} capCu={row.capCu} status={row.status} label={`${name}: usage this period`} />
                  </td>
                  <td>{row.capCu === null ? 'No cap' : `${formatCu(row.capCu)} CU${row.capSource === 'default' ? ' (default)' : ''}`}</td>
                  <td>
                    {mayEdit(row) ? (
                      <button type="button" aria-expanded={editing === id} aria-label={`Edit cap of ${name}`} onClick={() => setEditing(editing === id ? undefined : id)}>
                        Edit cap
                      </button>
                    ) : null}
                  </td>
                </tr>,
                editing === id ? (
                  <tr key={`${id}-edit`} class="edit-row">
                    <td colSpan={kind === 'project' ? 4 : 5}>
                      <CapForm
                        label={`Cap of ${name} (CU)`}
                        current={row.capSource === 'individual' ? row.capCu : null}
                        onCancel={() => setEditing(undefined)}
                        onSave={async (capCu) => {
                          await api.put(`/v1/orgs/${org}/${spec.capPath}/${encodeURIComponent(id)}/cap`, { capCu });
                          setEditing(undefined);
                          rows.reload();
                        }}
                      />
                    </td>
                  </tr>
                ) : null,
              ];
            })}
          </tbody>
        </table>
      </div>
      {rows.data && rows.data.length === 0 ? <p class="muted">No {spec.noun}s yet.</p> : null}
    </Panel>
  );
}

