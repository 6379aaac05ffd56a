// The openapi Lambda: the API's OpenAPI document, to anyone (it holds no data). `npm run openapi` generates it from
// every area's route schemas into openapi.json beside this file (infra/openapi-document.ts), so this function bundles
// that JSON and none of the areas' code.

import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler, type Routes } from '../../shared/http/lambda';
import { publicRoute } from '../../shared/http/routes';
import openApiJson from './openapi.json';

/** Serialised once per instance, not per request. */
const DOCUMENT_RESPONSE = jsonResponse(200, openApiJson);

export const openApiRoutes: Routes<unknown> = {
  'GET /v1/openapi.json': publicRoute(async () => DOCUMENT_RESPONSE, { summary: 'This document: the OpenAPI 3.1 description of the whole API' }),
};

export const handler = areaHandler(openApiRoutes, () => undefined);
