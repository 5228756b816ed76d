// Classifies one OTLP/HTTP attempt as success, retryable or permanent, following the OTLP spec
// and the Collector's otlphttp exporter. Pure; it decides, it does not retry or log.

import type { ExportOutcome } from './export-outcome.js';
import type { HttpAttempt } from './post-once.js';
import { describeTlsFailure } from './tls-options.js';

/** A decoded OTLP `partial_success`; `rejectedSpans` is 0 when the response had none. */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage?: string;
}

/** Decodes a 2xx response body; may throw on a body it cannot read. */
export type DecodeResponse = (body: Uint8Array) => PartialSuccess;

/** Statuses the OTLP spec lets clients retry; every other 4xx/5xx MUST NOT be retried. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

const EXCERPT_CHARS = 200;

/**
 * The outcome of one attempt:
 * - 2xx: success, with partial-success counts when the body has them. An unreadable 2xx body
 *   is still a success (the data was accepted; resending would duplicate it), with a message.
 * - 429/502/503/504, network errors and timeouts: retryable, with `Retry-After` when sent.
 * - any other status: permanent, with the status and a short excerpt of the body.
 */
export function classifyAttempt(
  attempt: HttpAttempt,
  decodeResponse: DecodeResponse,
  nowMillis: number = Date.now(),
): ExportOutcome {
  switch (attempt.kind) {
    case 'timeout':
      return { kind: 'retryable', reason: `no response within ${attempt.timeoutMillis} ms` };
    case 'network-error':
      // The spec retries disconnects and failed connects. TLS failures are retried too, with a
      // reason naming what to fix: dead-lettering every span because of a fixable setting would
      // lose data, and the restart with the right settings sends them.
      return { kind: 'retryable', reason: describeTlsFailure(attempt.code, attempt.message, attempt.afterTlsHandshake) ?? `network error: ${attempt.code ?? attempt.message}` };
    case 'response':
      break;
  }

  const { statusCode } = attempt;
  if (statusCode >= 200 && statusCode <= 299) return classifySuccess(attempt.body, decodeResponse);

  const statusText = `HTTP ${statusCode}`;
  if (RETRYABLE_STATUSES.has(statusCode)) {
    const retryAfterMillis = parseRetryAfterMillis(headerValue(attempt.headers['retry-after']), nowMillis);
    return retryAfterMillis === undefined
      ? { kind: 'retryable', reason: statusText }
      : { kind: 'retryable', reason: statusText, retryAfterMillis };
  }

  const excerpt = bodyExcerpt(attempt.body, headerValue(attempt.headers['content-type']));
  return {
    kind: 'permanent',
    reason: excerpt === '' ? statusText : `${statusText}: ${excerpt}`,
    httpStatus: statusCode,
  };
}

/**
 * `Retry-After` as milliseconds from `nowMillis`: delay-seconds, or an HTTP-date (a date in
 * the past means 0). Undefined when absent or unreadable.
 */
export function parseRetryAfterMillis(value: string | undefined, nowMillis: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only accept something that looks like a date; Date.parse would take "5.5" as a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMillis);
}

function classifySuccess(body: Buffer, decodeResponse: DecodeResponse): ExportOutcome {
  if (body.byteLength === 0) return { kind: 'success', rejectedSpans: 0 };
  let partial: PartialSuccess;
  try {
    partial = decodeResponse(body);
  } catch {
    return { kind: 'success', rejectedSpans: 0, message: 'backend accepted the request; its response body could not be decoded' };
  }
  const rejectedSpans = Number.isFinite(partial.rejectedSpans) && partial.rejectedSpans > 0 ? partial.rejectedSpans : 0;
  return partial.errorMessage
    ? { kind: 'success', rejectedSpans, message: partial.errorMessage }
    : { kind: 'success', rejectedSpans };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A short, printable excerpt of an error body. A protobuf body is a `google.rpc.Status`
 * (OTLP spec), so its `message` field is extracted instead of showing binary.
 */
function bodyExcerpt(body: Buffer, contentType: string | undefined): string {
  if (body.byteLength === 0) return '';
  const text = contentType?.includes('protobuf') ? (rpcStatusMessage(body) ?? '') : body.toString('utf8');
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]+/g, ' ').trim();
  return printable.length > EXCERPT_CHARS ? `${printable.slice(0, EXCERPT_CHARS)}…` : printable;
}

/** Field 2 (`message`, string) of a protobuf `google.rpc.Status`, or undefined. */
function rpcStatusMessage(body: Uint8Array): string | undefined {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = body[pos++];
      if (byte === undefined || shift > 63) throw new Error('truncated varint');
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  };
  try {
    while (pos < body.length) {
      const tag = readVarint();
      const field = Math.floor(tag / 8);
      const wireType = tag % 8;
      if (wireType === 0) readVarint();
      else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else if (wireType === 2) {
        const length = readVarint();
        if (pos + length > body.length) return undefined;
        if (field === 2) return Buffer.from(body.subarray(pos, pos + length)).toString('utf8');
        pos += length;
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
