// End to end: `npm start` runs s3rver with the export bucket, POST /local/exports writes an org's month there, and
// the AWS CLI (`--endpoint-url`, as the README shows) reads back exactly the bytes the manifest's checksums name; the
// on-demand route's request, the monthly export on the 1st and a period's close are run by the runner in the
// background.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { client, runnerForSuite, successfulCalls } from '../support/runner-http';

describe('finance exports through the local runner', () => {
  const runner = runnerForSuite({ inMemory: true, env: { JOB_INTERVAL_SECONDS: '86400' } });
  const call = client(runner);
  const ok = successfulCalls(call);

  /** The s3rver endpoint and bucket the runner printed. */
  function exportsAt(): { endpoint: string; bucket: string } {
    const match = /Exports \(s3rver\) at (\S+), bucket (\S+)/.exec(runner().output());
    expect(match, runner().output()).not.toBeNull();
    return { endpoint: match![1]!, bucket: match![2]! };
  }

  function awsCliGet(endpoint: string, bucket: string, key: string): Buffer {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: 'us-east-1' };
    return execFileSync('aws', ['s3', 'cp', `s3://${bucket}/${key}`, '-', '--endpoint-url', endpoint], { env, maxBuffer: 16 * 1024 * 1024 });
  }

  it('POST /v1/orgs/{orgId}/exports answers 202, and the runner runs the export in the background', async () => {
    await ok('PUT', '/local/clock', { at: '2026-04-02T09:00:00Z' });
    await ok('PUT', '/v1/orgs/books', { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-04-01' });
    await ok('POST', '/v1/meter/consume', { requestId: 'j1', orgId: 'books', projectId: 'web', userId: 'ana', jobType: 'upscale', cu: 1.5 });
    await ok('PUT', '/local/clock', { at: '2026-05-01T01:00:00Z' });
    const reply = await call('POST', '/v1/orgs/books/exports', { body: { month: '2026-04' } });
    expect(reply.status, reply.text).toBe(202);
    const { exportId } = reply.body;
    await vi.waitFor(
      async () => expect((await ok('GET', '/v1/orgs/books/exports')).items).toContainEqual(expect.objectContaining({ exportId, status: 'done', manifest: expect.objectContaining({ month: '2026-04', partial: false }) })),
      { timeout: 30_000, interval: 200 },
    );
  });

  it("exports last month for every org once the runner's clock reaches the 1st and its jobs run", async () => {
    const orgs = ['atlas', 'zephyr'];
    await ok('PUT', '/local/clock', { at: '2026-06-03T09:00:00Z' });
    for (const [index, orgId] of orgs.entries()) {
      await ok('PUT', `/v1/orgs/${orgId}`, { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-06-03' });
      await ok('POST', '/v1/meter/consume', { requestId: `m${index}`, orgId, projectId: 'web', userId: 'ana', jobType: 'upscale', cu: index + 1 });
    }
    await ok('POST', '/local/jobs/run');
    // Nothing is due before the month ends.
    for (const orgId of orgs) expect((await ok('GET', `/v1/orgs/${orgId}/exports`)).items).toEqual([]);

    await ok('PUT', '/local/clock', { at: '2026-07-01T00:20:00Z' });
    await ok('POST', '/local/jobs/run');
    for (const orgId of orgs) {
      await vi.waitFor(
        async () => {
          const months = (await ok('GET', `/v1/orgs/${orgId}/exports`)).items.filter((item: { kind?: string }) => item.kind !== 'period');
          expect(months).toEqual([expect.objectContaining({ month: '2026-06', status: 'done', manifest: expect.objectContaining({ orgId, month: '2026-06', partial: false }) })]);
          const usage = months[0].manifest.files.find((file: { key: string }) => file.key === `exports/${orgId}/2026-06/usage.json`);
          expect(usage, orgId).toBeDefined();
        },
        { timeout: 30_000, interval: 200 },
      );
      const events = (await ok('GET', `/v1/orgs/${orgId}/exports`)).items.find((item: { month: string }) => item.month === '2026-06').manifest.files.find((file: { key: string }) => file.key.endsWith('events.csv'));
      expect(events, orgId).toMatchObject({ key: `exports/events/org_id=${orgId}/month=2026-06/events.csv`, rows: 1 });
    }

    // A second run the same day requests nothing again: July is not due until August.
    const again = await ok('POST', '/local/jobs/run');
    expect(again.runs.find((run: { job: string }) => run.job === 'monthly-export')).toEqual({ job: 'monthly-export', handled: 0 });
  }, 120_000);

  it("exports each org's billing period when its reset or an upgrade closes it (BillingPeriodReset, BillingPeriodRestarted)", async () => {
    // atlas and zephyr are anchored on the 3rd: their first period closes on July 3rd.
    await ok('PUT', '/local/clock', { at: '2026-07-03T00:20:00Z' });
    await ok('POST', '/local/jobs/run');
    for (const orgId of ['atlas', 'zephyr']) {
      await vi.waitFor(
        async () =>
          expect((await ok('GET', `/v1/orgs/${orgId}/exports`)).items).toContainEqual(
            expect.objectContaining({
              kind: 'period',
              period: { start: '2026-06-03T00:00:00.000Z', end: '2026-07-03T00:00:00.000Z' },
              status: 'done',
              manifest: expect.objectContaining({ orgId, period: { start: '2026-06-03T00:00:00.000Z', end: '2026-07-03T00:00:00.000Z' } }),
            }),
          ),
        { timeout: 30_000, interval: 200 },
      );
    }

    // An upgrade closes the period early (BillingPeriodRestarted): exported from its start to the upgrade's instant.
    await ok('PUT', '/local/clock', { at: '2026-07-10T12:00:00Z' });
    await ok('PUT', '/v1/orgs/atlas/plan', { name: 'max', allowanceCu: 500, change: 'upgrade' });
    await ok('POST', '/local/jobs/run');
    await vi.waitFor(
      async () =>
        expect((await ok('GET', '/v1/orgs/atlas/exports')).items).toContainEqual(
          expect.objectContaining({ kind: 'period', period: { start: '2026-07-03T00:00:00.000Z', end: expect.stringMatching(/^2026-07-10T12:00:0\d\.\d{3}Z$/) }, status: 'done' }),
        ),
      { timeout: 30_000, interval: 200 },
    );
  }, 120_000);

  it('lands the files in the local bucket, readable with the AWS CLI, matching the manifest', async () => {

    // The AWS CLI's calls come last: a pause that long would let the runner close the client's idle connection.
    const manifest = await ok('POST', '/local/exports', { orgId: 'books', month: '2026-04' });
    expect(manifest).toMatchObject({ orgId: 'books', month: '2026-04', partial: false });

    const { endpoint, bucket } = exportsAt();
    for (const file of manifest.files as { key: string; bytes: number; sha256: string }[]) {
      const bytes = awsCliGet(endpoint, bucket, file.key);
      expect(bytes.length, file.key).toBe(file.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), file.key).toBe(file.sha256);
    }
    const events = awsCliGet(endpoint, bucket, 'exports/events/org_id=books/month=2026-04/events.csv').toString('utf8');
    expect(events.split('\n')[1]).toMatch(/^2026-04-02T09:00:\d{2}\.\d{3}Z,ana,1\.5,/);
    expect(JSON.parse(awsCliGet(endpoint, bucket, 'exports/books/2026-04/manifest.json').toString('utf8'))).toEqual(manifest);
  }, 120_000);
});
