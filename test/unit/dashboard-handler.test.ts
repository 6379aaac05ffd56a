// The dashboard Lambda as API Gateway's REST API invokes it: the page under the stage's path (execute-api URL) or
// none (a custom domain), its two files, and nothing else.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { basePathOf, createDashboardHandler } from '../../functions/dashboard/dashboard.handler';

const ASSETS = { 'app.js': 'console.log("app")', 'app.css': 'body{margin:0}' };
const SETTINGS = { issuer: 'https://login.example.com/', clientId: 'spa', scope: 'openid', audience: '', orgClaim: 'org_id' };

function restEvent(method: string, path: string, requestPath: string): APIGatewayProxyEvent {
  return { httpMethod: method, path, resource: path, requestContext: { path: requestPath, stage: 'api' } } as unknown as APIGatewayProxyEvent;
}

describe('the dashboard handler', () => {
  it('finds the base path: the stage on an execute-api URL, none on a custom domain', () => {
    expect(basePathOf(restEvent('GET', '/dashboard', '/api/dashboard'))).toBe('/api');
    expect(basePathOf(restEvent('GET', '/dashboard/callback', '/api/dashboard/callback'))).toBe('/api');
    expect(basePathOf(restEvent('GET', '/dashboard', '/dashboard'))).toBe('');
    expect(basePathOf(restEvent('GET', '/dashboard', '/elsewhere'))).toBe('');
  });

  it('answers the page with its files under the base path, the files themselves, and 404 for anything else', async () => {
    let loads = 0;
    const handler = createDashboardHandler(() => {
      loads += 1;
      return { assets: ASSETS, settings: SETTINGS };
    });
    const page = await handler(restEvent('GET', '/dashboard', '/api/dashboard'));
    expect(page.statusCode).toBe(200);
    expect(page.headers!['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script defer src="/api/dashboard/app.js"></script>');
    expect(page.body).toContain('data-base="/api"');
    expect(page.headers!['content-security-policy']).toContain("connect-src 'self' https://login.example.com");
    const script = await handler(restEvent('GET', '/dashboard/app.js', '/api/dashboard/app.js'));
    expect([script.statusCode, script.body, script.headers!['content-type']]).toEqual([200, ASSETS['app.js'], 'text/javascript; charset=utf-8']);
    const head = await handler(restEvent('HEAD', '/dashboard/app.css', '/dashboard/app.css'));
    expect([head.statusCode, head.body, head.headers!['content-type']]).toEqual([200, '', 'text/css; charset=utf-8']);
    expect((await handler(restEvent('GET', '/dashboard/index.mjs', '/api/dashboard/index.mjs'))).statusCode).toBe(404);
    expect((await handler(restEvent('POST', '/dashboard', '/api/dashboard'))).statusCode).toBe(405);
    // The files and settings are read once per instance.
    expect(loads).toBe(1);
  });
});
