// The ledger table as the stores reach it: one client, one table name, the request's abort signal on every call,
// SDK faults translated on the way out. Reads by named keys; writes a transaction of named legs.

import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransientStoreError } from '../../ports/ledger-records';
import { keyIdentity, type ItemKey, type TableQuery } from './ledger-table';
import { cancellationReasons, translate } from './sdk-errors';
import { CancelledLegs, transactItems, type TransactionLeg } from './transaction-legs';

export type Item = Record<string, unknown>;

export class LedgerTableAccess {
  constructor(
    readonly tableName: string,
    private readonly db: DynamoDBDocumentClient,
    /** Cancels the calls in flight and refuses new ones: the request they serve was answered. */
    private readonly abortSignal?: AbortSignal,
  ) {}

  /** The same table and client, for one request: its calls end when `signal` aborts. */
  forRequest(signal: AbortSignal): LedgerTableAccess {
    return new LedgerTableAccess(this.tableName, this.db, signal);
  }

  /** Every call goes through here, so the request's abort signal reaches each one. */
  readonly send: DynamoDBDocumentClient['send'] = (command: never) => this.db.send(command, { abortSignal: this.abortSignal });

  /** Sends, translating transient SDK faults into TransientStoreError. */
  async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error);
    }
  }

  /** Runs the legs as one transaction: undefined when it committed, the legs' reasons when it was cancelled. */
  async transact<Role extends string>(legs: readonly TransactionLeg<Role>[]): Promise<CancelledLegs<Role> | undefined> {
    try {
      await this.send(new TransactWriteCommand({ TransactItems: transactItems(this.tableName, legs) }));
      return undefined;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw translate(error);
      return new CancelledLegs(legs, reasons, error);
    }
  }

  /** Strongly consistent read of one item; undefined when there is none. */
  async getItem(key: ItemKey): Promise<Item | undefined> {
    return (await this.call(() => this.send(new GetCommand({ TableName: this.tableName, Key: { ...key }, ConsistentRead: true })))).Item;
  }

  /**
   * One page of a query: strongly consistent on the table, in index order on an index (eventually consistent by
   * nature), newest first when asked. `lastKey` is where the next page starts; undefined after the last.
   */
  async query(tableQuery: TableQuery, page: { limit?: number; startKey?: Item; newestFirst?: boolean } = {}): Promise<{ items: Item[]; lastKey: Item | undefined }> {
    const { cursorAttributes: _attributes, cursorBelongs: _belongs, cursorBinding: _binding, ...input } = tableQuery;
    const result = await this.call(() =>
      this.send(
        new QueryCommand({
          TableName: this.tableName,
          ...input,
          ...(input.IndexName ? { ScanIndexForward: !page.newestFirst } : { ConsistentRead: true }),
          ...(page.limit === undefined ? {} : { Limit: page.limit }),
          ...(page.startKey === undefined ? {} : { ExclusiveStartKey: page.startKey }),
        }),
      ),
    );
    return { items: (result.Items ?? []) as Item[], lastKey: result.LastEvaluatedKey as Item | undefined };
  }

  /** Every item a query finds, page after page, in its order. */
  async queryAll(tableQuery: TableQuery): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.query(tableQuery, startKey === undefined ? {} : { startKey });
      items.push(...page.items);
      startKey = page.lastKey;
    } while (startKey);
    return items;
  }

  /** Strongly consistent read of named keys: each name answers its item, or is left out. */
  async getNamed<Name extends string>(keys: Readonly<Partial<Record<Name, ItemKey>>>): Promise<Partial<Record<Name, Item>>> {
    const named = Object.entries(keys) as [Name, ItemKey][];
    const byKey = new Map((await this.batchGet(named.map(([, key]) => key))).map((item) => [keyIdentity(item), item]));
    const found: Partial<Record<Name, Item>> = {};
    for (const [name, key] of named) {
      const item = byKey.get(keyIdentity(key));
      if (item) found[name] = item;
    }
    return found;
  }

  async batchGet(keys: readonly ItemKey[]): Promise<Item[]> {
    const found: Item[] = [];
    // BatchGetItem refuses a list with the same key twice (a refund whose requestId is its own refundOf).
    let pending: Item[] = [...new Map(keys.map((key) => [keyIdentity(key), { ...key }])).values()];
    // BatchGetItem may hand keys back unprocessed under load; ask again for those only.
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** round)));
      if (round > 8) throw new TransientStoreError('BatchGetItem left keys unprocessed');
      const result = await this.call(() =>
        this.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } })),
      );
      found.push(...((result.Responses?.[this.tableName] ?? []) as Item[]));
      pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
    }
    return found;
  }
}
