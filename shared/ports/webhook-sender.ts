// The port a webhook delivery goes out through: one signed POST, answered with the receiver's status. On AWS and
// locally the same adapter (node:https, with the address guard at connection time); tests may stand in their own.

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

export interface WebhookSender {
  /**
   * Sends the request once; answers the status (redirects are answers, never followed). Throws a
   * WebhookAddressRefusedError when the host resolves to an address no webhook may reach (no request is made), and
   * any other error when the network fails or the timeout passes.
   */
  post(request: WebhookRequest): Promise<{ readonly status: number }>;
}

/** The host resolved to an address no webhook may reach: no request was made, and no retry would change it. */
export class WebhookAddressRefusedError extends Error {
  constructor(readonly host: string, readonly address: string) {
    super(`The webhook host ${host} resolves to ${address}, which no webhook may reach.`);
    this.name = 'WebhookAddressRefusedError';
  }
}
