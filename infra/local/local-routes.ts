// The local runner's own routes, under /local: its clock, a manual run of the scheduled jobs, and the events the jobs
// published. LOCAL ONLY: API Gateway on AWS has no such routes. They take the same service token as the rest.
//
//   GET  /local/clock             -> { now }
//   PUT  /local/clock             <- { "at": "<ISO instant>" } | { "advanceSeconds": n } | { "reset": true }  -> { now }
//   POST /local/jobs/run          -> { runs: [JobRunSummary, ...] }  (drains the stream, runs the jobs, drains again)
//   GET  /local/events/published  -> { items: PublishedEvent[] }  (oldest first)
//   POST /local/exports           <- { "orgId": "...", "month": "YYYY-MM" }  -> the manifest (the export, run now)
//   GET  /local/dead-letters      -> { items: DeadLetter[] }  (bus-job runs that failed after their retries, oldest first)

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { ValidationError } from '../../shared/domain/errors';
import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler } from '../../shared/http/lambda';
import { serviceRoute, type Routes } from '../../shared/http/routes';
import { parseInput, readJsonBody } from '../../shared/http/request';
import { identifier } from '../../shared/http/schemas';
import { financeExportDependencies } from '../../shared/export-composition';
import { monthTarget } from '../../shared/domain/finance-export';
import { exportRange } from '../../shared/use-cases/finance-export';
import type { LocalOnlyRoutes } from './api-gateway';
import type { JobSchedule } from './jobs';
import type { BusWithJobs } from './bus-jobs';
import type { SettableClock } from './settable-clock';
import type { StreamPoller } from './stream-poller';

/** What the routes act on: the runner's clock, jobs, stream poller and published events. */
export interface LocalControls {
  readonly clock: SettableClock;
  readonly jobs: JobSchedule;
  readonly stream: StreamPoller;
  /** The published events, and the bus jobs' dead letters. */
  readonly events: BusWithJobs;
}

/** A hundred years either way: enough for any demo, and the clock stays a valid date. */
const MAX_ADVANCE_SECONDS = 100 * 366 * 86_400;

const clockBody = z.strictObject({
  at: z.optional(z.iso.datetime({ offset: true, error: 'must be an ISO 8601 instant, such as 2026-05-01T00:00:00Z' })),
  advanceSeconds: z.optional(
    z.number().check(z.gte(-MAX_ADVANCE_SECONDS, 'must be at least -100 years'), z.lte(MAX_ADVANCE_SECONDS, 'must be at most 100 years')),
  ),
  reset: z.optional(z.literal(true, 'must be true')),
});

const exportBody = z.strictObject({ orgId: identifier, month: z.string().check(z.maxLength(7, 'must be YYYY-MM')) });

const clockView = (clock: SettableClock) => ({ now: clock.now().toISOString() });

/** Sets, moves or resets the clock as the body says: exactly one of `at`, `advanceSeconds`, `reset`. */
function changeClock(clock: SettableClock, event: APIGatewayProxyEventV2): void {
  const body = parseInput(clockBody, readJsonBody(event));
  if (Object.keys(body).length !== 1) throw new ValidationError('Give exactly one of at, advanceSeconds or reset.', 'body');
  if (body.at !== undefined) clock.set(new Date(body.at));
  else if (body.advanceSeconds !== undefined) clock.advance(body.advanceSeconds * 1000);
  else clock.reset();
}

export const localRoutes: Routes<LocalControls> = {
  // Described like every route, though only the runner serves them: the OpenAPI document lists the deployed areas'.
  'GET /local/clock': serviceRoute(async (_event, controls) => jsonResponse(200, clockView(controls.clock)), { summary: "The runner's clock" }),
  'PUT /local/clock': serviceRoute(async (event, controls) => {
    changeClock(controls.clock, event);
    return jsonResponse(200, clockView(controls.clock));
  }, { summary: 'Set, move or reset the clock', body: clockBody }),
  'POST /local/jobs/run': serviceRoute(async (_event, controls) => {
    // Refills owed to consumes already made happen first; the jobs' own activity entries are published after.
    await controls.stream.drain();
    const runs = await controls.jobs.runNow();
    await controls.stream.drain();
    return jsonResponse(200, { runs });
  }, { summary: 'Drain the stream, run the scheduled jobs now, drain again' }),
  'GET /local/events/published': serviceRoute(async (_event, controls) => jsonResponse(200, { items: controls.events.list() }), { summary: 'The events the jobs published, oldest first' }),
  'GET /local/dead-letters': serviceRoute(async (_event, controls) => {
    // Runs still in flight (retries, backoff) end first: what is listed failed for good.
    await controls.events.settled();
    return jsonResponse(200, { items: controls.events.deadLetters() });
  }, { summary: "The bus jobs' runs that failed after their retries (the dead-letter queues on AWS), oldest first" }),
  'POST /local/exports': serviceRoute(async (event, controls) => {
    const { orgId, month } = parseInput(exportBody, readJsonBody(event));
    // The rollup cells behind the summary and chargeback files come from the stream: bring them up to date first.
    await controls.stream.drain();
    return jsonResponse(200, await exportRange(orgId, monthTarget(month), financeExportDependencies()));
  }, { summary: "Export an org's month to the local export bucket now, and answer its manifest", body: exportBody }),
};

/** The routes and one handler for them all, the way an area Lambda serves its routes. */
export function localOnlyRoutes(controls: LocalControls): LocalOnlyRoutes {
  return { routeKeys: Object.keys(localRoutes), handler: areaHandler(localRoutes, () => controls) };
}
