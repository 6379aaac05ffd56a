// Bundle-size report: each deployed function bundled exactly as the CDK stack bundles it (infra/bundling.ts), its
// minified size, and its cold import time in a fresh Node.js 22 process (median of several). Targets: each bundle
// at most 500 KB, each cold import at most 150 ms. Run with `npm run bench:bundle`; it prints, it never asserts.

import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ANALYTICS_AUTHORIZER, API_AREAS, type DeployedFunction } from '../../infra/api-routes';
import { bundleSettings, REPOSITORY_ROOT } from '../../infra/bundling';
import { BACKGROUND_JOBS } from '../../infra/scheduled-jobs';
import { latencyStats, round, table } from './bench-support';

const run = promisify(execFile);
const SIZE_TARGET_KB = 500;
const IMPORT_TARGET_MS = 150;
const COLD_STARTS = Number(process.env.COLD_STARTS ?? 15);

/** What a fresh process does on a Lambda cold start, minus the runtime's own bootstrap: import the handler module. */
const IMPORT_PROBE = `
const started = performance.now();
await import(process.argv[2]);
process.stdout.write(String(performance.now() - started));
`;

async function main(): Promise<void> {
  if (!process.version.startsWith('v22.')) throw new Error(`Run through npm (the pinned Node 22); this is ${process.version}.`);
  const functions: DeployedFunction[] = [...API_AREAS, ANALYTICS_AUTHORIZER, ...BACKGROUND_JOBS];
  const directory = mkdtempSync(join(tmpdir(), 'cu-ledger-bundles-'));
  const probe = join(directory, 'probe.mjs');
  writeFileSync(probe, IMPORT_PROBE);
  const rows: (string | number)[][] = [];
  try {
    for (const fn of functions) {
      const settings = bundleSettings({ hotPath: fn.hotPath ?? false });
      const outfile = join(directory, fn.name, 'index.mjs');
      await build({
        entryPoints: [join(REPOSITORY_ROOT, fn.entry)],
        outfile,
        bundle: true,
        platform: 'node',
        target: settings.target,
        format: settings.format,
        minify: settings.minify,
        sourcemap: settings.sourcemap,
        sourcesContent: false,
        mainFields: [...settings.mainFields],
        banner: { js: settings.banner },
        external: [...settings.external],
        logLevel: 'warning',
      });
      const bytes = statSync(outfile).size;
      const gzipBytes = gzipSync(readFileSync(outfile)).length;
      const samples: number[] = [];
      for (let i = 0; i < COLD_STARTS; i++) {
        const { stdout } = await run(process.execPath, [probe, pathToFileURL(outfile).href], {
          env: { PATH: process.env.PATH ?? '', TABLE_NAME: 'bench', AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent' },
        });
        samples.push(Number(stdout));
      }
      const stats = latencyStats(samples);
      const kb = round(bytes / 1024, 1);
      rows.push([
        fn.name,
        kb,
        round(gzipBytes / 1024, 1),
        settings.sourcemap ? 'yes' : 'no',
        stats.p50Ms,
        round(Math.max(...samples), 1),
        kb <= SIZE_TARGET_KB && stats.p50Ms <= IMPORT_TARGET_MS ? 'ok' : 'OVER',
      ]);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  console.log(
    table(
      `Lambda bundles (esbuild, minified ESM, Node ${process.version}; cold import = median of ${COLD_STARTS} fresh processes)`,
      ['function', 'size KB', 'gzip KB', 'source map', 'cold import p50 ms', 'max ms', `target ≤${SIZE_TARGET_KB} KB, ≤${IMPORT_TARGET_MS} ms`],
      rows,
    ),
  );
}

await main();
