// The per-request bounds of the ingestion route, as answers: too many events in one batch, and the
// 207's error list cut to its first entries plus one entry that counts the rest. Plain data; the
// route decides when to apply them. The summary entry has the shape of every other error entry, so
// SDKs that read `errors` (id, status, message, error) read it too.
import type { IngestionResponseBody } from './http-answers.js';

type ErrorEntry = IngestionResponseBody['errors'][number];

/** The id of the entry that stands for the errors left out. */
export const TRUNCATED_ERRORS_ID = 'bridge-errors-truncated';

export function tooManyEventsBody(count: number, maxEvents: number): { error: string; message: string } {
  return {
    error: 'PayloadTooLargeError',
    message: `The batch holds ${count} events; at most ${maxEvents} are accepted per request (BRIDGE_MAX_EVENTS_PER_REQUEST). Send smaller batches.`,
  };
}

/** The first `maxErrors` errors, then one entry giving the count of the rest. */
export function capErrors<E extends ErrorEntry>(errors: readonly E[], maxErrors: number): Array<E | ErrorEntry> {
  if (errors.length <= maxErrors) return [...errors];
  const rest = errors.length - maxErrors;
  return [
    ...errors.slice(0, maxErrors),
    {
      id: TRUNCATED_ERRORS_ID,
      status: 400,
      message: 'Invalid request data',
      error: `${rest} more events were rejected; only the first ${maxErrors} errors are listed (BRIDGE_MAX_ERRORS_PER_RESPONSE)`,
    },
  ];
}
