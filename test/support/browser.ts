// A real browser for the dashboard's tests: Debian's chromium (apt-get install chromium; `.ci/run` installs it when
// missing), driven headless by playwright-core. Nothing downloads a browser of its own.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './runner-process';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((path): path is string => Boolean(path));

export function chromiumPath(): string {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error(`No Chromium at ${CANDIDATES.join(', ')}: apt-get install chromium (or set CHROMIUM_PATH).`);
  return found;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Where screenshots go: test artifacts, kept out of git. */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Signs in through the dashboard's button and the dev issuer's screen: the org, then the member. */
export async function signIn(page: Page, runnerUrl: string, orgId: string, userId: string, path = '/dashboard'): Promise<void> {
  await page.goto(`${runnerUrl}${path}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Org id').fill(orgId);
  await page.getByRole('button', { name: 'Show its members' }).click();
  await page.getByLabel(new RegExp(`^\\s*${userId} \\(`)).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/dashboard');
}
