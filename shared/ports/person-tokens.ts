// The port a person's sign-in goes through: a bearer token in, the org and user it names out. The role is never
// the token's to say; it comes from CU Ledger's member records (shared/use-cases/reader-access.ts).

import type { UnauthorizedError } from '../domain/errors';

/** Who a verified token says is calling. */
export interface PersonIdentity {
  readonly orgId: string;
  readonly userId: string;
}

export interface PersonTokenVerifier {
  /**
   * The identity a valid token names. Rejects with an {@link UnauthorizedError} for a token we refuse (its message
   * says why, never what the token holds); with any other error when the token could not be checked at all (the
   * identity provider's keys did not load), which is our fault rather than the caller's.
   */
  verify(token: string): Promise<PersonIdentity>;
}
