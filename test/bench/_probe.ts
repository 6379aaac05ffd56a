import { createDynamoDbClient, createDocumentClient } from '../../shared/adapters/dynamodb/client';
import { startDynamoDbLocal, ensureLedgerTable } from '../../infra/local/dynamodb-local';
import { TransactWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
const t0 = Date.now();
const ddb = await startDynamoDbLocal();
console.log('start ms', Date.now() - t0);
const client = createDynamoDbClient({ endpoint: ddb.endpoint });
await ensureLedgerTable(client, 'bench-t1');
const doc = createDocumentClient(client);
await doc.send(new PutCommand({ TableName: 'bench-t1', Item: { pk: 'ORG#a', sk: 'ORG', n: 0 } }));
let conflicts = 0, other: Record<string, number> = {};
async function one(i: number) {
  try {
    await doc.send(new TransactWriteCommand({ TransactItems: [
      { Put: { TableName: 'bench-t1', Item: { pk: `E#${i}#${Math.random()}`, sk: 'E', x: 1 } } },
      { Update: { TableName: 'bench-t1', Key: { pk: 'ORG#a', sk: 'ORG' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
    ]}));
    return true;
  } catch (e: any) {
    const key = e.name + ':' + (e.CancellationReasons?.map((r: any) => r.Code).join(',') ?? '');
    other[key] = (other[key] ?? 0) + 1;
    return false;
  }
}
for (const conc of [1, 16, 64, 1, 16, 64]) {
  const total = conc === 1 ? 300 : 1200;
  let next = 0, ok = 0;
  other = {};
  const s = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (next < total) { next++; if (await one(next)) ok++; } }));
  const ms = performance.now() - s;
  console.log(conc, ok, (ok / ms * 1000).toFixed(0), '/s', JSON.stringify(other));
}
await ddb.stop();
process.exit(0);
