// What the Analytics API's gateway answers by itself, before any handler runs: the authorizer refused the caller,
// denied the request, or failed. The construct sets these as the REST API's gateway responses on AWS; the local
// runner answers them the same way. Bodies have the shape of every other error of the API.

export interface GatewayAnswer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Browsers and BI connectors ask for Basic credentials only when the 401 carries this challenge. */
export const BASIC_CHALLENGE = 'Basic realm="cu-ledger"';

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });

export const ANALYTICS_GATEWAY_ANSWERS = {
  /** No Authorization header, or the authorizer threw `Unauthorized`. */
  unauthorized: {
    statusCode: 401,
    headers: { 'WWW-Authenticate': BASIC_CHALLENGE },
    body: errorBody(
      'unauthorized',
      "Send Authorization: Bearer <token> with a signed-in person's token from the identity provider, or Basic base64(<key>:<secret>) with an analytics key.",
    ),
  },
  /** The authorizer's policy does not allow this request. */
  accessDenied: {
    statusCode: 403,
    headers: {},
    body: errorBody('forbidden', 'Your credentials do not reach this route.'),
  },
  /** The authorizer failed (the identity provider's keys did not load, say): our fault, worth a retry. */
  authorizerFailure: {
    statusCode: 500,
    headers: {},
    body: errorBody('internal_error', 'Your credentials could not be checked just now; try again shortly.'),
  },
} as const satisfies Record<string, GatewayAnswer>;
