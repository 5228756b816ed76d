// Turns a SpanDraft into its OTel values: the EncodableSpan the protobuf writer takes (ids,
// clamped times, limited attributes, status), and from it the sdk-trace-base ReadableSpan the
// official serializers read (JSON, console); caches Resources so equal attribute sets share one
// object. Pure; no network, no environment reads.

import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { Attributes, AttributeValue, HrTime, SpanContext, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type {
  DraftAttributes,
  DraftAttributeValue,
  DraftSpanKind,
  DraftStatus,
  SpanDraft,
} from '../mapping/span-draft.js';
import { toSpanId, toTraceId } from './ids.js';
import { spanFlags, type EncodableSpan } from './otlp-protobuf.js';

/** The instrumentation scope name of every span the bridge emits. */
export const INSTRUMENTATION_SCOPE_NAME = 'langfuse-otel-bridge';

/** The scope for spans emitted by this bridge version. */
export function bridgeInstrumentationScope(bridgeVersion: string): InstrumentationScope {
  return { name: INSTRUMENTATION_SCOPE_NAME, version: bridgeVersion };
}

export interface ReadableSpanOptions {
  /**
   * Longest string attribute value, in characters (Unicode code points), like
   * `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`; applies to strings and to strings inside string
   * arrays. A non-negative integer; absent means no limit.
   */
  attributeValueLengthLimit?: number;
  /**
   * Most attributes on one span, like `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`: the ones of highest
   * {@link attributeCutPriority} are kept (semantic-convention names, then `langfuse.*`, then
   * metadata), the rest counted in `dropped_attributes_count`. Absent: no limit.
   */
  attributeCountLimit?: number;
}

const NANOS_PER_SECOND = 1_000_000_000n;

const SPAN_KINDS: Record<DraftSpanKind, SpanKind> = {
  INTERNAL: SpanKind.INTERNAL,
  SERVER: SpanKind.SERVER,
  CLIENT: SpanKind.CLIENT,
  PRODUCER: SpanKind.PRODUCER,
  CONSUMER: SpanKind.CONSUMER,
};

const STATUS_CODES: Record<DraftStatus['code'], SpanStatusCode> = {
  UNSET: SpanStatusCode.UNSET,
  OK: SpanStatusCode.OK,
  ERROR: SpanStatusCode.ERROR,
};

/**
 * A draft's OTel values, as the protobuf writer takes them: ids from ids.ts, times clamped into
 * OTLP's range (every nanosecond kept), attributes limited, a finished, sampled span. Never
 * throws for a well-typed draft.
 */
export function toEncodableSpan(draft: SpanDraft, options: ReadableSpanOptions = {}): EncodableSpan {
  const startNanos = clampToEpoch(draft.startTimeUnixNano);
  // Like the SDK's Span.end(): an end before the start (clock skew in client data) becomes the
  // start, so the duration is never negative.
  const endNanos = maxBigInt(clampToEpoch(draft.endTimeUnixNano), startNanos);
  const { attributes, dropped } = limitAttributes(draft.attributes, options.attributeValueLengthLimit, options.attributeCountLimit);
  const status = toSpanStatus(draft.status);
  return {
    traceId: toTraceId(draft.traceId, draft.tenant),
    spanId: toSpanId(draft.span, draft.tenant),
    parentSpanId: draft.parent ? toSpanId(draft.parent, draft.tenant) : undefined,
    name: draft.name,
    kind: SPAN_KINDS[draft.kind] + 1,
    startNanos,
    endNanos,
    attributes,
    droppedAttributesCount: dropped,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    statusCode: status.code,
    statusMessage: status.message,
    flags: spanFlags(TraceFlags.SAMPLED, false),
  };
}

/**
 * Builds a finished, sampled ReadableSpan from a draft, with the values of {@link toEncodableSpan}.
 * `resource` should come from a {@link ResourceCache} so spans of one resource share the object
 * (the OTLP transformer groups by identity). Never throws for a well-typed draft.
 */
export function toReadableSpan(
  draft: SpanDraft,
  resource: Resource,
  scope: InstrumentationScope,
  options: ReadableSpanOptions = {},
): ReadableSpan {
  const span = toEncodableSpan(draft, options);
  const context: SpanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED };
  const parentSpanContext: SpanContext | undefined =
    span.parentSpanId !== undefined ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false } : undefined;
  const code = span.statusCode as SpanStatusCode;
  return {
    name: span.name,
    kind: (span.kind - 1) as SpanKind,
    spanContext: () => context,
    parentSpanContext,
    startTime: nanosToHrTime(span.startNanos),
    endTime: nanosToHrTime(span.endNanos),
    duration: nanosToHrTime(span.endNanos - span.startNanos),
    status: span.statusMessage !== undefined ? { code, message: span.statusMessage } : { code },
    attributes: span.attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/**
 * Nanoseconds since the epoch as an OTel HrTime `[seconds, nanos]`, with integer arithmetic
 * so no digit is lost (a float holds only ~15.9 significant digits; epoch nanos need 19).
 */
export function nanosToHrTime(nanos: bigint): HrTime {
  const clamped = clampToEpoch(nanos);
  return [Number(clamped / NANOS_PER_SECOND), Number(clamped % NANOS_PER_SECOND)];
}

/** Truncates a string to at most `limit` code points, never splitting a surrogate pair. */
export function truncateString(value: string, limit: number): string {
  // UTF-16 length is an upper bound on the code-point count: short strings need no walk.
  if (value.length <= limit) return value;
  let index = 0;
  for (let count = 0; count < limit && index < value.length; count++) {
    const unit = value.charCodeAt(index);
    const next = value.charCodeAt(index + 1);
    const isPair = unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    index += isPair ? 2 : 1;
  }
  return value.slice(0, index);
}

/** A cache handing out one shared Resource per distinct set of resource attributes. */
export interface ResourceCache {
  /** The Resource for a draft's own resource attributes, merged with the configured layers. */
  resourceFor(draftResource: DraftAttributes): Resource;
}

/** More distinct resources than this are unlikely; the bound keeps odd input from growing memory. */
const MAX_CACHED_RESOURCES = 256;

/**
 * Resource attributes are, from weakest to strongest: `base` (OTEL_RESOURCE_ATTRIBUTES, parsed
 * by the caller), the draft's own resource attributes, then `serviceNameOverride`
 * (OTEL_SERVICE_NAME), which wins over everything. Without any `service.name` the spec's
 * `unknown_service` is used. Only the given attributes appear: `resourceFromAttributes` runs
 * no detectors, so no host or process attributes are added.
 */
export function createResourceCache(
  base: Readonly<Record<string, string>>,
  serviceNameOverride?: string,
): ResourceCache {
  const cache = new Map<string, Resource>();
  return {
    resourceFor(draftResource) {
      const merged: Attributes = { 'service.name': 'unknown_service', ...base, ...draftResource };
      if (serviceNameOverride !== undefined && serviceNameOverride !== '') {
        merged['service.name'] = serviceNameOverride;
      }
      const key = canonicalKey(merged);
      const cached = cache.get(key);
      if (cached) return cached;

      const resource = resourceFromAttributes(merged);
      if (cache.size >= MAX_CACHED_RESOURCES) {
        // Evicting only costs grouping: a later span with these attributes gets a new object.
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(key, resource);
      return resource;
    },
  };
}

function toSpanStatus(status: DraftStatus): SpanStatus {
  const code = STATUS_CODES[status.code];
  // The OTel spec allows a description only with ERROR.
  return code === SpanStatusCode.ERROR && status.message !== undefined
    ? { code, message: status.message }
    : { code };
}

function limitAttributes(attributes: DraftAttributes, lengthLimit: number | undefined, countLimit: number | undefined): { attributes: Attributes; dropped: number } {
  // Drafts are never changed once built, so without a limit the span shares their attributes
  // (and no entry list is built per span).
  if (lengthLimit === undefined && countLimit === undefined) return { attributes, dropped: 0 };
  const entries = Object.entries(attributes);
  const dropped = countLimit === undefined ? 0 : Math.max(0, entries.length - countLimit);
  if (lengthLimit === undefined && dropped === 0) return { attributes, dropped };
  const kept = dropped > 0 ? keptByPriority(entries, countLimit!) : entries;
  const out: Attributes = {};
  for (const [key, value] of kept) out[key] = lengthLimit === undefined ? value : limitValue(value, lengthLimit);
  return { attributes: out, dropped };
}

/**
 * Which attributes a count limit cuts last. Users set the limit to keep Jaeger/Tempo storage small
 * and still expect the semantic-convention attributes, so the cut goes by priority, not by the
 * mapping's order (which puts a generation's flattened metadata before its gen_ai.* names):
 * 0. the mapping's first-class names: everything not under `langfuse.` and not metadata
 *    (`gen_ai.*`, `error.type`, `user.id`, `session.id`, OpenInference's `llm.*` and `metadata`);
 * 1. `langfuse.*` observation, trace and score attributes;
 * 2. metadata: a `metadata` segment after the first (`langfuse.observation.metadata.*`,
 *    `langfuse.trace.metadata.*`, `*.metadata`), cut first.
 * Within a priority the mapping's order decides.
 */
export function attributeCutPriority(key: string): 0 | 1 | 2 {
  if (METADATA_SEGMENT.test(key)) return 2;
  return key.startsWith('langfuse.') ? 1 : 0;
}

const METADATA_SEGMENT = /\.metadata(\.|$)/;

/** The `limit` entries of highest priority, in the mapping's order. */
function keptByPriority(entries: Array<[string, DraftAttributeValue]>, limit: number): Array<[string, DraftAttributeValue]> {
  const priorities = entries.map(([key]) => attributeCutPriority(key));
  const counts = [0, 0, 0];
  for (const p of priorities) counts[p]!++;
  // The lowest priority that still fits (partly), and how many of it fit.
  let room = limit;
  let last = 0;
  while (last < 2 && room > counts[last]!) room -= counts[last++]!;
  return entries.filter((_, i) => {
    const p = priorities[i]!;
    if (p < last) return true;
    if (p > last || room === 0) return false;
    room--;
    return true;
  });
}

function limitValue(value: DraftAttributeValue, limit: number): AttributeValue {
  if (typeof value === 'string') return truncateString(value, limit);
  if (Array.isArray(value)) {
    // Per the spec, limits apply element-wise to arrays; only string elements can shrink.
    return value.map((item) => (typeof item === 'string' ? truncateString(item, limit) : item)) as AttributeValue;
  }
  return value;
}

function canonicalKey(attributes: Attributes): string {
  const keys = Object.keys(attributes).sort();
  return JSON.stringify(keys.map((key) => [key, attributes[key]]));
}

const MAX_UINT64 = 2n ** 64n - 1n;

/**
 * OTLP times are unsigned 64-bit: a pre-1970 time from bad input becomes the epoch, and one past
 * 2554 (Langfuse accepts year 9999) the largest time, instead of wrapping.
 */
function clampToEpoch(nanos: bigint): bigint {
  return nanos < 0n ? 0n : nanos > MAX_UINT64 ? MAX_UINT64 : nanos;
}

function maxBigInt(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
