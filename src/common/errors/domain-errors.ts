import { FieldError } from './problem-details';

/*
 * The errors services throw. One filter turns them into problem+json (HTTP) and, later, into
 * acks (WebSocket). They are a family of one-liners, kept together in one file for reading.
 */

/** Base of every error whose status and code are part of the API contract. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

/** 400 with the list of invalid fields. */
export class ValidationFailed extends AppError {
  constructor(errors: FieldError[], detail = 'The request is invalid; see errors for each field.') {
    super(400, 'VALIDATION_FAILED', detail, errors);
  }
}

/** 400 for a request that is malformed as a whole (not one field). */
export class BadRequest extends AppError {
  constructor(code: string, detail: string) {
    super(400, code, detail);
  }
}

/** 401: no, malformed, expired or revoked credentials. */
export class Unauthorized extends AppError {
  constructor(code = 'UNAUTHORIZED', detail = 'Authentication is required.') {
    super(401, code, detail, undefined, { 'WWW-Authenticate': 'Bearer' });
  }
}

/** 403: authenticated, but the role or API-key scope does not allow this. */
export class Forbidden extends AppError {
  constructor(detail = 'You are not allowed to do this.') {
    super(403, 'FORBIDDEN', detail);
  }
}

/** 404; also what another user's resource looks like, so its existence is not revealed. */
export class NotFound extends AppError {
  constructor(resource: string) {
    super(404, 'NOT_FOUND', `${resource} not found.`);
  }
}

/** 409: the request conflicts with the current state. */
export class Conflict extends AppError {
  constructor(
    code = 'CONFLICT',
    detail = 'The request conflicts with the current state of the resource.',
  ) {
    super(409, code, detail);
  }
}

/** 503: a dependency is down; the client may retry after a few seconds. */
export class ServiceUnavailable extends AppError {
  constructor(detail: string, retryAfterSeconds = 5) {
    super(503, 'SERVICE_UNAVAILABLE', detail, undefined, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}
