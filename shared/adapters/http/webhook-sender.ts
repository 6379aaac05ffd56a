// Webhook deliveries over node:https (node:http only for loopback under the local flag). The address guard runs in
// the socket's own DNS lookup, so the address checked is the address connected to: a host that resolves to a public
// address when the webhook is set and to a private one later (DNS rebinding) is refused at delivery, before any byte
// is sent. Redirects are never followed: a 3xx is just the answer.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isDeliverableAddress, refusedLiteralAddress, type WebhookUrlRules } from '../../domain/alert-webhooks';
import { WebhookAddressRefusedError, type WebhookSender } from '../../ports/webhook-sender';

/** A lookup that answers only addresses a webhook may reach, and fails the connection when DNS gives any other. */
export function guardedLookup(url: URL, rules: WebhookUrlRules, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const all = addresses as unknown as LookupAddress[];
      // Every address must pass, not just the first: the socket may fall back to any of them.
      const refused = all.find((candidate) => !isDeliverableAddress(candidate.address, url, rules));
      if (refused || all.length === 0) return callback(new WebhookAddressRefusedError(hostname, refused?.address ?? 'no address'), '', 0);
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, all);
      callback(null, all[0]!.address, all[0]!.family);
    });
  };
}

export function httpsWebhookSender(rules: WebhookUrlRules, resolve: typeof dnsLookup = dnsLookup): WebhookSender {
  return {
    post({ url: target, headers, body, timeoutMs }) {
      const url = new URL(target);
      // A literal address never reaches the lookup: check it here, as checkWebhookUrl did when it was set.
      const literal = refusedLiteralAddress(url, rules);
      if (literal !== undefined) return Promise.reject(new WebhookAddressRefusedError(url.hostname, literal));
      const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
      return new Promise((answered, failed) => {
        const request = send(
          url,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
            lookup: guardedLookup(url, rules, resolve),
            timeout: timeoutMs,
            // One connection per delivery: a pooled socket would skip the lookup, and with it the guard.
            agent: false,
          },
          (response) => {
            // The body is not read for meaning, only drained so the socket closes.
            response.resume();
            response.on('end', () => answered({ status: response.statusCode ?? 0 }));
            response.on('error', failed);
          },
        );
        const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        request.on('close', () => clearTimeout(deadline));
        request.on('timeout', () => request.destroy(new Error(`the connection was idle for ${timeoutMs} ms`)));
        request.on('error', failed);
        request.end(body);
      });
    },
  };
}
