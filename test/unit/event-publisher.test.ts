// The EventBridge publisher against a mocked client: batches of ten, the entry shape, retries of the refused
// entries only, and an error that counts what the bus kept refusing without repeating any detail.

import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { eventBridgePublisher, EventsNotPublishedError, PUT_EVENTS_BATCH_LIMIT } from '../../shared/adapters/eventbridge/event-publisher';
import { EVENT_SOURCE, type PublishedEvent } from '../../shared/ports/event-publisher';

const BUS = 'cu-ledger-dev-events';
const NO_WAIT = [0, 0, 0];
const eventBridge = mockClient(EventBridgeClient);
const publisher = () => eventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), BUS, NO_WAIT);

const event = (n: number): PublishedEvent => ({
  detailType: 'TopUpExpired',
  id: `expiry-${n}`,
  time: '2026-11-23T10:00:00.000Z',
  detail: { orgId: 'acme', unspentCuMilli: 1000 * n },
});
const events = (count: number) => Array.from({ length: count }, (_, n) => event(n));

/** The entries of every PutEvents call, in call order. */
const sentBatches = () => eventBridge.commandCalls(PutEventsCommand).map((call) => (call.args[0].input as PutEventsCommandInput).Entries ?? []);
/** Which `event(n)` an entry carries: its n. */
const numberOf = (entry: PutEventsRequestEntry) => (JSON.parse(entry.Detail!) as { unspentCuMilli: number }).unspentCuMilli / 1000;
const numbers = (entries: PutEventsRequestEntry[]) => entries.map(numberOf);

/** Answers every call: the entries `refuse` picks (by event number and call) get an ErrorCode, the others an EventId. */
function answerWith(refuse: (eventNumber: number, callNumber: number) => boolean) {
  let callNumber = 0;
  eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
    const call = callNumber++;
    const results = (input.Entries ?? []).map((entry, index) =>
      refuse(numberOf(entry), call) ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : { EventId: `id-${call}-${index}` },
    );
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  });
}

beforeEach(() => eventBridge.reset());

describe('the EventBridge publisher', () => {
  it('sends 23 events in three calls of 10, 10 and 3, in order', async () => {
    answerWith(() => false);

    await publisher().publish(events(23));

    expect(sentBatches().map((batch) => batch.length)).toEqual([PUT_EVENTS_BATCH_LIMIT, PUT_EVENTS_BATCH_LIMIT, 3]);
    expect(sentBatches().flatMap(numbers)).toEqual(events(23).map((_, n) => n));
  });

  it('puts each event on the bus with the service source, its detail-type, JSON detail and time', async () => {
    answerWith(() => false);

    await publisher().publish([event(7)]);

    expect(sentBatches()).toEqual([
      [
        {
          EventBusName: BUS,
          Source: EVENT_SOURCE,
          DetailType: 'TopUpExpired',
          Detail: JSON.stringify({ orgId: 'acme', unspentCuMilli: 7000 }),
          Time: new Date('2026-11-23T10:00:00.000Z'),
          Resources: [],
        },
      ],
    ]);
  });

  it('sends again only the entries the bus refused', async () => {
    // The first call refuses events 1 and 4; every later call accepts all.
    answerWith((n, call) => call === 0 && (n === 1 || n === 4));

    await publisher().publish(events(6));

    expect(sentBatches().map(numbers)).toEqual([[0, 1, 2, 3, 4, 5], [1, 4]]);
  });

  it('throws after the retries, counting the refused events and naming them by detail-type and id only', async () => {
    answerWith((n) => n === 0);

    const published = publisher().publish(events(12));

    await expect(published).rejects.toBeInstanceOf(EventsNotPublishedError);
    const error = (await published.catch((caught: unknown) => caught)) as EventsNotPublishedError;
    expect(error.failed).toBe(1);
    expect(error.total).toBe(12);
    expect(error.message).toMatch(/refused 1 of 12 events/);
    expect(error.message).toContain('TopUpExpired expiry-0 (ThrottlingException)');
    expect(error.message).not.toMatch(/acme|unspentCuMilli/);
    // The two batches once, then the refused entry three more times: the rest were sent.
    expect(sentBatches().map((batch) => batch.length)).toEqual([10, 2, 1, 1, 1]);
  });

  it('sends nothing for an empty list', async () => {
    answerWith(() => false);

    await publisher().publish([]);

    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
