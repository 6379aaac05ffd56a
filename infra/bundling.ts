// How every Lambda is bundled, in one place: the CDK stack and `npm run bench:bundle` build with these settings.
// The AWS SDK is bundled too (not taken from the runtime), so the deployed code runs the versions the tests ran.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** ESM output still meets CommonJS dependencies that call `require`; this gives them one. */
const REQUIRE_SHIM = "import{createRequire}from'node:module';const require=createRequire(import.meta.url);";

export interface BundleSettings {
  readonly target: 'node22';
  readonly format: 'esm';
  readonly minify: true;
  readonly sourcemap: boolean;
  readonly mainFields: readonly string[];
  readonly banner: string;
  readonly external: readonly string[];
}

/** Source maps cost cold-start time and bundle size, so the metering hot path goes without them. */
export function bundleSettings(options: { hotPath: boolean }): BundleSettings {
  return {
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: !options.hotPath,
    mainFields: ['module', 'main'],
    banner: REQUIRE_SHIM,
    external: [],
  };
}
