// Demo data for the dashboard: `npm run demo:data` (with a runner up) provisions an org with three projects, four
// members of every role, an API key, a top-up and three weeks of jobs, spread over those weeks with the runner's
// settable clock (then the clock goes back to the system's). The same data seeds the dashboard's browser tests.
//
//   SERVICE_TOKEN=dev-token npm run demo:data -- --org demo      # API defaults to http://127.0.0.1:$PORT (8787)

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface DemoOptions {
  readonly url: string;
  readonly token: string;
  readonly orgId: string;
  /** The days of jobs before today (default 20); the org is provisioned the day before the first. */
  readonly days?: number;
}

export interface DemoSummary {
  readonly orgId: string;
  readonly consumes: number;
  readonly totalCu: number;
  readonly people: Readonly<Record<'orgAdmin' | 'projectAdmin' | 'contributor' | 'viewer', string>>;
  readonly projects: readonly string[];
  readonly apiKey: string;
  readonly firstDay: string;
}

const PROJECTS = ['web', 'app', 'research'] as const;
const JOBS = [
  { jobType: 'image_generation', modelId: 'gpt-image-2', modelName: 'GPT Image 2', assetKind: 'image', endpoint: '/v1/generate/image', cu: [2, 12] },
  { jobType: 'video_generation', modelId: 'seedance-2', modelName: 'Seedance 2.0', assetKind: 'video', endpoint: '/v1/generate/video', cu: [20, 60] },
  { jobType: 'model_training', modelId: 'flux-lora', modelName: 'Flux LoRA', assetKind: undefined, endpoint: '/v1/models/train', cu: [40, 90] },
  { jobType: 'upscale', modelId: 'upscale-4x', modelName: 'Upscale 4x', assetKind: 'image', endpoint: '/v1/tools/upscale', cu: [1, 4] },
  { jobType: 'background_removal', modelId: 'bg-remove', modelName: 'Background removal', assetKind: 'image', endpoint: '/v1/tools/remove-background', cu: [0.5, 2] },
] as const;

/** A small deterministic generator, so the demo and the tests see the same data every time. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

export async function seedDemoOrg(options: DemoOptions): Promise<DemoSummary> {
  const { url, token, orgId } = options;
  const days = options.days ?? 20;
  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = await response.json().catch(() => null);
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  }
  const people = { orgAdmin: 'olga', projectAdmin: 'pat', contributor: 'carl', viewer: 'vera' } as const;
  const apiKey = 'apiu_ci_bot';
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const firstDay = today - days * 86_400_000;
  const provisionedAt = new Date(firstDay - 86_400_000);
  const random = generator(orgId.split('').reduce((sum, char) => sum * 31 + char.charCodeAt(0), 7) % 100_000);
  let consumes = 0;
  let totalMilli = 0;
  try {
    await call('PUT', '/local/clock', { at: new Date(provisionedAt.getTime() + 9 * 3_600_000).toISOString() });
    await call('PUT', `/v1/orgs/${orgId}`, { name: `${orgId} studio`, plan: { name: 'studio', allowanceCu: 2500 }, billingAnchor: provisionedAt.toISOString().slice(0, 10) });
    for (const projectId of PROJECTS) await call('PUT', `/v1/orgs/${orgId}/projects/${projectId}`, { name: projectId[0]!.toUpperCase() + projectId.slice(1) });
    await call('PUT', `/v1/orgs/${orgId}/members/${people.orgAdmin}`, { role: 'org_admin' });
    await call('PUT', `/v1/orgs/${orgId}/members/${people.projectAdmin}`, { role: 'project_admin', adminOfProjectIds: ['web'] });
    await call('PUT', `/v1/orgs/${orgId}/members/${people.contributor}`, { role: 'contributor' });
    await call('PUT', `/v1/orgs/${orgId}/members/${people.viewer}`, { role: 'viewer' });
    await call('PUT', `/v1/orgs/${orgId}/members/dana`, { role: 'contributor' });
    await call('PUT', `/v1/orgs/${orgId}/api-keys/${apiKey}`, { projectId: 'app', name: 'CI bot' });
    const users = [people.orgAdmin, people.projectAdmin, people.contributor, 'dana', apiKey];
    for (let day = 0; day < days; day += 1) {
      if (day === 6) {
        await call('PUT', '/local/clock', { at: new Date(firstDay + day * 86_400_000 + 8 * 3_600_000).toISOString() });
        await call('POST', `/v1/orgs/${orgId}/top-ups`, { purchaseId: `buy-${orgId}-1`, cu: 1500, expiresAt: new Date(today + 60 * 86_400_000).toISOString() });
      }
      const jobs = 3 + Math.floor(random() * 6);
      for (let index = 0; index < jobs; index += 1) {
        const at = firstDay + day * 86_400_000 + (9 + Math.floor(random() * 10)) * 3_600_000 + Math.floor(random() * 3_600_000);
        const job = JOBS[Math.floor(random() * JOBS.length)]!;
        const userId = users[Math.floor(random() * users.length)]!;
        const projectId = userId === apiKey ? 'app' : PROJECTS[Math.floor(random() * PROJECTS.length)]!;
        const milli = Math.round((job.cu[0] + random() * (job.cu[1] - job.cu[0])) * 2) * 500;
        await call('PUT', '/local/clock', { at: new Date(at).toISOString() });
        await call('POST', '/v1/meter/consume', {
          requestId: `${orgId}-job-${day}-${index}`,
          orgId,
          projectId,
          userId,
          jobType: job.jobType,
          cu: milli / 1000,
          modelId: job.modelId,
          modelName: job.modelName,
          ...(job.assetKind ? { assetKind: job.assetKind, assetCount: 1 + Math.floor(random() * 4) } : {}),
          resourceType: 'compute',
          ioType: random() < 0.8 ? 'output' : 'input',
          endpoint: job.endpoint,
        });
        consumes += 1;
        totalMilli += milli;
      }
    }
  } finally {
    await call('PUT', '/local/clock', { reset: true });
  }
  return { orgId, consumes, totalCu: totalMilli / 1000, people, projects: PROJECTS, apiKey, firstDay: new Date(firstDay).toISOString().slice(0, 10) };
}

async function main(): Promise<void> {
  const orgFlag = process.argv.indexOf('--org');
  const orgId = orgFlag > 0 ? process.argv[orgFlag + 1] : 'demo';
  const token = process.env.SERVICE_TOKEN;
  const url = process.env.API ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  if (!token || !orgId) {
    console.error('Set SERVICE_TOKEN (the runner\'s), and optionally API or PORT; --org <orgId> names the org (default demo).');
    process.exit(2);
  }
  const summary = await seedDemoOrg({ url, token, orgId });
  console.log(`Seeded ${summary.orgId}: ${summary.consumes} jobs, ${summary.totalCu} CU since ${summary.firstDay}, projects ${summary.projects.join(', ')}.`);
  console.log(`Open ${url}/dashboard and sign in to org ${summary.orgId} as ${summary.people.orgAdmin} (org admin), ${summary.people.projectAdmin} (project admin of web) or ${summary.people.contributor} (contributor: turned away).`);
}

const startedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (startedDirectly) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
