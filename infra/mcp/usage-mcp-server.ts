// `npm run mcp`: the MCP usage server (issue 11; seed 003's tip) on stdio, for ad-hoc questions about an org's usage
// from an MCP client. Each tool asks one Analytics API route over HTTP(S) with an org analytics key, so it never sees
// more than the key can; its description and input schema are the route's own doc and query schema.
// A client tool a person runs, not a Lambda: it lives in infra/ beside the other scripts, never in a bundle.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/mini';
import { REPEATABLE_PARAMETERS } from '../../functions/analytics/usage-query';
import { usageRoutes } from '../../functions/analytics/usage-routes';
import packageJson from '../../package.json';
import { FIELD_NOTES } from '../openapi';
import {
  AnalyticsApiConfigError,
  AnalyticsApiError,
  KEY_VARIABLE,
  SECRET_VARIABLE,
  URL_VARIABLE,
  analyticsApiConfig,
  getWithKey,
  type AnalyticsApiConfig,
} from './analytics-api-client';

export const USAGE = `Usage: ${URL_VARIABLE}=https://api.example.com ${KEY_VARIABLE}=<analytics key id> ${SECRET_VARIABLE}=<its secret> npm run --silent mcp`;

/** Each tool and the Analytics API route it asks. */
export const USAGE_TOOLS = {
  usage_summary: 'GET /v1/usage',
  usage_timeseries: 'GET /v1/usage/timeseries',
  usage_breakdown: 'GET /v1/usage/breakdown',
  power_users: 'GET /v1/usage/power-users',
  usage_events: 'GET /v1/usage/events',
} as const;

const WINDOW_NOTE = 'Dates are UTC days, inclusive; without startDate and endDate, the last 30 days up to today.';

/** A server whose tools read the Analytics API with the key in `config`; connect it to a transport to serve. */
export function createUsageMcpServer(config: AnalyticsApiConfig): McpServer {
  describeSharedFields();
  const server = new McpServer({ name: 'cu-ledger-usage', version: packageJson.version });
  for (const [name, routeKey] of Object.entries(USAGE_TOOLS)) {
    const doc = usageRoutes[routeKey]?.doc;
    if (!doc?.query) throw new Error(`${routeKey} (tool ${name}) is not a usage route with a query schema.`);
    const path = routeKey.replace(/^GET /, '');
    server.registerTool(
      name,
      {
        description: `${doc.summary}. ${WINDOW_NOTE}`,
        // The SDK lists it as JSON Schema (zod's own) and validates every call with it before the handler runs.
        inputSchema: doc.query,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async (args) => answerOf(() => getWithKey(config, path, queryOf(args as Record<string, unknown>))),
    );
  }
  return server;
}

/**
 * The validated arguments as the route reads its query string: a repeatable filter repeated
 * (`projectId=a&projectId=b`), any other list (`groupBy`, parsed into dimensions) joined by commas again.
 */
export function queryOf(args: Record<string, unknown>): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined) continue;
    if (Array.isArray(value) && REPEATABLE_PARAMETERS.has(name)) value.forEach((item) => query.append(name, String(item)));
    else query.append(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  return query;
}

/** The API's answer as a tool result (JSON text, and the object itself); its error as a tool error naming code and field. */
async function answerOf(ask: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    const body = await ask();
    const structured = typeof body === 'object' && body !== null && !Array.isArray(body) ? { structuredContent: body as Record<string, unknown> } : {};
    return { content: [{ type: 'text', text: JSON.stringify(body) }], ...structured };
  } catch (error) {
    if (!(error instanceof AnalyticsApiError)) throw error;
    return { isError: true, content: [{ type: 'text', text: error.message }], ...(error.body ? { structuredContent: error.body } : {}) };
  }
}

/**
 * The formats and notes OpenAPI gives the shared fields (a date is YYYY-MM-DD), for the tools' JSON Schema too. The
 * SDK writes it with zod's global registry, so they go there; only in this process, never in a Lambda bundle.
 */
function describeSharedFields(): void {
  for (const [schema, note] of FIELD_NOTES) z.globalRegistry.add(schema, note);
}

async function main(): Promise<void> {
  let config: AnalyticsApiConfig;
  try {
    config = analyticsApiConfig(process.env);
  } catch (error) {
    if (!(error instanceof AnalyticsApiConfigError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  await createUsageMcpServer(config).connect(new StdioServerTransport());
  // stdout carries JSON-RPC alone; anything for people goes to stderr.
  console.error(`CU Ledger usage MCP server on stdio: ${config.baseUrl} with analytics key ${config.keyId}`);
}

const startedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (startedDirectly) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
