// Covers src/export/to-readable-span.ts: SpanDraft → ReadableSpan (ids, HrTime precision, kinds,
// status, attribute truncation) and the resource cache. Serialization and HTTP are covered by
// test/integration/otlp-export.test.ts; id derivation by ids.test.ts.

import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';

import { toSpanId, toTraceId } from '../../../src/export/ids.js';
import {
  INSTRUMENTATION_SCOPE_NAME,
  bridgeInstrumentationScope,
  createResourceCache,
  nanosToHrTime,
  toReadableSpan,
  truncateString,
} from '../../../src/export/to-readable-span.js';
import type { DraftSpanKind, DraftStatus } from '../../../src/mapping/span-draft.js';
import { envelope, TS } from '../../helpers/ingestion-events.js';
import { makeDraft } from '../../helpers/make-draft.js';
import { mapBatch, spanOfObservation } from '../../helpers/map-batch.js';


const scope = bridgeInstrumentationScope('1.2.3');
const resource = createResourceCache({}).resourceFor({ 'service.name': 'test' });

describe('nanosToHrTime', () => {
  it.each<[bigint, [number, number]]>([
    [1737566350957072123n, [1737566350, 957072123]],
    [1737566350000000000n, [1737566350, 0]],
    [1737566350999999999n, [1737566350, 999999999]],
    [0n, [0, 0]],
    [-5n, [0, 0]],
    // Year 9999 (Langfuse accepts it) is past what OTLP's unsigned 64-bit nanoseconds can hold.
    [253402300799999999999n, [18446744073, 709551615]],
  ])('converts %s ns exactly', (nanos, expected) => {
    expect(nanosToHrTime(nanos)).toEqual(expected);
  });
});

describe('toReadableSpan', () => {
  it('keeps every nanosecond of the start, end and duration', () => {
    const span = toReadableSpan(makeDraft(), resource, scope);

    expect(span.startTime).toEqual([1737566350, 957072123]);
    expect(span.endTime).toEqual([1737566352, 1]);
    expect(span.duration).toEqual([1, 42927878]);
  });

  it('gives a zero duration when the end is before the start', () => {
    const span = toReadableSpan(makeDraft({ endTimeUnixNano: 1737566350000000000n }), resource, scope);

    expect(span.endTime).toEqual(span.startTime);
    expect(span.duration).toEqual([0, 0]);
  });

  it('derives a sampled span context from the Langfuse ids', () => {
    const span = toReadableSpan(makeDraft(), resource, scope);

    expect(span.spanContext()).toEqual({
      traceId: toTraceId('trace-1'),
      spanId: toSpanId({ type: 'observation', id: 'gen-1' }),
      traceFlags: TraceFlags.SAMPLED,
    });
  });

  it('points the parent context at the parent span in the same trace', () => {
    const span = toReadableSpan(makeDraft(), resource, scope);

    expect(span.parentSpanContext).toEqual({
      traceId: toTraceId('trace-1'),
      spanId: toSpanId({ type: 'root', traceId: 'trace-1' }),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: false,
    });
  });

  it('has no parent context for a root span', () => {
    const { parent: _parent, ...root } = makeDraft({ span: { type: 'root', traceId: 'trace-1' } });

    const span = toReadableSpan(root, resource, scope);

    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().spanId).toBe(toSpanId({ type: 'root', traceId: 'trace-1' }));
  });

  it.each<[DraftSpanKind, SpanKind]>([
    ['INTERNAL', SpanKind.INTERNAL],
    ['SERVER', SpanKind.SERVER],
    ['CLIENT', SpanKind.CLIENT],
    ['PRODUCER', SpanKind.PRODUCER],
    ['CONSUMER', SpanKind.CONSUMER],
  ])('maps kind %s to the API enum', (kind, expected) => {
    expect(toReadableSpan(makeDraft({ kind }), resource, scope).kind).toBe(expected);
  });

  it.each<[DraftStatus, { code: SpanStatusCode; message?: string }]>([
    [{ code: 'UNSET' }, { code: SpanStatusCode.UNSET }],
    [{ code: 'OK' }, { code: SpanStatusCode.OK }],
    [{ code: 'ERROR', message: 'rate limited' }, { code: SpanStatusCode.ERROR, message: 'rate limited' }],
    [{ code: 'ERROR' }, { code: SpanStatusCode.ERROR }],
    [{ code: 'OK', message: 'ignored: only ERROR carries a description' }, { code: SpanStatusCode.OK }],
  ])('maps status %j', (status, expected) => {
    expect(toReadableSpan(makeDraft({ status }), resource, scope).status).toEqual(expected);
  });

  it('fills the fixed parts of a finished span', () => {
    const span = toReadableSpan(makeDraft(), resource, scope);

    expect(span).toMatchObject({
      name: 'chat gpt-4o',
      ended: true,
      links: [],
      events: [],
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      instrumentationScope: { name: INSTRUMENTATION_SCOPE_NAME, version: '1.2.3' },
    });
    expect(span.resource).toBe(resource);
  });

  it('truncates strings and strings in arrays to the value length limit', () => {
    const draft = makeDraft({
      attributes: { text: 'abcdefgh', short: 'abc', list: ['abcdefgh', 'ab'], count: 123456789, flags: [true], nums: [1.5] },
    });

    const span = toReadableSpan(draft, resource, scope, { attributeValueLengthLimit: 4 });

    expect(span.attributes).toEqual({ text: 'abcd', short: 'abc', list: ['abcd', 'ab'], count: 123456789, flags: [true], nums: [1.5] });
  });

  it('passes attributes through unchanged when there is no limit', () => {
    const draft = makeDraft({ attributes: { text: 'x'.repeat(10_000), list: ['a'] } });

    const span = toReadableSpan(draft, resource, scope);

    expect(span.attributes).toEqual({ text: 'x'.repeat(10_000), list: ['a'] });
  });
});

describe('attribute count limit', () => {
  const ordered = makeDraft({
    attributes: {
      'langfuse.observation.metadata.a': 1,
      'langfuse.trace.metadata.b': 2,
      'langfuse.observation.type': 'generation',
      metadata: '{"x":1}',
      'gen_ai.request.model': 'gpt-4o',
      'langfuse.observation.metadata': 'scalar',
      'user.id': 'u',
      'error.type': 'timeout',
    },
  });

  it('keeps semantic-convention names first, then langfuse.*, then metadata, in mapping order within each', () => {
    const keep = (limit: number) => Object.keys(toReadableSpan(ordered, resource, scope, { attributeCountLimit: limit }).attributes);
    // OpenInference's `metadata` is one first-class attribute, not flattened metadata.
    expect(keep(3)).toEqual(['metadata', 'gen_ai.request.model', 'user.id']);
    expect(keep(4)).toEqual(['metadata', 'gen_ai.request.model', 'user.id', 'error.type']);
    expect(keep(5)).toEqual(['langfuse.observation.type', 'metadata', 'gen_ai.request.model', 'user.id', 'error.type']);
    expect(keep(6)).toEqual(['langfuse.observation.metadata.a', 'langfuse.observation.type', 'metadata', 'gen_ai.request.model', 'user.id', 'error.type']);
    expect(keep(0)).toEqual([]);
    expect(toReadableSpan(ordered, resource, scope, { attributeCountLimit: 5 }).droppedAttributesCount).toBe(3);
  });

  it('keeps the gen_ai.* attributes of a generation with much metadata (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT=6)', () => {
    const metadata = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key${i}`, `value${i}`]));
    const body = {
      batch: [
        envelope('trace-create', { id: 't-limit', timestamp: TS, name: 'chat', userId: 'u-1', sessionId: 's-1', metadata }),
        envelope('generation-create', {
          id: 'g-limit', traceId: 't-limit', name: 'chat', startTime: TS, endTime: TS, model: 'gpt-4o-mini',
          usage: { input: 10, output: 5, unit: 'TOKENS' }, metadata,
        }),
      ],
    };
    const draft = spanOfObservation(mapBatch(body), 'g-limit');
    const all = Object.keys(draft.attributes);
    const span = toReadableSpan(draft, resource, scope, { attributeCountLimit: 6 });
    const kept = Object.keys(span.attributes);
    expect(kept).toHaveLength(6);
    expect(kept).toEqual(all.filter((key) => !key.startsWith('langfuse.')).slice(0, 6));
    expect(kept).toEqual(expect.arrayContaining(['user.id', 'session.id', 'gen_ai.operation.name', 'gen_ai.request.model']));
    // Before the priority, the mapping's order kept flattened metadata and no gen_ai.* name.
    expect(all.slice(0, 6).some((key) => key.startsWith('gen_ai.'))).toBe(false);
    expect(span.droppedAttributesCount).toBe(all.length - 6);
  });
});

describe('truncateString', () => {
  it.each([
    ['counts code points, keeping a surrogate pair whole', 'a😀b', 2, 'a😀'],
    ['never splits a surrogate pair', '😀😀😀', 1, '😀'],
    ['returns short strings unchanged', 'abc', 3, 'abc'],
    ['returns an empty string for limit 0', 'abc', 0, ''],
  ])('%s', (_case, value, limit, expected) => {
    expect(truncateString(value, limit)).toBe(expected);
  });
});

describe('createResourceCache', () => {
  it('returns the same object for equal attribute sets in any key order', () => {
    const cache = createResourceCache({});

    const first = cache.resourceFor({ 'service.name': 'litellm', 'langfuse.sdk.name': 'python' });
    const second = cache.resourceFor({ 'langfuse.sdk.name': 'python', 'service.name': 'litellm' });

    expect(second).toBe(first);
  });

  it('returns different objects for different attribute sets', () => {
    const cache = createResourceCache({});

    expect(cache.resourceFor({ 'service.name': 'a' })).not.toBe(cache.resourceFor({ 'service.name': 'b' }));
  });

  it('layers base attributes under the draft resource and adds nothing else', () => {
    const cache = createResourceCache({ 'deployment.region': 'eu', 'service.name': 'from-env', team: 'llm' });

    const created = cache.resourceFor({ 'service.name': 'litellm', team: 'ml' });

    expect(created.attributes).toEqual({ 'service.name': 'litellm', 'deployment.region': 'eu', team: 'ml' });
  });

  it('lets the service name override win over every other layer', () => {
    const cache = createResourceCache({ 'service.name': 'from-resource-attributes' }, 'from-otel-service-name');

    const created = cache.resourceFor({ 'service.name': 'litellm' });

    expect(created.attributes['service.name']).toBe('from-otel-service-name');
  });

  it('falls back to unknown_service when no layer names the service', () => {
    const created = createResourceCache({}).resourceFor({});

    expect(created.attributes).toEqual({ 'service.name': 'unknown_service' });
  });
});
