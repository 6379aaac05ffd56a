// The usage dashboard: sign-in, then the views an org or project admin may open. Everything it shows comes from the
// service's public API with the person's token.

import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createApi } from './api';
import { readConfig, type DashboardConfig } from './config';
import { Dashboard, listAll, type Access } from './context';
import { parseState, stateQuery, VIEWS, type DashboardState, type View } from './filters';
import { completeSignIn, currentSession, signIn, signOut, type Session } from './oidc';
import { PeopleView } from './people-view';
import { PlanView } from './plan-view';
import { UsageView } from './usage-view';
import { ErrorNote } from './widgets';

const VIEW_LABELS: Record<View, string> = { usage: 'Usage', plan: 'Plan', members: 'Members', projects: 'Projects', keys: 'API keys' };
/** Views for org admins only: the pool and the members are the org's. */
const ORG_ADMIN_VIEWS: readonly View[] = ['plan', 'members'];

function SignedOut({ config, problem }: { config: DashboardConfig; problem?: string }) {
  return (
    <main class="centered" id="main">
      <h1>CU Ledger usage dashboard</h1>
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : null}
      <p>Sign in with your organization's account to see its usage.</p>
      <button type="button" class="primary" onClick={() => void signIn(config)}>
        Sign in
      </button>
    </main>
  );
}

/** The seed's answer for contributors and viewers. */
function NoAccess({ session, onSignOut }: { session: Session; onSignOut(): void }) {
  return (
    <main class="centered" id="main">
      <h1>Why don't I see the Dashboard?</h1>
      <p data-testid="no-access">Dashboard access is limited to organization and project admins. Contact your admin if you need access.</p>
      <p class="muted">
        Signed in as {session.userId} in {session.orgId}.
      </p>
      <button type="button" onClick={onSignOut}>
        Sign out
      </button>
    </main>
  );
}

function App({ config, session }: { config: DashboardConfig; session: Session }) {
  const [expired, setExpired] = useState(false);
  const api = useMemo(() => createApi(config.base, () => session.accessToken, () => setExpired(true)), [session]);
  const [access, setAccess] = useState<Access | 'none' | Error | undefined>(undefined);
  const [state, setState] = useState<DashboardState>(() => parseState(location.search));
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const onPop = () => {
      setState(parseState(location.search));
      setNow(new Date());
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    // Who this is: the projects listing answers a project admin with their projects, and refuses contributors and
    // viewers; the members listing is an org admin's alone.
    const org = encodeURIComponent(session.orgId);
    listAll(api, `/v1/orgs/${org}/usage/projects`)
      .then(async (projects) => {
        const orgAdmin = await api.get(`/v1/orgs/${org}/usage/members`, new URLSearchParams({ limit: '1' })).then(
          () => true,
          (error: unknown) => (error instanceof ApiError && error.status === 403 ? false : Promise.reject(error)),
        );
        setAccess({ orgId: session.orgId, userId: session.userId, role: orgAdmin ? 'org_admin' : 'project_admin', projects });
      })
      .catch((error: unknown) => setAccess(error instanceof ApiError && error.status === 403 ? 'none' : (error as Error)));
  }, [api]);
  const leave = () => {
    signOut();
    location.assign(`${config.base}/dashboard`);
  };
  if (expired) return <SignedOut config={config} problem="Your session has ended. Sign in again." />;
  if (access === undefined)
    return (
      <main class="centered" id="main" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  if (access === 'none') return <NoAccess session={session} onSignOut={leave} />;
  if (access instanceof Error)
    return (
      <main class="centered" id="main">
        <ErrorNote error={access} />
      </main>
    );
  // The Plan view waits for its two routes (the plan for people, the surplus series): not offered until they land.
  const views = VIEWS.filter((view) => view !== 'plan' && (access.role === 'org_admin' || !ORG_ADMIN_VIEWS.includes(view)));
  const view = views.includes(state.view) ? state.view : 'usage';
  // From the URL, which always holds the latest state: two changes in one tick (a field's change, then the next
  // field's) each build on the one before, not on the state of the last render.
  const navigate = (change: Partial<DashboardState> | ((current: DashboardState) => Partial<DashboardState>)) => {
    const current = parseState(location.search);
    const next = { ...current, ...(typeof change === 'function' ? change(current) : change) };
    history.pushState(null, '', `${location.pathname}${stateQuery(next)}`);
    setState(next);
    setNow(new Date());
  };
  return (
    <Dashboard.Provider value={{ api, access, state: { ...state, view }, now, navigate }}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>Usage dashboard</h1>
        <p class="who" data-testid="who">
          {access.userId} · {access.orgId} · {access.role === 'org_admin' ? 'Org admin' : `Project admin (${access.projects.map((project) => project.projectId).join(', ')})`}
        </p>
        <button type="button" class="link" onClick={leave}>
          Sign out
        </button>
      </header>
      <nav class="tabs" aria-label="Views">
        {views.map((one) => (
          <a
            key={one}
            href={`${location.pathname}${stateQuery({ ...state, view: one })}`}
            aria-current={one === view ? 'page' : undefined}
            onClick={(event) => {
              event.preventDefault();
              navigate({ view: one });
            }}
          >
            {VIEW_LABELS[one]}
          </a>
        ))}
      </nav>
      <main id="main">
        {view === 'usage' ? <UsageView /> : view === 'plan' ? <PlanView /> : <PeopleView kind={view === 'members' ? 'member' : view === 'projects' ? 'project' : 'api_key'} />}
      </main>
      <footer class="foot">All dates and times are UTC. Numbers are in your browser's locale.</footer>
    </Dashboard.Provider>
  );
}

function Root({ config }: { config: DashboardConfig }) {
  const [session, setSession] = useState<Session | undefined | Error>(() => (location.pathname.endsWith('/callback') ? undefined : currentSession()));
  const [completing, setCompleting] = useState(location.pathname.endsWith('/callback'));
  useEffect(() => {
    if (!completing) return;
    completeSignIn(config).then(
      (done) => {
        setSession(done);
        setCompleting(false);
      },
      (error: Error) => {
        history.replaceState(null, '', `${config.base}/dashboard`);
        setSession(error);
        setCompleting(false);
      },
    );
  }, []);
  if (completing)
    return (
      <main class="centered" id="main" aria-busy="true">
        <p>Signing in…</p>
      </main>
    );
  if (session instanceof Error) return <SignedOut config={config} problem={session.message} />;
  if (!session) return <SignedOut config={config} />;
  return <App config={config} session={session} />;
}

const config = readConfig(document.documentElement);
render(<Root config={config} />, document.getElementById('app')!);
