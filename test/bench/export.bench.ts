// `npm run bench:export`: one org's month export (exportRange) over a large month, against DynamoDB Local and s3rver.
//   1. loads BENCH_EVENTS events (1M by default, or the most that load in BENCH_LOAD_BUDGET_S, 600 s, at least
//      250k) into one org's last calendar month, with the usage bench's loader (event items by BatchWriteItem as the
//      live path stores them, the rollup cells and model names folded in memory);
//   2. runs the export in a child process, so the loader's memory is not counted: the child builds its own stores,
//      exports the month into s3rver and reports its time and its peak RSS (process.resourceUsage().maxRSS).
// Prints a table, then one JSON line with every figure as the last line of stdout. Never fails on speed or memory;
// says whether the peak RSS stayed under the 256 MB target. A quick run: BENCH_EVENTS=20000.

process.env.LOG_LEVEL = 'silent';

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { createS3Client, s3ObjectStore } from '../../shared/adapters/s3/object-store';
import { buildLedgerDependencies } from '../../shared/composition';
import { exportMonthOf, monthTarget } from '../../shared/domain/finance-export';
import { dayOf } from '../../shared/domain/usage-filters';
import type { Clock } from '../../shared/ports/runtime';
import { exportRange } from '../../shared/use-cases/finance-export';
import { ensureLedgerTable, startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { startS3Local } from '../../infra/local/s3-local';
import { provisionOrg } from '../support/provision';
import { findDynamoDbLocalPid, round, sizeFromEnv, table } from './bench-support';
import { loadOrg, PROJECTS } from './event-history';

const TABLE_NAME = 'bench-export';
const ORG_ID = 'org-export-bench';
/** The issue's size, and its floor when that does not load within the budget. */
const SIZES = { target: 1_000_000, floor: 250_000 } as const;
const RSS_TARGET_MB = 256;
/** What the child is told, and answers, through its environment and its last stdout line. */
const CHILD_FLAG = 'BENCH_EXPORT_CHILD';

interface ChildResult {
  readonly exportMs: number;
  readonly eventRows: number;
  readonly bytes: number;
  readonly files: number;
  readonly maxRssMb: number;
}

/** The child: the export alone, on stores of its own, as the finance-export Lambda runs it. */
async function runChild(): Promise<void> {
  const { BENCH_DYNAMODB_ENDPOINT: endpoint, BENCH_S3_ENDPOINT: s3Endpoint, BENCH_BUCKET: bucket, BENCH_MONTH: month } = process.env;
  if (!endpoint || !s3Endpoint || !bucket || !month) throw new Error('the export child needs BENCH_DYNAMODB_ENDPOINT, BENCH_S3_ENDPOINT, BENCH_BUCKET and BENCH_MONTH');
  const { store, clock } = buildLedgerDependencies({ tableName: TABLE_NAME, endpoint });
  const objects = s3ObjectStore(createS3Client({ endpoint: s3Endpoint }), bucket);
  const started = performance.now();
  const manifest = await exportRange(ORG_ID, monthTarget(month), { store, clock, objects });
  const exportMs = performance.now() - started;
  const result: ChildResult = {
    exportMs,
    eventRows: manifest.files.find((file) => file.key.endsWith('events.csv'))?.rows ?? 0,
    bytes: manifest.files.reduce((sum, file) => sum + file.bytes, 0),
    files: manifest.files.length + 1,
    // Kilobytes on Linux.
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runExportChild(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, ...env, [CHILD_FLAG]: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`the export child exited with ${code}: ${last}`));
      else resolve(JSON.parse(last) as ChildResult);
    });
  });
}

async function main(): Promise<void> {
  const wanted = sizeFromEnv('BENCH_EVENTS', SIZES.target)!;
  const budgetS = sizeFromEnv('BENCH_LOAD_BUDGET_S', 600)!;
  // Last month, closed: the export is whole and cut off at the month's end.
  const now = new Date();
  const month = dayOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1))).slice(0, 7);
  const covered = exportMonthOf(month);
  const [dynamoDb, s3] = await Promise.all([startDynamoDbLocal(), startS3Local()]);
  try {
    const client = createDynamoDbClient({ endpoint: dynamoDb.endpoint });
    await ensureLedgerTable(client, TABLE_NAME);
    // The org exists from the day before the month, so the month is one it may export.
    const provisionedAt = new Date(Date.parse(covered.from) - 86_400_000);
    const clock: Clock = { now: () => provisionedAt };
    const deps = buildLedgerDependencies({ tableName: TABLE_NAME, endpoint: dynamoDb.endpoint }, { client, clock });
    await provisionOrg(deps, ORG_ID, { allowanceCu: 1_000_000_000, billingAnchor: dayOf(provisionedAt), projects: Object.fromEntries(PROJECTS.map((project) => [project, null])) });
    const org = await deps.store.getOrg(ORG_ID);
    if (!org) throw new Error(`${ORG_ID} was not provisioned`);

    const load = await loadOrg(
      createDocumentClient(createDynamoDbClient({ endpoint: dynamoDb.endpoint })),
      TABLE_NAME,
      { orgId: ORG_ID, terms: org, fromMs: Date.parse(covered.from), toMs: Date.parse(covered.to) - 1 },
      wanted,
      20261123,
      { startDate: covered.startDate, endDate: covered.endDate },
      { dynamoDbPid: findDynamoDbLocalPid(dynamoDb.port), deadlineS: budgetS, floor: Math.min(wanted, SIZES.floor) },
    );
    process.stderr.write(`[bench] exporting ${month} (${load.events.toLocaleString('en-US')} events) in a child process\n`);
    const result = await runExportChild({ BENCH_DYNAMODB_ENDPOINT: dynamoDb.endpoint, BENCH_S3_ENDPOINT: s3.endpoint, BENCH_BUCKET: s3.bucket, BENCH_MONTH: month });
    const figures = {
      events: load.events,
      loadS: round(load.loadS, 1),
      loadCutShort: load.cutShort,
      exportS: round(result.exportMs / 1000, 2),
      eventsPerS: Math.round(result.eventRows / (result.exportMs / 1000)),
      eventRows: result.eventRows,
      bytes: result.bytes,
      megabytes: round(result.bytes / 1024 / 1024, 1),
      files: result.files,
      childPeakRssMb: round(result.maxRssMb, 1),
      rssUnderTarget: result.maxRssMb < RSS_TARGET_MB,
    };
    process.stdout.write(
      `${table(`Export of ${month}: one org, exportRange in a child process, DynamoDB Local -> s3rver`, ['events', 'load s', 'export s', 'events/s', 'bytes written', 'files', 'child peak RSS MB', `< ${RSS_TARGET_MB} MB`], [
        [figures.events, figures.loadS, figures.exportS, figures.eventsPerS, `${figures.bytes} (${figures.megabytes} MB)`, figures.files, figures.childPeakRssMb, figures.rssUnderTarget],
      ])}\n`,
    );
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await Promise.all([dynamoDb.stop(), s3.stop()]);
  }
}

if (process.env[CHILD_FLAG] === '1') await runChild();
else await main();
