// The CDK CLI synthesizes offline, bundling every function with the local esbuild (no Docker), and cfn-lint accepts
// the templates where it is installed.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { ANALYTICS_AUTHORIZER, API_AREAS, DASHBOARD } from '../../infra/api-routes';
import { dashboardHtml } from '../../functions/dashboard/dashboard-page';
import { REPOSITORY_ROOT } from '../../infra/bundling';
import { buildCuLedger } from '../../infra/cu-ledger-app';
import { BACKGROUND_JOBS } from '../../infra/scheduled-jobs';
import { CDK_CONTEXT, TEST_CUSTOM_DOMAIN_CONTEXT, TEST_JWT_CONTEXT, TEST_SERVICE_CALLERS_CONTEXT } from '../support/cdk-app';
import { EVERY_KIND } from './fixtures/registries';

const run = promisify(execFile);
const output = mkdtempSync(join(tmpdir(), 'cu-ledger-synth-'));
const fixtureOutput = mkdtempSync(join(tmpdir(), 'cu-ledger-synth-fixtures-'));
const oneHostOutput = mkdtempSync(join(tmpdir(), 'cu-ledger-synth-one-host-'));
/** The Lambda bundle-size budget (npm run bench:bundle reports the figures). */
const BUNDLE_LIMIT_BYTES = 500 * 1024;
/**
 * The finance export job bundles the S3 client and its multipart upload: more code, loaded once per export, off
 * every request's path.
 */
const BUNDLE_LIMITS_BY_FUNCTION: Readonly<Record<string, number>> = { 'cu-ledger-dev-finance-export': 800 * 1024 };
/** The Analytics API, and its authorizer, come with the first analytics route. */
const hasAnalyticsRoutes = API_AREAS.some((area) => area.auth === 'analytics' && area.routeKeys.length > 0);
const DEPLOYED_FUNCTIONS = [...API_AREAS, ...BACKGROUND_JOBS, ...(hasAnalyticsRoutes ? [ANALYTICS_AUTHORIZER, DASHBOARD] : [])];
/** The identity provider, which every deployment must name, and the backend's roles, as `-c` options. */
const CONTEXT_OPTIONS = Object.entries({ ...TEST_JWT_CONTEXT, ...TEST_SERVICE_CALLERS_CONTEXT }).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
const cfnLint = await run('sh', ['-c', 'command -v cfn-lint']).then(
  () => true,
  () => false,
);
if (!cfnLint) console.warn('cfn-lint is not installed: the synth test skips linting the templates.');
/** What the CLI printed. It writes to stdout when CI=true and to stderr otherwise, so both are kept. */
let printed = '';

beforeAll(async () => {
  // No Docker on PATH and no AWS credentials: bundling must be local and nothing may need an account.
  const result = await run(join(REPOSITORY_ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', ...CONTEXT_OPTIONS, '--output', output], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', CDK_DOCKER: 'docker-is-not-here' },
    maxBuffer: 16 * 1024 * 1024,
  });
  printed = result.stdout + result.stderr;
}, 180_000);

afterAll(() => {
  rmSync(output, { recursive: true, force: true });
  rmSync(fixtureOutput, { recursive: true, force: true });
  rmSync(oneHostOutput, { recursive: true, force: true });
});

function template(stack: string): any {
  return JSON.parse(readFileSync(join(output, `CuLedger-dev-${stack}.template.json`), 'utf8'));
}

describe('npx cdk synth', () => {
  it('stops on a bad or missing context value with one line naming each key, not a stack trace', async () => {
    // No identity provider (the bare `npx cdk synth` of a new deployer) and a bad retention.
    const failed = await run(join(REPOSITORY_ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', '-c', 'logRetentionDays=31', '--output', mkdtempSync(join(tmpdir(), 'cu-ledger-bad-context-'))], {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
    }).then(
      () => undefined,
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );

    expect(failed, 'the synth must fail').toBeDefined();
    const lines = failed!.split('\n').filter((line) => line.includes('logRetentionDays') || line.includes('jwt'));
    expect(lines).toEqual([
      expect.stringMatching(/^Invalid CDK context "jwtIssuer": is required.*; context "jwtAudience": is required.*; context "logRetentionDays": must be a CloudWatch Logs retention/),
    ]);
    expect(failed).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  }, 120_000);

  it('writes both stacks', () => {
    expect(printed).toContain('Successfully synthesized');
    expect(existsSync(join(output, 'CuLedger-dev-Stateful.template.json'))).toBe(true);
    expect(existsSync(join(output, 'CuLedger-dev-Stateless.template.json'))).toBe(true);
  });

  it("hands the backend's roles given to -c as one comma-separated string to the service functions, as a JSON array", () => {
    const functions = Object.values(template('Stateless').Resources as Record<string, any>).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    const meter = functions.find((fn) => fn.Properties.FunctionName === 'cu-ledger-dev-meter');
    expect(meter.Properties.Environment.Variables.SERVICE_CALLER_ARNS).toBe(JSON.stringify(TEST_SERVICE_CALLERS_CONTEXT.serviceCallerArns.split(',')));
    expect(printed).not.toContain('serviceCallerArnsUnset');
  });

  it('bundles each function into one minified ESM file, with a source map everywhere but the hot path', () => {
    const functions = Object.values(template('Stateless').Resources as Record<string, any>).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(DEPLOYED_FUNCTIONS.length);
    for (const fn of functions) {
      const asset = join(output, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      const files = readdirSync(asset).sort();
      const hotPath = DEPLOYED_FUNCTIONS.find((spec) => `cu-ledger-dev-${spec.name}` === fn.Properties.FunctionName)!.hotPath ?? false;
      const spec = DEPLOYED_FUNCTIONS.find((one) => `cu-ledger-dev-${one.name}` === fn.Properties.FunctionName)!;
      // The dashboard's bundle also holds the page's script and stylesheet, built at synth.
      const assets = 'bundlesDashboardAssets' in spec && spec.bundlesDashboardAssets ? ['app.css', 'app.js'] : [];
      expect(files).toEqual([...assets, ...(hotPath ? ['index.mjs'] : ['index.mjs', 'index.mjs.map'])]);
      if (assets.length > 0) expect(readFileSync(join(asset, 'app.js'), 'utf8')).toContain('cu-ledger.session');
      const code = readFileSync(join(asset, 'index.mjs'), 'utf8');
      // Minified: the banner, the source-map comment, and the code on few, very long lines (a job stub is one short line).
      // (The dashboard's page is a template of its own lines, which stay lines.)
      const templateLines = assets.length > 0 ? dashboardHtml('', { issuer: 'https://x', clientId: 'x', scope: 'x', audience: '', orgClaim: 'x' }).split('\n').length : 0;
      expect(code.trimEnd().split('\n').length).toBeLessThanOrEqual(3 + templateLines + code.length / 2000);
      expect(code).toContain('createRequire');
      expect(statSync(join(asset, 'index.mjs')).size, fn.Properties.FunctionName).toBeLessThanOrEqual(BUNDLE_LIMITS_BY_FUNCTION[fn.Properties.FunctionName] ?? BUNDLE_LIMIT_BYTES);
    }
  });

  it.skipIf(!cfnLint)('passes cfn-lint, for today, for every kind of route, job and grant, and for one host', async () => {
    // The fixtures' functions are not bundled (their templates do not depend on it); their resources are what counts.
    const unbundled = (outdir: string, context: Record<string, unknown> = {}) =>
      new App({ outdir, context: { ...CDK_CONTEXT, ...TEST_JWT_CONTEXT, ...TEST_SERVICE_CALLERS_CONTEXT, ...context, 'aws:cdk:bundling-stacks': [] } });
    const fixtures = unbundled(fixtureOutput);
    buildCuLedger(fixtures, EVERY_KIND);
    fixtures.synth();
    const oneHost = unbundled(oneHostOutput, TEST_CUSTOM_DOMAIN_CONTEXT);
    buildCuLedger(oneHost);
    oneHost.synth();
    const templates = [output, fixtureOutput, oneHostOutput].flatMap((directory) =>
      readdirSync(directory).filter((file) => file.endsWith('.template.json')).map((file) => join(directory, file)),
    );
    expect(templates).toHaveLength(6);
    // W3005: CDK adds DependsOn for a role the function already references; redundant, harmless, and not ours to drop.
    const result = await run('cfn-lint', ['--ignore-checks', 'W3005', '--', ...templates]).then(
      () => ({ code: 0, out: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});
