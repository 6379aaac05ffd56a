// People's tokens checked with jose: an OIDC JWT signed by one of the identity provider's keys (its JWKS), from our
// issuer, for our audience, not expired, naming the org in a configurable claim and the user in `sub`. The analytics
// authorizer uses it on AWS and in the local runner alike; only the settings differ.

import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import * as z from 'zod/mini';
import { UnauthorizedError } from '../../domain/errors';
import { DEFAULT_ORG_CLAIM } from '../../http/principal';
import { identifier } from '../../http/schemas';
import type { PersonIdentity, PersonTokenVerifier } from '../../ports/person-tokens';
import { systemClock, type Clock } from '../../ports/runtime';

export interface PersonTokenSettings {
  readonly issuer: string;
  readonly audience: string;
  /** The claim that names the person's org; `org_id` unless the identity provider spells it otherwise. */
  readonly orgClaim: string;
}

/** How far the identity provider's clock and ours may disagree on `exp`, `nbf` and `iat`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * What jose reports about the token itself, as the reason we give for refusing it. Anything else (the key set did
 * not load, timed out or is malformed) means the token could not be checked at all, and stays an error of ours.
 */
const TOKEN_FAULTS: Readonly<Record<string, string>> = {
  ERR_JWT_EXPIRED: 'The token has expired: sign in again.',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'The token is not signed by the identity provider.',
  ERR_JWKS_NO_MATCHING_KEY: 'The token is not signed by a key of the identity provider.',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: "The token does not say which of the identity provider's keys signed it.",
  ERR_JWS_INVALID: 'The token is not a signed JWT.',
  ERR_JWT_INVALID: 'The token is not a valid JWT.',
  ERR_JOSE_ALG_NOT_ALLOWED: 'The token is signed with an algorithm the identity provider does not use.',
  ERR_JOSE_NOT_SUPPORTED: 'The token is signed in a way we do not support.',
};

const CLAIM_FAULTS: Readonly<Record<string, string>> = {
  iss: 'The token is from another issuer.',
  aud: 'The token is for another audience.',
  nbf: 'The token is not valid yet.',
};

/** The refusal a jose error stands for, or undefined when it is no fault of the token. */
function refusalOf(error: unknown): UnauthorizedError | undefined {
  const { code, claim, reason } = (error ?? {}) as { code?: unknown; claim?: unknown; reason?: unknown };
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const named = typeof claim === 'string' ? claim : 'a';
    return new UnauthorizedError(reason === 'missing' ? `The token has no ${named} claim.` : (CLAIM_FAULTS[named] ?? `The token's ${named} claim is not valid.`));
  }
  const message = typeof code === 'string' ? TOKEN_FAULTS[code] : undefined;
  return message ? new UnauthorizedError(message) : undefined;
}

/** A verifier for tokens whose signing keys `keys` finds (a remote JWKS on AWS and locally; a local set in tests). */
export function jwtPersonTokenVerifier(settings: PersonTokenSettings, keys: JWTVerifyGetKey, clock: Clock = systemClock): PersonTokenVerifier {
  return {
    async verify(token: string): Promise<PersonIdentity> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: settings.issuer,
          audience: settings.audience,
          // A token without an expiry would be good forever.
          requiredClaims: ['exp', 'sub', settings.orgClaim],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: clock.now(),
        }));
      } catch (error) {
        throw refusalOf(error) ?? error;
      }
      // The org and user become keys of the member lookup: the same rules as every id the API takes.
      const orgId = identifier.safeParse(payload[settings.orgClaim]);
      const userId = identifier.safeParse(payload.sub);
      if (!orgId.success || !userId.success) throw new UnauthorizedError(`The token's ${settings.orgClaim} or sub claim is not an id this service knows.`);
      return { orgId: orgId.data, userId: userId.data };
    },
  };
}

const environmentSchema = z.object({
  JWT_ISSUER: z.string().check(z.minLength(1)),
  JWT_AUDIENCE: z.string().check(z.minLength(1)),
  JWKS_URL: z.url(),
  ORG_CLAIM: z.optional(z.string()),
});

let fromEnvironment: { readonly key: string; readonly verifier: PersonTokenVerifier } | undefined;

/**
 * The verifier the environment configures (JWT_ISSUER, JWT_AUDIENCE, JWKS_URL, ORG_CLAIM), built once per process:
 * jose keeps the fetched key set and refetches it only for a key it has not seen (rotation). Built again only if the
 * settings change, which happens in the local runner (its JWKS URL is known once it listens), never on Lambda.
 */
export function personTokenVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): PersonTokenVerifier {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const wrong = parsed.error.issues.map((issue) => issue.path.join('.'));
    throw new Error(`People's tokens cannot be checked: JWT_ISSUER, JWT_AUDIENCE and JWKS_URL (a URL) must be set; missing or wrong: ${wrong.join(', ')}.`);
  }
  const settings: PersonTokenSettings = { issuer: parsed.data.JWT_ISSUER, audience: parsed.data.JWT_AUDIENCE, orgClaim: parsed.data.ORG_CLAIM || DEFAULT_ORG_CLAIM };
  const key = JSON.stringify([settings, parsed.data.JWKS_URL]);
  if (fromEnvironment?.key !== key) {
    fromEnvironment = { key, verifier: jwtPersonTokenVerifier(settings, createRemoteJWKSet(new URL(parsed.data.JWKS_URL))) };
  }
  return fromEnvironment.verifier;
}
