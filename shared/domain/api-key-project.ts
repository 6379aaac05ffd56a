// An API key belongs to one project (its scope record names it) and charges only there: a key leaked from one
// project's pipeline must not spend another project's budget.

import type { ScopeKind } from './limits';

/** What the rule reads of an actor's scope record. */
export interface ActorScope {
  readonly kind: ScopeKind;
  /** API keys only: the project the key belongs to; null while the key has no record. */
  readonly projectId: string | null;
}

/**
 * Whether the actor is an API key charging a project that is not its own. A key with no record yet has no known
 * project, so it cannot mismatch: its first charge registers it under the project it charged, which binds it from
 * then on (until an admin moves it). Members charge any project.
 */
export function chargesOutsideKeyProject<Actor extends ActorScope>(actor: Actor, projectId: string): actor is Actor & { readonly projectId: string } {
  return actor.kind === 'api_key' && actor.projectId !== null && actor.projectId !== projectId;
}
