// The CDK CLI synthesizes offline, bundling every function with the local esbuild (no Docker), and cfn-lint accepts
// the templates where it is installed.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_AREAS } from '../../infra/api-routes';
import { REPOSITORY_ROOT } from '../../infra/bundling';

const run = promisify(execFile);
const output = mkdtempSync(join(tmpdir(), 'cu-ledger-synth-'));
const cfnLint = await run('sh', ['-c', 'command -v cfn-lint']).then(
  () => true,
  () => false,
);
let stderr = '';

beforeAll(async () => {
  // No Docker on PATH and no AWS credentials: bundling must be local and nothing may need an account.
  const result = await run(join(REPOSITORY_ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', '--output', output], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', CDK_DOCKER: 'docker-is-not-here' },
    maxBuffer: 16 * 1024 * 1024,
  });
  stderr = result.stderr;
}, 180_000);

afterAll(() => rmSync(output, { recursive: true, force: true }));

function template(stack: string): any {
  return JSON.parse(readFileSync(join(output, `CuLedger-dev-${stack}.template.json`), 'utf8'));
}

describe('npx cdk synth', () => {
  it('writes both stacks', () => {
    expect(stderr).toContain('Successfully synthesized');
    expect(existsSync(join(output, 'CuLedger-dev-Stateful.template.json'))).toBe(true);
    expect(existsSync(join(output, 'CuLedger-dev-Stateless.template.json'))).toBe(true);
  });

  it('bundles each function into one minified ESM file, with a source map everywhere but the hot path', () => {
    const functions = Object.values(template('Stateless').Resources as Record<string, any>).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(API_AREAS.length);
    for (const fn of functions) {
      const asset = join(output, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      const files = readdirSync(asset).sort();
      const hotPath = API_AREAS.find((area) => `cu-ledger-dev-${area.name}` === fn.Properties.FunctionName)!.hotPath ?? false;
      expect(files).toEqual(hotPath ? ['index.mjs'] : ['index.mjs', 'index.mjs.map']);
      const code = readFileSync(join(asset, 'index.mjs'), 'utf8');
      expect(code.length / code.split('\n').length).toBeGreaterThan(2000); // minified: few, very long lines
      expect(code).toContain('createRequire');
    }
  });

  it.skipIf(!cfnLint)('passes cfn-lint', async () => {
    const templates = readdirSync(output).filter((file) => file.endsWith('.template.json')).map((file) => join(output, file));
    // W3005: CDK adds DependsOn for a role the function already references; redundant, harmless, and not ours to drop.
    const result = await run('cfn-lint', ['--ignore-checks', 'W3005', '--', ...templates]).then(
      () => ({ code: 0, out: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});
