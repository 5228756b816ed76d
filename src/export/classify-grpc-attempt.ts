// Classifies one OTLP/gRPC attempt as success, retryable or permanent, following the OTLP
// specification's table of gRPC status codes: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
// UNAVAILABLE and DATA_LOSS are retried; RESOURCE_EXHAUSTED only when the server sent a RetryInfo
// (it then expects the client to come back); every other code is permanent. RetryInfo's
// retry_delay is the floor of the next attempt, as Retry-After is for OTLP/HTTP. Pure.
import { status as GrpcStatus } from '@grpc/grpc-js';

import type { DecodeResponse } from './classify-attempt.js';
import type { ExportOutcome } from './export-outcome.js';
import { describeTlsFailure } from './tls-options.js';

/** What happened to one unary call. */
export type GrpcAttempt =
  | { kind: 'response'; body: Uint8Array }
  | { kind: 'error'; code: number; details: string; retryDelayMillis?: number };

const RETRYABLE = new Set<number>([GrpcStatus.CANCELLED, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.ABORTED, GrpcStatus.OUT_OF_RANGE, GrpcStatus.UNAVAILABLE, GrpcStatus.DATA_LOSS]);

/**
 * The HTTP status each permanent code corresponds to (gRPC's own HTTP mapping), so the export
 * worker treats them as it treats OTLP/HTTP refusals: INVALID_ARGUMENT (a bad payload, 400) is
 * bisected to isolate one bad span; UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, UNIMPLEMENTED
 * (configuration) concern every span alike.
 */
const HTTP_EQUIVALENT: Record<number, number> = {
  [GrpcStatus.UNKNOWN]: 500,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAUTHENTICATED]: 401,
};

const EXCERPT_CHARS = 200;

export function classifyGrpcAttempt(attempt: GrpcAttempt, decodeResponse: DecodeResponse): ExportOutcome {
  if (attempt.kind === 'response') {
    if (attempt.body.byteLength === 0) return { kind: 'success', rejectedSpans: 0 };
    try {
      const partial = decodeResponse(attempt.body);
      const rejectedSpans = Number.isFinite(partial.rejectedSpans) && partial.rejectedSpans > 0 ? partial.rejectedSpans : 0;
      return partial.errorMessage ? { kind: 'success', rejectedSpans, message: partial.errorMessage } : { kind: 'success', rejectedSpans };
    } catch {
      return { kind: 'success', rejectedSpans: 0, message: 'backend accepted the request; its response could not be decoded' };
    }
  }
  const name = GrpcStatus[attempt.code] ?? `code ${attempt.code}`;
  const details = attempt.details.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  const excerpt = details.length > EXCERPT_CHARS ? `${details.slice(0, EXCERPT_CHARS)}…` : details;
  // A failed connection is UNAVAILABLE with the socket's error in the details: name a TLS cause.
  const tls = attempt.code === GrpcStatus.UNAVAILABLE ? describeTlsFailure(undefined, details) : undefined;
  const reason = tls ?? (excerpt === '' ? `gRPC ${name}` : `gRPC ${name}: ${excerpt}`);
  const retryAfter = attempt.retryDelayMillis === undefined ? {} : { retryAfterMillis: attempt.retryDelayMillis };
  if (RETRYABLE.has(attempt.code) || (attempt.code === GrpcStatus.RESOURCE_EXHAUSTED && attempt.retryDelayMillis !== undefined)) {
    return { kind: 'retryable', reason, ...retryAfter };
  }
  const httpStatus = HTTP_EQUIVALENT[attempt.code];
  return httpStatus === undefined ? { kind: 'permanent', reason } : { kind: 'permanent', reason, httpStatus };
}
