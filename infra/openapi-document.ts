// The service's OpenAPI document: every area of the registry with its routes' docs. `npm run openapi` writes it to
// functions/openapi/openapi.json, which the openapi function bundles and serves; a unit test fails while that file
// differs from what the route schemas generate.
//
// Why a file, not a function that generates at run time: the document spans every area, and a function that imported
// every area's route map would bundle every area's code. The JSON is small; the areas are not.

import { writeFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminRoutes } from '../functions/admin/admin.handler';
import { analyticsRoutes } from '../functions/analytics/analytics.handler';
import { exportRoutes } from '../functions/analytics/export.handler';
import { analyticsKeyRoutes } from '../functions/analytics/analytics-keys.handler';
import { financeExportRoutes } from '../functions/exports/finance-exports.handler';
import { alertRoutes } from '../functions/alerts/alerts.handler';
import { peopleAdminRoutes } from '../functions/people-admin/people-admin.handler';
import { meterRoutes } from '../functions/meter/meter.handler';
import { openApiRoutes } from '../functions/openapi/openapi.handler';
import packageJson from '../package.json';
import { API_AREAS, type ApiArea } from './api-routes';
import { REPOSITORY_ROOT } from './bundling';
import { openApiDocument, type DocumentedArea } from './openapi';

export const OPENAPI_JSON_FILE = join(REPOSITORY_ROOT, 'functions/openapi/openapi.json');

/** Each area's route map, by area name: the registry names the route keys, the routes carry their docs. */
export const ROUTE_MAPS: Readonly<Record<string, DocumentedArea['routes']>> = {
  meter: meterRoutes,
  admin: adminRoutes,
  analytics: analyticsRoutes,
  export: exportRoutes,
  'analytics-keys': analyticsKeyRoutes,
  'finance-exports': financeExportRoutes,
  alerts: alertRoutes,
  'people-admin': peopleAdminRoutes,
  openapi: openApiRoutes,
};

/** The document of `areas` (the deployed registry unless told otherwise): exactly their route keys, in their order. */
export function serviceOpenApiDocument(areas: readonly ApiArea[] = API_AREAS): Record<string, unknown> {
  const documented = areas.map((area): DocumentedArea => {
    const routes = ROUTE_MAPS[area.name];
    if (!routes) throw new Error(`Area ${area.name} has no route map in infra/openapi-document.ts (ROUTE_MAPS).`);
    return {
      name: area.name,
      auth: area.auth,
      routes: Object.fromEntries(
        area.routeKeys.map((routeKey) => {
          const route = routes[routeKey];
          if (!route) throw new Error(`${routeKey} of area ${area.name} is not in its route map.`);
          return [routeKey, route];
        }),
      ),
    };
  });
  return openApiDocument(documented, {
    title: 'CU Ledger',
    version: packageJson.version,
    description: 'Usage metering and spend control in Compute Units (CU) for AI content platforms. Generated from the route schemas (npm run openapi); the README explains the rules behind each answer.',
  });
}

/** The file's exact text: stable key order and indentation, so a diff of it shows an API change and nothing else. */
export function openApiJsonText(document: Record<string, unknown> = serviceOpenApiDocument()): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

const startedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (startedDirectly) {
  writeFileSync(OPENAPI_JSON_FILE, openApiJsonText());
  console.log(`Wrote ${OPENAPI_JSON_FILE}`);
}
