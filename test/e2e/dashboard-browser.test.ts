// The usage dashboard in a real browser (Debian's chromium, headless, driven by playwright-core) against a local
// runner with the demo data: an org admin's filters, table and cap editing checked against what the API answers for
// the same question, a project admin's narrower view, a contributor turned away; screenshots of every view at
// 1280×800 and 390×844 (test-artifacts/dashboard/), axe-core in the page, the CSP holding, and the page's weight.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoOrg, type DemoSummary } from '../../infra/local/demo-data';
import { DESKTOP, launchBrowser, PHONE, screenshot, signIn } from '../support/browser';
import { client, runnerForSuite, type Json } from '../support/runner-http';

const keyDirectory = mkdtempSync(join(tmpdir(), 'cu-ledger-dashboard-'));
afterAll(() => rmSync(keyDirectory, { recursive: true, force: true }));

const ORG = 'studio';
/** Long enough for a busy machine: a sign-in and a few reads of DynamoDB Local. */
const UI_TIMEOUT = 30_000;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A number as the page shows it in en-US (`1,234.5`). */
const numberOf = (text: string | null) => Number((text ?? '').replace(/[^0-9.-]/g, ''));

describe('the usage dashboard in Chromium', () => {
  const runner = runnerForSuite({ inMemory: true, env: { DEV_ISSUER_KEY_FILE: join(keyDirectory, 'dev-issuer.json') } });
  const call = client(runner);
  let browser: Browser;
  let demo: DemoSummary;
  const contexts: BrowserContext[] = [];
  /** Problems the page reported: CSP violations, uncaught errors. */
  const problems: string[] = [];

  beforeAll(async () => {
    demo = await seedDemoOrg({ url: runner().url, token: runner().token, orgId: ORG });
    // The stream rolls the jobs up within moments; running the jobs drains it first.
    const drained = await call('POST', '/local/jobs/run');
    expect(drained.status, drained.text).toBe(200);
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
  });

  async function open(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'America/Los_Angeles' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    return page;
  }

  /** The access token the page holds, to ask the API the same questions. */
  async function tokenOf(page: Page): Promise<string> {
    return page.evaluate(() => (JSON.parse(sessionStorage.getItem('cu-ledger.session')!) as { accessToken: string }).accessToken);
  }

  async function api(token: string, path: string, query: URLSearchParams): Promise<Json> {
    const reply = await call('GET', `${path}?${query}`, { authorization: `Bearer ${token}` });
    expect(reply.status, reply.text).toBe(200);
    return reply.body;
  }

  /** The page's usage query for its current URL: the dates the page shows and the filters in its address. */
  async function pageQuery(page: Page): Promise<URLSearchParams> {
    const note = page.locator('.range-note');
    const url = new URL(page.url());
    const query = new URLSearchParams();
    if (url.searchParams.get('range') === 'custom') {
      query.set('startDate', url.searchParams.get('from')!);
      query.set('endDate', url.searchParams.get('to')!);
    } else {
      const [startDate, endDate] = (await note.textContent())!.match(/\d{4}-\d{2}-\d{2}/g)!;
      query.set('startDate', startDate!);
      query.set('endDate', endDate!);
    }
    for (const [param, name] of [['project', 'projectId'], ['user', 'userId'], ['jobType', 'jobType']] as const) {
      for (const value of url.searchParams.getAll(param)) query.append(name, value);
    }
    return query;
  }

  /** Every panel of the usage view shows what the API answers for the page's filters. */
  async function expectUsageMatchesApi(page: Page, token: string): Promise<void> {
    const query = await pageQuery(page);
    const totals = await api(token, '/v1/usage/totals', query);
    await expect.poll(async () => numberOf(await page.getByTestId('total-cu').textContent()), { timeout: UI_TIMEOUT }).toBe(totals.totalCU);
    await expect.poll(async () => numberOf(await page.getByTestId('total-jobs').textContent()), { timeout: UI_TIMEOUT }).toBe(totals.totalJobs);
    await expect.poll(() => page.getByTestId('total-job-type').evaluateAll((items) => items.map((item) => item.getAttribute('data-job-type'))), { timeout: UI_TIMEOUT }).toEqual(totals.jobTypes.map((jobType: Json) => jobType.jobType));
    const power = await api(token, '/v1/usage/power-users', new URLSearchParams([...query, ['limit', '10']]));
    await expect.poll(() => page.locator('[data-testid=power-users] li').evaluateAll((items) => items.map((item) => item.getAttribute('data-user-id'))), { timeout: UI_TIMEOUT }).toEqual(power.users.map((user: Json) => user.userId));
    const events = await api(token, '/v1/usage/events', new URLSearchParams([...query, ['sort', 'createdAt'], ['order', 'desc'], ['limit', '25']]));
    await expect.poll(() => page.locator('[data-testid=events-table] tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-event-id'))), { timeout: UI_TIMEOUT }).toEqual(events.items.map((item: Json) => item.eventId));
    // The graph's numbers (its data table) are the timeseries route's buckets for the granularity the range chose.
    const days = (Date.parse(query.get('endDate')!) - Date.parse(query.get('startDate')!)) / 86_400_000 + 1;
    const granularity = days <= 2 ? 'hour' : days <= 62 ? 'day' : days <= 186 ? 'week' : 'month';
    const series = await api(token, '/v1/usage/timeseries', new URLSearchParams([...query, ['metric', 'cu'], ['granularity', granularity]]));
    await expect
      .poll(() => page.locator('.graph .data-table tbody td.num').evaluateAll((cells) => cells.map((cell) => Number(cell.textContent!.replace(/,/g, '')))), { timeout: UI_TIMEOUT })
      .toEqual(series.buckets.map((bucket: Json) => bucket.value));
  }

  async function pick(page: Page, filterId: string, label: string | RegExp): Promise<void> {
    await page.locator(`#${filterId} summary`).click();
    await page.locator(`#${filterId}`).getByLabel(label).check();
    await page.locator(`#${filterId} summary`).click();
  }

  it('an org admin signs in, changes each filter, and every panel shows what the API answers for the same filters', async () => {
    const page = await open(DESKTOP);
    await signIn(page, runner().url, ORG, demo.people.orgAdmin);
    await expect.poll(() => page.getByTestId('who').textContent(), { timeout: UI_TIMEOUT }).toContain('Org admin');
    const token = await tokenOf(page);
    await expectUsageMatchesApi(page, token);
    expect(numberOf(await page.getByTestId('total-cu').textContent())).toBeGreaterThan(0);

    // Dates: a quick range, then a custom one (kept in the URL).
    await page.getByLabel('Dates').selectOption('last30');
    await expect.poll(() => new URL(page.url()).searchParams.get('range')).toBe('last30');
    await expectUsageMatchesApi(page, token);
    await page.getByLabel('Dates').selectOption('custom');
    await page.getByLabel('From (UTC)').fill(demo.firstDay);
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).toBe(demo.firstDay);
    await expectUsageMatchesApi(page, token);
    // Projects, users and job types, each on top of the others.
    await pick(page, 'filter-projects', /^Web/);
    await expect.poll(() => new URL(page.url()).searchParams.getAll('project')).toEqual(['web']);
    await expectUsageMatchesApi(page, token);
    const before = numberOf(await page.getByTestId('total-cu').textContent());
    await pick(page, 'filter-users', demo.people.contributor);
    await expect.poll(() => new URL(page.url()).searchParams.getAll('user')).toEqual([demo.people.contributor]);
    await expectUsageMatchesApi(page, token);
    await pick(page, 'filter-users', demo.people.orgAdmin);
    await expectUsageMatchesApi(page, token);
    const jobType = await page.getByTestId('total-job-type').first().getAttribute('data-job-type');
    await page.locator('#filter-job-types summary').click();
    await page.locator(`#filter-job-types input[value="${jobType}"]`).check();
    await page.locator('#filter-job-types summary').click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll('jobType')).toEqual([jobType]);
    await expectUsageMatchesApi(page, token);
    expect(numberOf(await page.getByTestId('total-cu').textContent())).toBeLessThanOrEqual(before);

    // The view is in the URL: someone who opens the link signs in and lands on the same view.
    const shared = new URL(page.url());
    const second = await open(DESKTOP);
    await signIn(second, runner().url, ORG, demo.people.orgAdmin, `${shared.pathname}${shared.search}`);
    expect(second.url()).toBe(shared.href);
    await expect.poll(() => second.getByTestId('total-cu').textContent(), { timeout: UI_TIMEOUT }).toBe(await page.getByTestId('total-cu').textContent());

    // The activity feed follows the projects and users filters.
    const feedQuery = await pageQuery(page);
    feedQuery.delete('jobType');
    const feed = await api(token, '/v1/activity', new URLSearchParams([...feedQuery, ['limit', '20']]));
    await expect.poll(() => page.locator('[data-testid=activity-feed] li').count(), { timeout: UI_TIMEOUT }).toBe(feed.items.length);

    // Hovering a bar shows its breakdown by job type.
    await page.getByLabel('Dates').selectOption('last30');
    await page.locator('#filter-projects summary').click();
    await page.locator('#filter-projects').getByRole('button', { name: 'Clear' }).click();
    await page.locator('#filter-projects summary').click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll('project')).toEqual([]);
    await expectUsageMatchesApi(page, token);
    const graph = page.getByTestId('usage-graph');
    const box = (await graph.boundingBox())!;
    let shown = '';
    for (let x = box.x + box.width * 0.15; x < box.x + box.width * 0.95 && !/:\s/.test(shown); x += box.width / 40) {
      await page.mouse.move(x, box.y + box.height * 0.8);
      shown = (await page.getByTestId('hover-breakdown').locator('li').allTextContents()).join(' | ');
    }
    expect(shown).toMatch(/: [\d,.]+ CU/);

    // The slider narrows the window: each step of its start moves the dates' first day, and every panel follows.
    const start = (await pageQuery(page)).get('startDate')!;
    const slider = page.getByLabel('Window start');
    for (let step = 1; step <= 3; step += 1) {
      await slider.focus();
      await page.keyboard.press('ArrowRight');
      const expected = new Date(Date.parse(`${start}T00:00:00Z`) + step * 86_400_000).toISOString().slice(0, 10);
      await expect.poll(() => new URL(page.url()).searchParams.get('from'), { timeout: UI_TIMEOUT }).toBe(expected);
      await expect.poll(() => page.locator('[aria-busy="true"]').count(), { timeout: UI_TIMEOUT }).toBe(0);
    }
    expect(new URL(page.url()).searchParams.get('range')).toBe('custom');
    await expectUsageMatchesApi(page, token);
  }, 240_000);

  it("formats numbers in the browser's locale, and dates in UTC whatever the browser's zone", async () => {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'de-DE', timezoneId: 'Asia/Tokyo' });
    contexts.push(context);
    const page = await context.newPage();
    await signIn(page, runner().url, ORG, demo.people.orgAdmin, '/dashboard?range=last30');
    const query = await pageQuery(page);
    const totals = await api(await tokenOf(page), '/v1/usage/totals', query);
    const german = new Intl.NumberFormat('de-DE', { maximumFractionDigits: 3 }).format(totals.totalCU);
    await expect.poll(() => page.getByTestId('total-cu').textContent(), { timeout: UI_TIMEOUT }).toBe(german);
    const events = await api(await tokenOf(page), '/v1/usage/events', new URLSearchParams([...query, ['limit', '25']]));
    await expect.poll(() => page.locator('[data-testid=events-table] tbody tr td:first-child').first().textContent(), { timeout: UI_TIMEOUT }).toBe(`${events.items[0].createdAt.slice(0, 16).replace('T', ' ')} UTC`);
  }, 120_000);

  it('the events table pages 25 rows at a time and sorts by its columns, as the API orders them', async () => {
    const page = await open(DESKTOP);
    await signIn(page, runner().url, ORG, demo.people.orgAdmin, '/dashboard?range=last30');
    const token = await tokenOf(page);
    const query = await pageQuery(page);
    const rows = () => page.locator('[data-testid=events-table] tbody tr').evaluateAll((items) => items.map((item) => item.getAttribute('data-event-id')));
    const first = await api(token, '/v1/usage/events', new URLSearchParams([...query, ['limit', '25']]));
    expect(first.items).toHaveLength(25);
    await expect.poll(rows, { timeout: UI_TIMEOUT }).toEqual(first.items.map((item: Json) => item.eventId));
    // Each row's cells: created, user, amount, request id and endpoint as the API has them.
    const cells = await page.locator('[data-testid=events-table] tbody tr').first().locator('td').allTextContents();
    const top = first.items[0];
    expect(cells[0]).toBe(`${top.createdAt.slice(0, 16).replace('T', ' ')} UTC`);
    expect(cells[1]).toBe(top.userId);
    expect(numberOf(cells[2]!)).toBe(top.amount);
    expect(cells[6]).toBe(top.requestId);
    expect(cells[7]).toBe(top.endpoint);
    await page.getByRole('button', { name: 'Next' }).first().click();
    const second = await api(token, '/v1/usage/events', new URLSearchParams([...query, ['limit', '25'], ['cursor', first.nextCursor]]));
    await expect.poll(rows, { timeout: UI_TIMEOUT }).toEqual(second.items.map((item: Json) => item.eventId));
    await expect.poll(() => page.getByTestId('events-page').textContent()).toBe('Page 2');
    await page.getByRole('button', { name: 'Previous' }).first().click();
    await expect.poll(rows, { timeout: UI_TIMEOUT }).toEqual(first.items.map((item: Json) => item.eventId));

    // Amount, largest first, then smallest first; then by user.
    await page.getByRole('button', { name: /^Amount/ }).click();
    const byAmount = await api(token, '/v1/usage/events', new URLSearchParams([...query, ['sort', 'amount'], ['order', 'desc'], ['limit', '25']]));
    await expect.poll(rows, { timeout: UI_TIMEOUT }).toEqual(byAmount.items.map((item: Json) => item.eventId));
    const amounts = await page.locator('[data-testid=events-table] tbody td[data-amount]').evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-amount'))));
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    expect(await page.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('descending');
    await page.getByRole('button', { name: /^Amount/ }).click();
    const ascending = await api(token, '/v1/usage/events', new URLSearchParams([...query, ['sort', 'amount'], ['order', 'asc'], ['limit', '25']]));
    await expect.poll(rows, { timeout: UI_TIMEOUT }).toEqual(ascending.items.map((item: Json) => item.eventId));
    await page.getByRole('button', { name: /^User ID/ }).click();
    const byUser = await api(token, '/v1/usage/events', new URLSearchParams([...query, ['sort', 'userId'], ['order', 'desc'], ['limit', '25']]));
    await expect.poll(rows, { timeout: UI_TIMEOUT }).toEqual(byUser.items.map((item: Json) => item.eventId));

    // The seed's own filters: the amount range and the I/O type, in the URL and on the API's answer.
    await page.getByRole('button', { name: /^Created/ }).click();
    await page.getByLabel('Min CU').fill('10');
    await page.getByLabel('Min CU').press('Tab');
    await page.getByLabel('Max CU').fill('50');
    await page.getByLabel('Max CU').press('Tab');
    await page.getByLabel('I/O type').selectOption('output');
    await expect.poll(() => [...new URL(page.url()).searchParams].filter(([name]) => ['minCu', 'maxCu', 'ioType'].includes(name))).toEqual([['ioType', 'output'], ['minCu', '10'], ['maxCu', '50']]);
    const filtered = await api(token, '/v1/usage/events', new URLSearchParams([...query, ['minCu', '10'], ['maxCu', '50'], ['ioType', 'output'], ['limit', '25']]));
    await expect.poll(rows, { timeout: UI_TIMEOUT }).toEqual(filtered.items.map((item: Json) => item.eventId));
    for (const item of filtered.items) {
      expect(item.amount).toBeGreaterThanOrEqual(10);
      expect(item.amount).toBeLessThanOrEqual(50);
    }

    // The table as CSV, through the export route: every row the filters let through, in the table's order.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^events-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    const header = csv[0]!.split(',');
    expect(header).toEqual(expect.arrayContaining(['eventId', 'createdAt', 'userId', 'amount', 'requestId', 'endpoint']));
    const ids = csv.slice(1).map((line) => line.split(',')[header.indexOf('eventId')]);
    expect(ids.slice(0, filtered.items.length)).toEqual(filtered.items.map((item: Json) => item.eventId));
  }, 180_000);

  it("an org admin sets a member's cap, and the bar turns amber, then red, as consumes go through", async () => {
    const member = 'mia';
    expect((await call('PUT', `/v1/orgs/${ORG}/members/${member}`, { body: { role: 'contributor' } })).status).toBe(200);
    const page = await open(DESKTOP);
    await signIn(page, runner().url, ORG, demo.people.orgAdmin, '/dashboard?view=members');
    const row = page.locator(`[data-testid=member-table] tr[data-row-id="${member}"]`);
    await row.getByRole('button', { name: `Edit cap of ${member}` }).click();
    await page.getByLabel(`Cap of ${member} (CU)`).fill('100');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => row.locator('.bar-text').textContent(), { timeout: UI_TIMEOUT }).toBe('0 / 100 CU');
    expect(await row.getAttribute('data-status')).toBe('ok');
    const consume = async (requestId: string, cu: number) => {
      const reply = await call('POST', '/v1/meter/consume', { body: { requestId, orgId: ORG, projectId: 'web', userId: member, jobType: 'image_generation', cu } });
      expect(reply.status, reply.text).toBe(200);
    };
    await consume('mia-1', 85);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: UI_TIMEOUT }).toBe('warning');
    expect(await row.locator('.bar-text').textContent()).toContain('85 / 100 CU');
    await screenshot(page, 'members-cap-warning-desktop');
    await consume('mia-2', 15);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: UI_TIMEOUT }).toBe('reached');
    expect(await row.locator('.bar-text').textContent()).toContain('100 / 100 CU');
    // The cap holds: the next job is refused. The change is in the activity feed, made by the person.
    const refused = await call('POST', '/v1/meter/consume', { body: { requestId: 'mia-3', orgId: ORG, projectId: 'web', userId: member, jobType: 'image_generation', cu: 1 } });
    expect(refused.body.error.code).toBe('member_cap_reached');
    const feed = await api(await tokenOf(page), '/v1/activity', new URLSearchParams({ userId: member, limit: '10' }));
    const change = feed.items.find((item: Json) => item.kind === 'member_changed');
    expect(change.actor).toMatchObject({ kind: 'person', id: demo.people.orgAdmin });
    // And the org's default limit, from the same view.
    await page.getByRole('button', { name: 'Edit default limit' }).click();
    await page.getByLabel('Default limit (CU)').fill('500');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('default-limit-value').textContent(), { timeout: UI_TIMEOUT }).toBe('500 CU');
    const members = await call('GET', `/v1/orgs/${ORG}/members?limit=100`);
    const carl = members.body.items.find((item: Json) => item.userId === demo.people.contributor);
    expect(carl).toMatchObject({ capCu: 500, capSource: 'default' });
    await page.getByRole('button', { name: 'Edit default limit' }).click();
    await page.getByRole('button', { name: 'Remove cap' }).click();
    await expect.poll(() => page.getByTestId('default-limit-value').textContent(), { timeout: UI_TIMEOUT }).toBe('none');

    // The members as CSV: one row each, mia's with the cap and status the bar shows.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('members.csv');
    const lines = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('userId,role,adminOfProjectIds,name,usedCu,capCu,capSource,status');
    expect(lines).toContain(`${member},contributor,,,100,100,individual,reached`);
    expect(lines).toHaveLength(1 + members.body.items.length);
  }, 180_000);

  it('a project admin sees only their projects and cannot edit the others', async () => {
    const page = await open(DESKTOP);
    await signIn(page, runner().url, ORG, demo.people.projectAdmin, '/dashboard?range=last30');
    await expect.poll(() => page.getByTestId('who').textContent(), { timeout: UI_TIMEOUT }).toContain('Project admin (web)');
    // No Plan or Members view; the projects filter offers web alone; every total is web's.
    expect(await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents()).toEqual(['Usage', 'Projects', 'API keys']);
    await page.locator('#filter-projects summary').click();
    expect(await page.locator('#filter-projects input[type=checkbox]').evaluateAll((items) => items.map((item) => item.getAttribute('value')))).toEqual(['web']);
    await page.locator('#filter-projects summary').click();
    const token = await tokenOf(page);
    await expectUsageMatchesApi(page, token);
    const query = await pageQuery(page);
    const webOnly = await call('GET', `/v1/usage/totals?${query}&projectId=web`, { authorization: `Bearer ${token}` });
    expect(numberOf(await page.getByTestId('total-cu').textContent())).toBe(webOnly.body.totalCU);
    // Projects: web alone, editable; API keys: none of web's (the CI key is app's).
    await page.getByRole('link', { name: 'Projects' }).click();
    await expect.poll(() => page.locator('[data-testid=project-table] tbody tr[data-row-id]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-row-id'))), { timeout: UI_TIMEOUT }).toEqual(['web']);
    await page.getByRole('button', { name: /Edit cap of/ }).click();
    await page.getByLabel(/Cap of .*web/).fill('5000');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-testid=project-table] tr[data-row-id=web] .bar-text').textContent(), { timeout: UI_TIMEOUT }).toMatch(/\/ 5,000 CU/);
    await page.getByRole('link', { name: 'API keys' }).click();
    await expect.poll(() => page.getByText('No API keys yet.').isVisible(), { timeout: UI_TIMEOUT }).toBe(true);
    // The API refuses what the page does not offer: another project's cap, a member's, the plan.
    for (const [path, body] of [
      [`/v1/orgs/${ORG}/projects/app/cap`, { capCu: 1 }],
      [`/v1/orgs/${ORG}/members/${demo.people.contributor}/cap`, { capCu: 1 }],
      [`/v1/orgs/${ORG}/api-keys/${demo.apiKey}/cap`, { capCu: 1 }],
    ] as const) {
      const status = await page.evaluate(
        async ([url, json, bearer]) => (await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(json) })).status,
        [path, body, token] as const,
      );
      expect(status, path).toBe(403);
    }
    await screenshot(page, 'project-admin-keys-desktop');
  }, 180_000);

  it('a contributor is turned away with the seed\'s answer', async () => {
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      const page = await open(viewport);
      await signIn(page, runner().url, ORG, demo.people.contributor);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: UI_TIMEOUT }).toBe("Why don't I see the Dashboard?");
      expect(await page.getByTestId('no-access').textContent()).toBe('Dashboard access is limited to organization and project admins. Contact your admin if you need access.');
      expect(await page.locator('[data-testid=total-cu]').count()).toBe(0);
      await screenshot(page, `no-access-${size}`);
    }
  }, 120_000);

  it('every view at 1280×800 and 390×844: drawn, screenshotted, and free of serious or critical axe-core violations', async () => {
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      const page = await open(viewport);
      await page.goto(`${runner().url}/dashboard`);
      await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible(), { timeout: UI_TIMEOUT }).toBe(true);
      await screenshot(page, `signed-out-${size}`);
      await signIn(page, runner().url, ORG, demo.people.orgAdmin, '/dashboard?range=last30');
      const views = [
        ['usage', '[data-testid=events-table] tbody tr'],
        ['members', '[data-testid=member-table] tbody tr'],
        ['projects', '[data-testid=project-table] tbody tr'],
        ['keys', '[data-testid=api_key-table] tbody tr'],
      ] as const;
      for (const [view, drawn] of views) {
        await page.goto(`${runner().url}/dashboard?view=${view}&range=last30`);
        await page.locator(drawn).first().waitFor({ state: 'visible' });
        await expect.poll(() => page.locator('[aria-busy="true"]').count(), { timeout: UI_TIMEOUT }).toBe(0);
        // Nothing wider than the screen: the page scrolls down, never sideways (wide tables scroll in their box).
        expect(await page.evaluate('document.documentElement.scrollWidth'), `${view} at ${size}`).toBeLessThanOrEqual(viewport.width);
        if (view === 'usage') expect(await page.locator('canvas').count()).toBeGreaterThan(0);
        await screenshot(page, `${view}-${size}`);
        // axe-core runs in the page; evaluate is not subject to the page's CSP, so the CSP stays as deployed.
        await page.evaluate(AXE_SOURCE);
        const violations = await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations
          .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
          .map((violation) => violation.id + ': ' + violation.nodes.map((node) => node.target.join(' ')).join(', ')))`);
        expect(violations, `${view} at ${size}`).toEqual([]);
      }
    }
  }, 300_000);

  it('keyboard: the views, filters and table controls are reachable and work with Tab and Enter', async () => {
    const page = await open(DESKTOP);
    await signIn(page, runner().url, ORG, demo.people.orgAdmin);
    await page.getByTestId('total-cu').waitFor();
    const focused = () => page.evaluate<string>("document.activeElement.tagName + ':' + (document.activeElement.textContent || '').trim().slice(0, 30)");
    const seen: string[] = [];
    for (let step = 0; step < 40 && !seen.some((one) => one.startsWith('A:Members')); step += 1) {
      await page.keyboard.press('Tab');
      seen.push(await focused());
    }
    expect(seen.some((one) => one.startsWith('A:Members'))).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('view'), { timeout: UI_TIMEOUT }).toBe('members');
    await page.locator('[data-testid=member-table] tbody tr').first().waitFor();
  }, 120_000);

  it('the first load stays under 250 KB gzipped, and the page loads nothing but its own three files', async () => {
    const page = await open(DESKTOP);
    const loaded: string[] = [];
    page.on('request', (request) => {
      if (['document', 'script', 'stylesheet', 'image', 'font'].includes(request.resourceType())) loaded.push(new URL(request.url()).pathname);
    });
    await page.goto(`${runner().url}/dashboard`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(loaded.sort()).toEqual(['/dashboard', '/dashboard/app.css', '/dashboard/app.js']);
    let total = 0;
    for (const path of loaded) {
      const response = await fetch(`${runner().url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      total += gzipSync(Buffer.from(await response.arrayBuffer())).length;
    }
    expect(total).toBeGreaterThan(10_000);
    expect(total).toBeLessThan(250 * 1024);
  }, 60_000);

  it('no page raised an error or broke its Content-Security-Policy in any of these tests', () => {
    expect(problems).toEqual([]);
  });
});
