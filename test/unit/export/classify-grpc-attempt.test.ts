// gRPC outcomes onto success / retryable / permanent, as the OTLP specification's table says.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { classifyGrpcAttempt } from '../../../src/export/classify-grpc-attempt.js';
import { grpcStatusTypes, RETRY_INFO_TYPE, retryDelayMillis } from '../../../src/export/grpc-status.js';

const decode = (body: Uint8Array) => ({ rejectedSpans: body[0] ?? 0, ...(body[0] ? { errorMessage: 'too old' } : {}) });

describe('classifyGrpcAttempt', () => {
  it('OK is a success, with the partial success the response carries', () => {
    expect(classifyGrpcAttempt({ kind: 'response', body: new Uint8Array() }, decode)).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(classifyGrpcAttempt({ kind: 'response', body: Uint8Array.of(3) }, decode)).toEqual({ kind: 'success', rejectedSpans: 3, message: 'too old' });
    expect(classifyGrpcAttempt({ kind: 'response', body: Uint8Array.of(1) }, () => { throw new Error('bad'); })).toMatchObject({ kind: 'success', rejectedSpans: 0 });
  });

  it('RESOURCE_EXHAUSTED is retried only with RetryInfo; permanent codes carry their HTTP equivalent (400 bisects, 401 does not)', () => {
    expect(classifyGrpcAttempt({ kind: 'error', code: status.RESOURCE_EXHAUSTED, details: 'quota', retryDelayMillis: 2000 }, decode)).toEqual({ kind: 'retryable', reason: 'gRPC RESOURCE_EXHAUSTED: quota', retryAfterMillis: 2000 });
    expect(classifyGrpcAttempt({ kind: 'error', code: status.RESOURCE_EXHAUSTED, details: 'quota' }, decode)).toEqual({ kind: 'permanent', reason: 'gRPC RESOURCE_EXHAUSTED: quota', httpStatus: 429 });
    expect(classifyGrpcAttempt({ kind: 'error', code: status.INVALID_ARGUMENT, details: '' }, decode)).toEqual({ kind: 'permanent', reason: 'gRPC INVALID_ARGUMENT', httpStatus: 400 });
    expect(classifyGrpcAttempt({ kind: 'error', code: status.UNAUTHENTICATED, details: 'no key' }, decode)).toMatchObject({ httpStatus: 401 });
  });

  it('names a TLS cause inside UNAVAILABLE', () => {
    const outcome = classifyGrpcAttempt({ kind: 'error', code: status.UNAVAILABLE, details: 'No connection established. Last error: Error: self-signed certificate in certificate chain.' }, decode);
    expect(outcome).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/^TLS handshake failed: unknown CA: .*\(SELF_SIGNED_CERT_IN_CHAIN\)$/) });
  });
});

describe('retryDelayMillis', () => {
  const { Status, RetryInfo } = grpcStatusTypes;
  const statusWith = (details: Array<{ typeUrl: string; value: Uint8Array }>) => Status.encode(Status.fromObject({ code: 14, message: 'x', details })).finish();
  it('reads google.rpc.RetryInfo.retry_delay from a google.rpc.Status; nothing otherwise', () => {
    const retryInfo = RetryInfo.encode(RetryInfo.fromObject({ retryDelay: { seconds: 2, nanos: 500_000_000 } })).finish();
    expect(retryDelayMillis(statusWith([{ typeUrl: 'type.googleapis.com/google.rpc.DebugInfo', value: Uint8Array.of() }, { typeUrl: RETRY_INFO_TYPE, value: retryInfo }]))).toBe(2500);
    expect(retryDelayMillis(statusWith([]))).toBeUndefined();
    expect(retryDelayMillis(undefined)).toBeUndefined();
    expect(retryDelayMillis(Uint8Array.of(0xff, 0xff, 0xff))).toBeUndefined();
  });
});
