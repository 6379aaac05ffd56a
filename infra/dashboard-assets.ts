// Builds the usage dashboard's script and stylesheet with esbuild: Preact, uPlot and oauth4webapi bundled and
// minified for current browsers. The local runner builds them in memory at start; the stack builds them at synth and
// bundles them into the dashboard function (a `define`), so the function serves exactly what was built.

import { build, buildSync, type BuildOptions, type OutputFile } from 'esbuild';
import { join } from 'node:path';
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

/** For the CDK app, which synthesizes synchronously. */
export function buildDashboardAssetsSync(): DashboardAssets {
  return assetsOf(buildSync(OPTIONS).outputFiles!);
}
