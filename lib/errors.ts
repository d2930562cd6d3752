/**
 * The one error model. Every error that leaves Rota is `{code, message}` with an
 * InfluxDB 2 code; the HTTP status is derived from the code at the edge, once.
 */

export const ERROR_STATUS = {
  invalid: 400,
  'empty value': 400,
  unauthorized: 401,
  forbidden: 403,
  'not found': 404,
  'method not allowed': 405,
  conflict: 409,
  'request too large': 413,
  'unprocessable entity': 422,
  'too many requests': 429,
  'internal error': 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const GENERIC_INTERNAL_MESSAGE = 'an internal error has occurred';

export class RotaError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export class InvalidError extends RotaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid', message, options);
  }
}

export class EmptyValueError extends RotaError {
  constructor(message: string) {
    super('empty value', message);
  }
}

export class NotFoundError extends RotaError {
  constructor(message: string) {
    super('not found', message);
  }
}

export class ConflictError extends RotaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

export class UnauthorizedError extends RotaError {
  constructor(message = 'unauthorized access') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends RotaError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** Well-formed but out of range, as InfluxDB answers a page `limit` past its maximum. */
export class UnprocessableEntityError extends RotaError {
  constructor(message: string) {
    super('unprocessable entity', message);
  }
}

export class RequestTooLargeError extends RotaError {
  constructor(message: string) {
    super('request too large', message);
  }
}

export class MethodNotAllowedError extends RotaError {
  constructor(message: string) {
    super('method not allowed', message);
  }
}

export class TooManyRequestsError extends RotaError {
  constructor(message: string) {
    super('too many requests', message);
  }
}

export class UnavailableError extends RotaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/**
 * Wraps an error with context, as Go's `fmt.Errorf("outer: %w", err)` does in
 * InfluxDB. The code of the innermost Rota error is kept, so wrapping never turns
 * a 404 into a 500.
 */
export function wrapError(message: string, cause: unknown): RotaError {
  const inner = findRotaError(cause);
  return new RotaError(inner?.code ?? 'internal error', message, { cause });
}

function findRotaError(error: unknown): RotaError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 32 && current instanceof Error; depth++) {
    if (current instanceof RotaError) return current;
    current = current.cause;
  }
  return undefined;
}

/** Flattens a cause chain into `outer: inner: EOF`. */
export function flattenMessage(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 32 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      if (current.message) parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ');
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/**
 * What a client may see of an error. Only Rota errors carry a message that was
 * written for clients; anything else (SDK faults, bugs) becomes a generic
 * `internal error`, and the caller logs the detail.
 */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody; exposed: boolean } {
  const rota = error instanceof RotaError ? error : undefined;
  if (!rota || rota.code === 'internal error') {
    return {
      status: 500,
      body: { code: 'internal error', message: GENERIC_INTERNAL_MESSAGE },
      exposed: false,
    };
  }
  return { status: rota.status, body: { code: rota.code, message: flattenRotaChain(rota) }, exposed: true };
}

/** Flattens only the Rota part of a chain, so a foreign cause's text never reaches a client. */
function flattenRotaChain(error: RotaError): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 32 && current instanceof RotaError; depth++) {
    if (current.message) parts.push(current.message);
    current = current.cause;
  }
  return parts.join(': ');
}
