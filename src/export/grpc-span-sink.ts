// The SpanSink over OTLP/gRPC (`protocol: grpc`): the same encoded payloads as OTLP/HTTP protobuf
// (an ExportTraceServiceRequest per span, which concatenate into one), sent as they are in one
// unary call to opentelemetry.proto.collector.trace.v1.TraceService/Export with @grpc/grpc-js and
// identity (de)serializers: no second encoding. Headers go as metadata, gzip as the call's
// compression, TLS for an `https` endpoint. One attempt per call; retrying is the export worker's.
import { Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

import type { TlsMaterial } from '../config/tls-config.js';
import { createAttemptGate } from './attempt-gate.js';
import type { DecodeResponse } from './classify-attempt.js';
import { classifyGrpcAttempt, type GrpcAttempt } from './classify-grpc-attempt.js';
import { grpcCredentials, grpcTarget } from './grpc-credentials.js';
import { retryDelayMillis } from './grpc-status.js';
import { createSpanEncoder, type SpanEncoderOptions } from './span-encoder.js';
import { toPartialSuccess, type SpanSink } from './span-sink.js';

export const TRACE_EXPORT_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export interface GrpcSinkOptions extends Omit<SpanEncoderOptions, 'encoding'> {
  /** `http://host:port` (plaintext) or `https://host:port` (TLS); a path is ignored. */
  url: string;
  /** Sent as metadata (names in lower case). */
  headers?: Record<string, string>;
  /** The call's deadline. */
  timeoutMillis: number;
  /** @defaultValue 'none' */
  compression?: 'gzip' | 'none';
  tls?: TlsMaterial;
}

/** grpc-js's compression algorithm ids (compression-algorithms.ts): 2 is gzip. */
const GZIP = 2;

const identity = (bytes: Buffer): Buffer => bytes;

/** Throws at creation for invalid options (a startup error); `send` never rejects. */
export function createGrpcSpanSink(options: GrpcSinkOptions): SpanSink {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`Configuration: url is invalid, expected an http(s) URL (actual: '${options.url}')`);
  }
  const encode = createSpanEncoder({ ...options, encoding: 'protobuf' });
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    try {
      metadata.set(name.toLowerCase(), value);
    } catch {
      throw new Error(`Configuration: headers is invalid, expected valid gRPC metadata names and values (actual header: '${name}')`);
    }
  }
  const client = new Client(grpcTarget(url), grpcCredentials(url, options.tls), {
    'grpc.primary_user_agent': `langfuse-otel-bridge/${options.bridgeVersion}`,
    ...(options.compression === 'gzip' ? { 'grpc.default_compression_algorithm': GZIP } : {}),
  });
  const decodeResponse: DecodeResponse = (body) => toPartialSuccess(ProtobufTraceSerializer.deserializeResponse(body));
  const gate = createAttemptGate('gRPC span sink', { destroy: () => client.close() });

  const call = (body: Buffer): Promise<GrpcAttempt> =>
    new Promise((resolve) => {
      client.makeUnaryRequest<Buffer, Buffer>(
        TRACE_EXPORT_METHOD,
        identity,
        identity,
        body,
        metadata.clone(),
        { deadline: Date.now() + options.timeoutMillis },
        (error: ServiceError | null, response?: Buffer) => {
          if (!error) {
            resolve({ kind: 'response', body: response ?? Buffer.alloc(0) });
            return;
          }
          const details = error.metadata?.get('grpc-status-details-bin')[0];
          const delay = retryDelayMillis(typeof details === 'string' ? undefined : details);
          resolve({ kind: 'error', code: error.code, details: error.details ?? error.message, ...(delay === undefined ? {} : { retryDelayMillis: delay }) });
        },
      );
    });

  return {
    encode,
    send(payloads) {
      return gate.run(async () => {
        if (payloads.length === 0) return { kind: 'success', rejectedSpans: 0 };
        // Serialized ExportTraceServiceRequests concatenate into one (`resource_spans` is repeated).
        const body = Buffer.concat(payloads);
        return classifyGrpcAttempt(await call(body), decodeResponse);
      });
    },
    shutdown: () => gate.shutdown(),
  };
}
