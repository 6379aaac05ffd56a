// The dashboard Lambda: the usage dashboard's page and its two assets, on the Analytics API without an authorizer
// (they hold no data; the page reads the API with the person's token). The stack builds the assets at synth and puts
// them beside this bundle (`app.js`, `app.css`); the OIDC settings come from the stack's context as environment.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { servePage, settingsFromEnv, type DashboardAssets, type DashboardSettings } from './dashboard-page';

/**
 * The path the API is served under, from what the gateway says of the request: the execute-api URL names the stage
 * (`requestContext.path` `/api/dashboard` for `path` `/dashboard`), a custom domain does not.
 */
export function basePathOf(event: Pick<APIGatewayProxyEvent, 'path' | 'requestContext'>): string {
  const full = event.requestContext.path ?? event.path;
  return full.endsWith(event.path) ? full.slice(0, full.length - event.path.length).replace(/\/+$/, '') : '';
}

export function createDashboardHandler(load: () => { assets: DashboardAssets; settings: DashboardSettings }) {
  let loaded: ReturnType<typeof load> | undefined;
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    loaded ??= load();
    const answer = servePage({ method: event.httpMethod, path: event.path, base: basePathOf(event) }, loaded.assets, loaded.settings);
    return { statusCode: answer.statusCode, headers: { ...answer.headers }, body: event.httpMethod === 'HEAD' ? '' : answer.body };
  };
}

const here = dirname(fileURLToPath(import.meta.url));

export const handler = createDashboardHandler(() => ({
  assets: { 'app.js': readFileSync(join(here, 'app.js'), 'utf8'), 'app.css': readFileSync(join(here, 'app.css'), 'utf8') },
  settings: settingsFromEnv(process.env),
}));
