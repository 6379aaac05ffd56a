import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue as StreamAttributeValue, _Record } from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { deliverBatch, toLambdaRecord } from '../../infra/local/stream-poller';

const SOURCE = { eventSourceARN: 'arn:aws:dynamodb:ddblocal:000000000000:table/ledger/stream/2026-01-01T00:00:00.000', awsRegion: 'ddblocal' };

/** The same in the SDK's record and in Lambda's: no binary in them. */
const KEYS = { pk: { S: 'ORG#acme' }, sk: { S: 'ORG' } };
const OLD_IMAGE = { ...KEYS, used: { N: '10' } };
const NEW_PLAIN_FIELDS = { ...KEYS, used: { N: '20' }, tags: { SS: ['a', 'b'] } };
const HEADER = { eventID: 'e1', eventName: 'MODIFY', eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'ddblocal' } as const;

function sdkRecord(overrides: Partial<_Record> = {}): _Record {
  return {
    ...HEADER,
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-03-01T10:00:42.900Z'),
      Keys: KEYS,
      OldImage: OLD_IMAGE,
      NewImage: {
        ...NEW_PLAIN_FIELDS,
        seal: { B: new Uint8Array([1, 2, 255]) },
        seals: { BS: [new Uint8Array([0])] },
        nested: { M: { list: { L: [{ BOOL: true }, { NULL: true }, { B: new Uint8Array([7]) }] } } },
      },
      SequenceNumber: '000000000000000000042',
      SizeBytes: 123,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...overrides,
  };
}

describe('stream records in the shape Lambda gets them', () => {
  it('keeps DynamoDB JSON, turns binary into base64 at any depth, and gives the creation time in epoch seconds', () => {
    const record = toLambdaRecord(sdkRecord(), SOURCE);

    expect(record).toEqual({
      ...HEADER,
      eventSourceARN: SOURCE.eventSourceARN,
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-03-01T10:00:42Z') / 1000,
        Keys: KEYS,
        OldImage: OLD_IMAGE,
        NewImage: {
          ...NEW_PLAIN_FIELDS,
          seal: { B: 'AQL/' },
          seals: { BS: ['AA=='] },
          nested: { M: { list: { L: [{ BOOL: true }, { NULL: true }, { B: 'Bw==' }] } } },
        },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 123,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    } satisfies DynamoDBRecord);
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('leaves out the images a record does not have (an insert has no old image), and names the region of the stream when the record does not', () => {
    const insert = sdkRecord({ eventName: 'INSERT', awsRegion: undefined });
    insert.dynamodb = { ...insert.dynamodb, OldImage: undefined };

    const record = toLambdaRecord(insert, SOURCE);

    expect(record.dynamodb).not.toHaveProperty('OldImage');
    expect(record.awsRegion).toBe('ddblocal');
    expect(record.eventName).toBe('INSERT');
  });

  it("reads DynamoDB Local's untyped `{}` as the empty map it stands for, at any depth, so the record unmarshalls", () => {
    const insert = sdkRecord({ eventName: 'INSERT' });
    // What the SDK makes of it: an attribute value of no kind, which unmarshall refuses ("No value defined").
    const untyped = {} as StreamAttributeValue;
    insert.dynamodb = { ...insert.dynamodb, NewImage: { ...KEYS, changes: untyped, nested: { M: { list: { L: [untyped] } } } } };

    const image = toLambdaRecord(insert, SOURCE).dynamodb!.NewImage!;

    expect(image).toEqual({ ...KEYS, changes: { M: {} }, nested: { M: { list: { L: [{ M: {} }] } } } });
    expect(unmarshall(image as Record<string, AttributeValue>)).toEqual({ pk: 'ORG#acme', sk: 'ORG', changes: {}, nested: { list: [{}] } });
  });

  it('gives a TTL delete the identity Lambda shows, with its lower-case keys', () => {
    const ttlDelete = sdkRecord({ eventName: 'REMOVE', userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' } });

    expect(toLambdaRecord(ttlDelete, SOURCE).userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
  });
});

describe('a batch handed to the stream handler', () => {
  const batch = ['1', '2', '3', '4'].map((sequence) => ({ dynamodb: { SequenceNumber: sequence } }) as DynamoDBRecord);

  it('is done when the handler reports no failures', async () => {
    expect(await deliverBatch(async () => ({ batchItemFailures: [] }), batch)).toBe(-1);
  });

  it('starts again at the earliest failed record, whatever order the failures come in', async () => {
    const failedFrom = await deliverBatch(async () => ({ batchItemFailures: [{ itemIdentifier: '4' }, { itemIdentifier: '2' }] }), batch);

    expect(failedFrom).toBe(1);
  });

  it('fails whole when the handler throws or names a record that is not in the batch', async () => {
    expect(await deliverBatch(async () => Promise.reject(new Error('boom')), batch)).toBe(0);
    expect(await deliverBatch(async () => ({ batchItemFailures: [{ itemIdentifier: '3' }, { itemIdentifier: '99' }] }), batch)).toBe(0);
    expect(await deliverBatch(async () => ({ batchItemFailures: [{ itemIdentifier: '' }] }), batch)).toBe(0);
  });
});
