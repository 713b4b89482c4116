// The one catalog of errors a client can cause. Each has a stable code and an HTTP
// status; the server maps them to responses, so any other thrown error is a bug (5xx).

export const ErrorCodes = {
  BAD_REQUEST: 400,
  INVALID_PACKAGE: 400,
  DIGEST_MISMATCH: 400,
  NAME_MISMATCH: 400,
  INVALID_NAME: 400,
  INVALID_PATH: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** An upstream file younger than a proxy's or group's minAge (cooldown): not there yet, to the client. */
  TOO_YOUNG: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  /** The project's status (PEP 792: archived, quarantined) takes no uploads. */
  PROJECT_STATUS: 409,
  /** An instant older than the history a repository keeps (time travel, historyDays). */
  GONE: 410,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  TOO_MANY_REQUESTS: 429,
  /** A file row whose content the blob store no longer has: storage damage, not a client error. */
  BLOB_MISSING: 500,
  UPSTREAM_FAILED: 502,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class WharfError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'WharfError';
    this.code = code;
    this.status = ErrorCodes[code];
    this.headers = headers;
  }
}

/** The uploaded bytes are not a valid package of the repository's format. */
export const invalidPackage = (message: string) => new WharfError('INVALID_PACKAGE', message);
export const badRequest = (message: string) => new WharfError('BAD_REQUEST', message);
export const notFound = (message = 'not found') => new WharfError('NOT_FOUND', message);
export const conflict = (message: string) => new WharfError('CONFLICT', message);
export const forbidden = (message = 'forbidden') => new WharfError('FORBIDDEN', message);
export const tooLarge = (message: string) => new WharfError('TOO_LARGE', message);
export const unauthorized = (message = 'authentication required', realm = 'wharf') =>
  new WharfError('UNAUTHORIZED', message, { 'www-authenticate': `Basic realm="${realm}"` });

export const blobMissing = (sha256: string, message = `blob ${sha256} is missing from the blob store`) => new WharfError('BLOB_MISSING', message);

export function isWharfError(err: unknown): err is WharfError {
  return err instanceof WharfError;
}
