// The result of one export attempt, as a value: the export worker branches on `kind` to retry,
// dead-letter or acknowledge. Plain data; knows nothing of HTTP clients or OTel SDK types.

/**
 * - `success`: the backend accepted the request (2xx). `rejectedSpans` counts spans it refused
 *   in an OTLP partial success; those MUST NOT be retried. `message` is the backend's
 *   partial-success message or a note about an undecodable response body.
 * - `retryable`: 429/502/503/504, a network error or a timeout. `retryAfterMillis` is the
 *   server's `Retry-After` (a floor for the next attempt), when it sent one.
 * - `permanent`: any other status, or data that cannot be encoded; retrying cannot help.
 */
export type ExportOutcome =
  | { kind: 'success'; rejectedSpans: number; message?: string }
  | { kind: 'retryable'; reason: string; retryAfterMillis?: number }
  | { kind: 'permanent'; reason: string; httpStatus?: number };
