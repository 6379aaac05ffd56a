// The IAM actions a DynamoDB client's calls need, recorded as the calls go out: what the stack must grant. A
// transaction needs the item action of each of its items, not a `TransactWriteItems` permission.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const ITEM_ACTIONS: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };

/** `dynamodb:<Action>` on the table, or `dynamodb:<Action>@<index>` on an index. */
export function iamActionsFor(commandName: string, input: Record<string, any>): string[] {
  const operation = commandName.replace(/Command$/, '');
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    return (input.TransactItems as Record<string, unknown>[]).map((item) => `dynamodb:${ITEM_ACTIONS[Object.keys(item)[0]!]}`);
  }
  if (operation === 'BatchWriteItem') {
    return Object.values(input.RequestItems as Record<string, Record<string, unknown>[]>)
      .flat()
      .map((request) => (Object.keys(request)[0] === 'PutRequest' ? 'dynamodb:PutItem' : 'dynamodb:DeleteItem'));
  }
  return [input.IndexName ? `dynamodb:${operation}@${input.IndexName}` : `dynamodb:${operation}`];
}

export function recordIamActions(client: DynamoDBClient): { readonly actions: Set<string>; clear(): void } {
  const actions = new Set<string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      for (const action of iamActionsFor(context.commandName ?? 'unknown', args.input as Record<string, any>)) actions.add(action);
      return next(args);
    },
    { step: 'initialize', name: 'iamActionRecorder' },
  );
  return { actions, clear: () => actions.clear() };
}
