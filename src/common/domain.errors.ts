/**
 * Domain errors thrown by services and readers. One exception filter maps them to HTTP; nothing
 * else in the code decides a status code.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is well-formed but a value is not acceptable (400). */
export class InvalidInputError extends DomainError {
  readonly code = 'invalid_input';
}

/** The body cannot be parsed; details say where (line, column, byte offset or record) (400). */
export class BodyParseError extends DomainError {
  readonly code = 'unparseable_body';
}

export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}

export class ConflictError extends DomainError {
  readonly code = 'conflict';
}

/** The body is larger than the configured limit (413); details carry `limitBytes`. */
export class PayloadTooLargeError extends DomainError {
  readonly code = 'payload_too_large';
}

/** The media type or content encoding is not one this route reads (415). */
export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'unsupported_media_type';
}

/** No credentials, or credentials that name no active key (401). */
export class UnauthenticatedError extends DomainError {
  readonly code = 'unauthenticated';
}

/** The key is valid but lacks the scope the route requires (403); details carry `requiredScope`. */
export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
}

/** An `If-Match` precondition names a version that is no longer current (412). */
export class PreconditionFailedError extends DomainError {
  readonly code = 'precondition_failed';
}

/** The route changes a versioned resource and the request carries no `If-Match` (428). */
export class PreconditionRequiredError extends DomainError {
  readonly code = 'precondition_required';
}

/** The key has used up its request budget (429); details carry `retryAfterSeconds`. */
export class RateLimitedError extends DomainError {
  readonly code = 'rate_limited';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, { retryAfterSeconds });
  }
}
