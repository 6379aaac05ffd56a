// The cost alerts' stream inputs and the projection: a project's, member's or API key's counter raised by a charge
// reads as a scope change in its period (and nothing else on those items does); the stream's filter patterns let
// through every record the handler acts on; and the pool's projected exhaustion, by example and as properties.

import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LEDGER_STREAM_FILTERS } from '../../shared/adapters/dynamodb/ledger-table';
import { ledgerChangeOf } from '../../shared/adapters/dynamodb/stream-records';
import type { MilliCu } from '../../shared/domain/compute-units';
import { minimumElapsedMs, projectExhaustion } from '../../shared/domain/cost-alerts';

const PERIOD = '2026-02-15T00:00:00.000Z';
const USED = `used@${PERIOD}`;
const WRITTEN_AT = 1_771_581_600; // 2026-02-20T10:00:00Z, as the stream gives it (seconds)

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', oldImage: Record<string, unknown> | undefined, newImage: Record<string, unknown> | undefined): DynamoDBRecord {
  const image = (item: Record<string, unknown> | undefined) => (item ? (marshall(item, { removeUndefinedValues: true }) as never) : undefined);
  const keys = (newImage ?? oldImage)!;
  return {
    eventName,
    dynamodb: { Keys: marshall({ pk: keys['pk'], sk: keys['sk'] }) as never, OldImage: image(oldImage), NewImage: image(newImage), SequenceNumber: '7', ApproximateCreationDateTime: WRITTEN_AT },
  };
}

const project = { pk: 'ORG#acme', sk: 'PROJECT#web', entity: 'project', scopeId: 'web', capMilli: 50_000, createdAt: '2026-01-01T00:00:00.000Z' };

describe('scope changes on the stream', () => {
  it("reads a charge on a project's counter as a scope change in the counter's period, with its own cap and the write's time", () => {
    expect(ledgerChangeOf(record('MODIFY', { ...project, [USED]: 2000 }, { ...project, [USED]: 3500 }))).toEqual({
      kind: 'scope',
      change: { orgId: 'acme', scope: { kind: 'project', id: 'web' }, periodId: PERIOD, beforeMilli: 2000, afterMilli: 3500, capMilli: 50_000, at: new Date(WRITTEN_AT * 1000) },
    });
  });

  it("reads a member's or key's first charge (the item is inserted) as a change from 0; without a cap of its own its cap is null", () => {
    const member = { pk: 'ORG#acme', sk: 'MEMBER#ana', entity: 'member', scopeId: 'ana', role: 'contributor', [USED]: 1500 };
    expect(ledgerChangeOf(record('INSERT', undefined, member))).toMatchObject({ kind: 'scope', change: { scope: { kind: 'member', id: 'ana' }, beforeMilli: 0, afterMilli: 1500, capMilli: null } });
    const key = { pk: 'ORG#acme', sk: 'APIKEY#apiu_1', entity: 'api_key', scopeId: 'apiu_1', projectId: 'web', [USED]: 900 };
    expect(ledgerChangeOf(record('MODIFY', { ...key, [USED]: 100 }, key))).toMatchObject({ kind: 'scope', change: { scope: { kind: 'api_key', id: 'apiu_1' }, beforeMilli: 100, afterMilli: 900 } });
  });

  it('leaves alone what raises no counter: a refund, a cap change, a prune, a new scope without usage', () => {
    expect(ledgerChangeOf(record('MODIFY', { ...project, [USED]: 3500 }, { ...project, [USED]: 2000 }))).toBeUndefined();
    expect(ledgerChangeOf(record('MODIFY', { ...project, [USED]: 3500 }, { ...project, capMilli: 10_000, [USED]: 3500 }))).toBeUndefined();
    expect(ledgerChangeOf(record('MODIFY', { ...project, [USED]: 3500 }, project))).toBeUndefined();
    expect(ledgerChangeOf(record('INSERT', undefined, project))).toBeUndefined();
  });
});

/** Lambda's event filtering for the pattern shapes the service uses: each leaf is a list of exact values. */
function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.includes(value);
  if (typeof pattern !== 'object' || pattern === null || typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([name, inner]) => matches(inner, (value as Record<string, unknown>)[name]));
}
const delivered = (input: DynamoDBRecord) => LEDGER_STREAM_FILTERS.some((pattern) => matches(pattern, input));

describe('the stream filter', () => {
  it('delivers every kind of record the handler acts on, scopes among them', () => {
    const acted = [
      record('MODIFY', { ...project, [USED]: 2000 }, { ...project, [USED]: 3500 }),
      record('INSERT', undefined, { pk: 'ORG#acme', sk: 'MEMBER#ana', entity: 'member', scopeId: 'ana', [USED]: 1500 }),
      record('MODIFY', { pk: 'ORG#acme', sk: 'ORG', entity: 'org' }, { pk: 'ORG#acme', sk: 'ORG', entity: 'org' }),
      record('INSERT', undefined, { pk: 'ORG#acme#REQ#r1', sk: 'EVENT', entity: 'event' }),
      record('INSERT', undefined, { pk: 'ORG#acme#ACT#x', sk: 'ACTIVITY', entity: 'activity' }),
      record('INSERT', undefined, { pk: 'ORG#acme', sk: 'ALERT_FIRED#p#half', entity: 'alert_firing' }),
    ];
    expect(acted.map(delivered)).toEqual(acted.map(() => true));
  });

  it('keeps back what the handler never acts on: due items, usage cells, removals, a refunded total', () => {
    const ignored = [
      record('INSERT', undefined, { pk: 'DUE#expiry', sk: 'x', entity: 'due' }),
      record('INSERT', undefined, { pk: 'ORG#acme#USAGE#2026-03', sk: 'x', entity: 'usage' }),
      record('REMOVE', { ...project }, undefined),
      record('MODIFY', { pk: 'ORG#acme#REQ#r1', sk: 'EVENT', entity: 'event' }, { pk: 'ORG#acme#REQ#r1', sk: 'EVENT', entity: 'event', refundedMilli: 5 }),
    ];
    expect(ignored.map(delivered)).toEqual(ignored.map(() => false));
  });
});

describe('the projected exhaustion', () => {
  const periodStartsAt = new Date('2026-03-15T00:00:00.000Z');
  const resetsAt = new Date('2026-04-15T00:00:00.000Z');
  const day = 24 * 60 * 60 * 1000;
  const at = (days: number) => new Date(periodStartsAt.getTime() + days * day);

  it('projects the run rate so far over what the pool has left', () => {
    // 40 CU in 5 days: 8 CU a day; 60 CU left last 7.5 days.
    expect(projectExhaustion({ periodStartsAt, resetsAt, at: at(5), usedMilli: 40_000 as MilliCu, remainingMilli: 60_000 as MilliCu })).toEqual({
      projectedAt: at(12.5),
      milliPerDay: 8000,
    });
  });

  it('projects nothing when the pool lasts past the reset, is already empty, was not used, or too little of the period has passed', () => {
    const input = { periodStartsAt, resetsAt, at: at(5), usedMilli: 10_000 as MilliCu, remainingMilli: 90_000 as MilliCu };
    expect(projectExhaustion(input)).toBeUndefined(); // 2 CU a day: 45 days
    expect(projectExhaustion({ ...input, usedMilli: 100_000 as MilliCu, remainingMilli: 0 as MilliCu })).toBeUndefined();
    expect(projectExhaustion({ ...input, usedMilli: 0 as MilliCu })).toBeUndefined();
    expect(projectExhaustion({ ...input, at: at(0.9), usedMilli: 90_000 as MilliCu, remainingMilli: 10_000 as MilliCu })).toBeUndefined();
    expect(projectExhaustion({ ...input, at: at(1), usedMilli: 90_000 as MilliCu, remainingMilli: 10_000 as MilliCu })).toBeDefined();
  });

  it('waits a tenth of a short period rather than a day', () => {
    const hourly = { periodStartsAt, resetsAt: new Date(periodStartsAt.getTime() + 10 * 60 * 60 * 1000) };
    expect(minimumElapsedMs(hourly.resetsAt.getTime() - periodStartsAt.getTime())).toBe(60 * 60 * 1000);
    expect(projectExhaustion({ ...hourly, at: new Date(periodStartsAt.getTime() + 60 * 60 * 1000), usedMilli: 5000 as MilliCu, remainingMilli: 5000 as MilliCu })).toBeDefined();
  });

  it('as properties: a projection falls between now and the reset, at the rate so far; more used for the same left comes no later', () => {
    const scenario = fc.record({
      elapsedMs: fc.integer({ min: 0, max: 31 * day - 1 }),
      usedMilli: fc.integer({ min: 0, max: 10_000_000 }),
      remainingMilli: fc.integer({ min: 0, max: 10_000_000 }),
      more: fc.integer({ min: 0, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(scenario, ({ elapsedMs, usedMilli, remainingMilli, more }) => {
        const input = { periodStartsAt, resetsAt, at: new Date(periodStartsAt.getTime() + elapsedMs), usedMilli: usedMilli as MilliCu, remainingMilli: remainingMilli as MilliCu };
        const projection = projectExhaustion(input);
        const busier = projectExhaustion({ ...input, usedMilli: (usedMilli + more) as MilliCu });
        if (projection) {
          expect(projection.projectedAt.getTime()).toBeGreaterThanOrEqual(input.at.getTime());
          expect(projection.projectedAt.getTime()).toBeLessThan(resetsAt.getTime());
          // At the rate so far, the time to the projection uses up what is left (to the millisecond it is floored to).
          const burned = (usedMilli / elapsedMs) * (projection.projectedAt.getTime() - input.at.getTime());
          expect(Math.abs(burned - remainingMilli)).toBeLessThanOrEqual(usedMilli / elapsedMs + 1e-6);
          expect(busier).toBeDefined();
          expect(busier!.projectedAt.getTime()).toBeLessThanOrEqual(projection.projectedAt.getTime());
        } else {
          const timeLeft = resetsAt.getTime() - input.at.getTime();
          const rateKnown = elapsedMs >= minimumElapsedMs(resetsAt.getTime() - periodStartsAt.getTime()) && usedMilli > 0 && remainingMilli > 0;
          if (rateKnown) expect((remainingMilli * elapsedMs) / usedMilli).toBeGreaterThanOrEqual(timeLeft - 1);
        }
      }),
    );
  });
});
