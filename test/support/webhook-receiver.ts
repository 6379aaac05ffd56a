// A webhook receiver for tests: an HTTP server on 127.0.0.1 that records each delivery and answers when the test
// says, and the README's verifier pasted into a module of its own, as a receiver would paste it.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './runner-process';

export interface ReceivedDelivery {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface WebhookReceiver {
  readonly server: Server;
  readonly port: number;
  /** Where deliveries go: http://127.0.0.1:<port>/hooks/cu-ledger. */
  readonly url: string;
  readonly requests: ReceivedDelivery[];
  /** TCP connections accepted, requests or not. */
  connections(): number;
  /** Requests answered so far. */
  answered(): number;
  close(): void;
}

/** Records each request whole, then answers the status `answer` resolves to, when it resolves. */
export async function webhookReceiver(answer: (request: IncomingMessage) => Promise<number>): Promise<WebhookReceiver> {
  const requests: ReceivedDelivery[] = [];
  let connections = 0;
  let answered = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      requests.push({ headers: request.headers, body });
      void answer(request).then((status) => {
        answered += 1;
        response.writeHead(status).end();
      });
    });
  });
  server.on('connection', () => void (connections += 1));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}/hooks/cu-ledger`,
    requests,
    connections: () => connections,
    answered: () => answered,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

export type ReadmeVerifier = (secret: string, headers: Record<string, unknown>, rawBody: string, nowSeconds?: number) => boolean;

/** The README's `verify-cu-ledger-webhook.mjs`, written to a scratch folder verbatim and imported. */
export async function readmeVerifier(): Promise<ReadmeVerifier> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```js\n(\/\/ verify-cu-ledger-webhook\.mjs[\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('The README shows no verify-cu-ledger-webhook.mjs block.');
  const file = join(mkdtempSync(join(tmpdir(), 'cu-ledger-verifier-')), 'verify-cu-ledger-webhook.mjs');
  writeFileSync(file, block[1]!);
  return (await import(pathToFileURL(file).href)).verifyCuLedgerWebhook;
}
