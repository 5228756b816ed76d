// Covers src/export/classify-attempt.ts: which HTTP results are success, retryable or permanent,
// Retry-After parsing, partial success and error excerpts. The real HTTP exchange is covered by
// test/integration/otlp-export.test.ts.

import type { IncomingHttpHeaders } from 'node:http';

import { describe, expect, it } from 'vitest';

import { classifyAttempt, parseRetryAfterMillis } from '../../../src/export/classify-attempt.js';
import type { DecodeResponse } from '../../../src/export/classify-attempt.js';
import type { HttpAttempt } from '../../../src/export/post-once.js';

const NOW = Date.parse('2026-01-22T12:00:00Z');
const noPartialSuccess: DecodeResponse = () => ({ rejectedSpans: 0 });

function response(statusCode: number, headers: IncomingHttpHeaders = {}, body = ''): HttpAttempt {
  return { kind: 'response', statusCode, headers, body: Buffer.from(body), bodyComplete: true };
}

describe('classifyAttempt', () => {
  it.each([200, 202, 204])('returns success for %i', (status) => {
    expect(classifyAttempt(response(status), noPartialSuccess, NOW)).toEqual({ kind: 'success', rejectedSpans: 0 });
  });

  it('counts rejected spans of a partial success', () => {
    const decode: DecodeResponse = () => ({ rejectedSpans: 3, errorMessage: 'spans too old' });

    const outcome = classifyAttempt(response(200, {}, 'x'), decode, NOW);

    expect(outcome).toEqual({ kind: 'success', rejectedSpans: 3, message: 'spans too old' });
  });

  it('returns success with a note when a 2xx body cannot be decoded', () => {
    const decode: DecodeResponse = () => {
      throw new Error('bad protobuf');
    };

    const outcome = classifyAttempt(response(200, {}, 'garbage'), decode, NOW);

    expect(outcome).toMatchObject({ kind: 'success', rejectedSpans: 0, message: expect.stringContaining('could not be decoded') });
  });

  it.each([429, 502, 503, 504])('returns retryable for %i', (status) => {
    expect(classifyAttempt(response(status), noPartialSuccess, NOW)).toEqual({ kind: 'retryable', reason: `HTTP ${status}` });
  });

  it('carries Retry-After of a retryable status', () => {
    const outcome = classifyAttempt(response(503, { 'retry-after': '7' }), noPartialSuccess, NOW);

    expect(outcome).toEqual({ kind: 'retryable', reason: 'HTTP 503', retryAfterMillis: 7000 });
  });

  it.each([400, 401, 403, 404, 413, 500, 501])('returns permanent for %i', (status) => {
    const outcome = classifyAttempt(response(status, { 'content-type': 'text/plain' }, 'nope'), noPartialSuccess, NOW);

    expect(outcome).toEqual({ kind: 'permanent', reason: `HTTP ${status}: nope`, httpStatus: status });
  });

  it('shortens a long error body and strips control characters', () => {
    const outcome = classifyAttempt(response(400, {}, `line1\nline2\u0000${'x'.repeat(500)}`), noPartialSuccess, NOW);

    expect(outcome.kind).toBe('permanent');
    const reason = outcome.kind === 'permanent' ? outcome.reason : '';
    expect(reason.startsWith('HTTP 400: line1 line2 xxx')).toBe(true);
    expect(reason.length).toBeLessThan(230);
  });

  it('reads the message of a protobuf google.rpc.Status error body', () => {
    // Status { code: 3 (field 1), message: "bad span" (field 2) }
    const body = Buffer.concat([Buffer.from([0x08, 0x03, 0x12, 0x08]), Buffer.from('bad span')]);
    const attempt: HttpAttempt = { kind: 'response', statusCode: 400, headers: { 'content-type': 'application/x-protobuf' }, body, bodyComplete: true };

    expect(classifyAttempt(attempt, noPartialSuccess, NOW)).toEqual({ kind: 'permanent', reason: 'HTTP 400: bad span', httpStatus: 400 });
  });

  it('returns retryable for a timeout', () => {
    const outcome = classifyAttempt({ kind: 'timeout', timeoutMillis: 300 }, noPartialSuccess, NOW);

    expect(outcome).toEqual({ kind: 'retryable', reason: 'no response within 300 ms' });
  });

  it('returns retryable for a network error', () => {
    const outcome = classifyAttempt({ kind: 'network-error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, noPartialSuccess, NOW);

    expect(outcome).toEqual({ kind: 'retryable', reason: 'network error: ECONNREFUSED' });
  });
});

describe('parseRetryAfterMillis', () => {
  it.each<[string | undefined, number | undefined]>([
    ['120', 120_000],
    [' 5 ', 5000],
    ['0', 0],
    ['Thu, 22 Jan 2026 12:00:30 GMT', 30_000],
    ['Thu, 22 Jan 2026 11:00:00 GMT', 0],
    ['5.5', undefined],
    ['-1', undefined],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('parses %j as %j ms', (value, expected) => {
    expect(parseRetryAfterMillis(value, NOW)).toBe(expected);
  });
});
