// Builds the usage dashboard's script and stylesheet with esbuild: Preact, uPlot and oauth4webapi bundled and
// minified for current browsers. The local runner builds them in memory at start; the stack's bundling of the
// dashboard function runs this file to write them beside the function's code.

import { build, type BuildOptions, type OutputFile } from 'esbuild';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardAssets } from '../functions/dashboard/dashboard-page';
import { REPOSITORY_ROOT } from './bundling';

const WEB_ROOT = join(REPOSITORY_ROOT, 'functions', 'dashboard', 'web');

const OPTIONS: BuildOptions = {
  entryPoints: [
    { in: join(WEB_ROOT, 'main.tsx'), out: 'app' },
    { in: join(WEB_ROOT, 'styles.css'), out: 'app' },
  ],
  outdir: '/dashboard',
  bundle: true,
  minify: true,
  write: false,
  format: 'iife',
  target: ['chrome111', 'firefox115', 'safari16.4', 'edge111'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  tsconfig: join(WEB_ROOT, 'tsconfig.json'),
  logLevel: 'silent',
};

function assetsOf(files: readonly OutputFile[]): DashboardAssets {
  const named = (suffix: string) => {
    const file = files.find((one) => one.path.endsWith(suffix));
    if (!file) throw new Error(`The dashboard build made no ${suffix}.`);
    return file.text;
  };
  return { 'app.js': named('/app.js'), 'app.css': named('/app.css') };
}

export async function buildDashboardAssets(): Promise<DashboardAssets> {
  return assetsOf((await build(OPTIONS)).outputFiles!);
}


/** `tsx infra/dashboard-assets.ts --out <dir>`: the stack's bundling writes the assets beside the dashboard function. */
async function main(): Promise<void> {
  const out = process.argv[process.argv.indexOf('--out') + 1];
  if (!process.argv.includes('--out') || !out) throw new Error('Usage: tsx infra/dashboard-assets.ts --out <directory>');
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(await buildDashboardAssets())) writeFileSync(join(out, name), text);
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
