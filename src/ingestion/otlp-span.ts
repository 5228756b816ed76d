// OTLP trace data as plain values, after the receiver decoded it (protobuf or JSON): hex ids,
// nanosecond times as decimal strings, attribute values as JSON-like values. The shape the
// converter (otlp-to-events.ts) reads and the spool stores for spans that pass through unchanged.
// Knows nothing of HTTP, protobuf or OpenTelemetry SDK types.
import type { JsonValue } from './ingestion-event.js';

/** Attribute map: OTLP `AnyValue`s as JSON values (int64 beyond 2^53 kept as a decimal string). */
export type OtlpAttributes = Record<string, JsonValue>;

export interface OtlpScope {
  name: string;
  version?: string;
}

export interface OtlpSpan {
  /** 32 lower-case hex digits, as sent. */
  traceId: string;
  /** 16 lower-case hex digits, as sent. */
  spanId: string;
  /** 16 lower-case hex digits; absent for a span without parent. */
  parentSpanId?: string;
  name: string;
  /** OTLP `SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** Nanoseconds since the epoch, decimal. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttributes;
  /** OTLP `StatusCode`: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
}

/** A span the receiver could not read (missing or malformed ids): counted as rejected. */
export interface InvalidOtlpSpan {
  invalid: string;
}

export interface OtlpScopeSpans {
  scope: OtlpScope;
  spans: Array<OtlpSpan | InvalidOtlpSpan>;
}

export interface OtlpResourceSpans {
  resource: OtlpAttributes;
  scopeSpans: OtlpScopeSpans[];
}

/** An `ExportTraceServiceRequest`, decoded. */
export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

export function isInvalidSpan(span: OtlpSpan | InvalidOtlpSpan): span is InvalidOtlpSpan {
  return (span as InvalidOtlpSpan).invalid !== undefined;
}
