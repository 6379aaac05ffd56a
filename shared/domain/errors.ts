// Domain errors carry a stable machine `code` (and the field at fault where there is one), never an HTTP status:
// the one mapping to HTTP lives at the edge (shared/http/error-response.ts).

export abstract class DomainError extends Error {
  abstract readonly code: string;
  readonly field: string | undefined;
  /** Extra machine-readable facts for the client (e.g. the cap that was reached). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, field?: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.field = field;
    this.details = details;
  }
}

export class ValidationError extends DomainError {
  readonly code: string;
  constructor(message: string, field?: string, code = 'validation_failed') {
    super(message, field);
    this.code = code;
  }
}

export class InvalidJsonError extends DomainError {
  readonly code = 'invalid_json';
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'payload_too_large';
}

export class UnauthorizedError extends DomainError {
  readonly code = 'unauthorized';
}

export class RouteNotFoundError extends DomainError {
  readonly code = 'route_not_found';
}

export class NotFoundError extends DomainError {
  readonly code: string;
  constructor(code: string, message: string, field?: string) {
    super(message, field);
    this.code = code;
  }
}

export class ConflictError extends DomainError {
  readonly code: string;
  constructor(code: string, message: string, field?: string, details: Record<string, unknown> = {}) {
    super(message, field, details);
    this.code = code;
  }
}

/** A limit stops the charge. `code` names the level: team_balance_exhausted, member_cap_reached, ... */
export class LimitReachedError extends DomainError {
  readonly code: string;
  constructor(code: string, message: string, details: Record<string, unknown>) {
    super(message, undefined, details);
    this.code = code;
  }
}

/** The store stayed busy (transaction conflicts, throttling, an unreachable endpoint) after our retries. */
export class StoreUnavailableError extends DomainError {
  readonly code = 'store_unavailable';
}
