import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finishTrace, foldTraceEvent, mergeMetadata, mergeObservationEvents, mergeScoreEvents, mergeTraceEvents } from '../../../src/assembly/merge.js';
import type { ObservationEvent, ScoreEvent, TraceEvent } from '../../../src/ingestion/ingestion-event.js';

let n = 0;
const ts = (s: number) => `2026-11-26T10:00:${String(s).padStart(2, '0')}.000000001Z`;
const trace = (s: number, body: Partial<TraceEvent['body']>): TraceEvent => ({ id: `e${++n}`, type: 'trace-create', timestamp: ts(s), body: { environment: 'default', ...body } });
const obs = (type: ObservationEvent['type'], s: number, body: Partial<ObservationEvent['body']>): ObservationEvent => ({
  id: `e${++n}`,
  type,
  timestamp: ts(s),
  body: { environment: 'default', ...body },
});

describe('mergeTraceEvents', () => {
  it('keeps absent fields, clears on null, unions tags, takes the last truthy I/O, first timestamp wins', () => {
    const merged = mergeTraceEvents('t', [
      trace(2, { name: 'second', userId: null, tags: ['b'], input: '', output: 'out-2', public: true }),
      trace(1, { name: 'first', userId: 'u', sessionId: 's', tags: ['c', 'a'], input: 'in-1', timestamp: '2026-11-26T09:00:00Z', environment: 'prod' }),
      trace(3, { tags: ['a'], output: 0, metadata: { k: 1 } }),
    ]);
    expect(merged).toMatchObject({ name: 'second', sessionId: 's', tags: ['a', 'b', 'c'], input: 'in-1', output: 'out-2', environment: 'prod', public: false });
    expect(merged.userId).toBeUndefined();
    expect(merged.timestampNanos).toBe(BigInt(Date.parse('2026-11-26T09:00:00Z')) * 1_000_000n);
  });
});

describe('finishTrace', () => {
  it('sorts tags as Array.prototype.sort does, for any strings (the insertion fast path)', () => {
    const tag = fc.oneof(fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 3 }), fc.constantFrom('a', 'B', 'é', '\u{1F600}', '\uFFFF', ''));
    fc.assert(
      fc.property(fc.array(fc.array(tag, { maxLength: 12 }), { minLength: 1, maxLength: 3 }), (perEvent) => {
        let fold: ReturnType<typeof foldTraceEvent> | undefined;
        for (const tags of perEvent) fold = foldTraceEvent(fold, 't', trace(1, { tags }));
        expect(finishTrace(fold!).tags).toEqual([...new Set(perEvent.flat())].sort());
      }),
      { numRuns: 1000 },
    );
  });
});

describe('mergeObservationEvents', () => {
  it('orders by envelope timestamp with creates first on ties, then applies Langfuse rules', () => {
    const merged = mergeObservationEvents('o', [
      obs('generation-update', 5, { endTime: ts(9), usage: { output: 20 }, level: 'ERROR', statusMessage: null, name: null }),
      obs('generation-create', 5, { traceId: 'T', startTime: ts(1), name: 'gen', usage: { input: 10 }, statusMessage: 'keep', modelParameters: { a: 1 } }),
      obs('generation-update', 6, { startTime: ts(0), traceId: 'other', modelParameters: {}, metadata: { x: { y: 1 } } }),
    ]);
    expect(merged.traceId).toBe('T');
    expect(merged.startTimeNanos).toBe(BigInt(Date.parse('2026-11-26T10:00:01Z')) * 1_000_000n + 1n);
    expect(merged.endTimeNanos).toBe(BigInt(Date.parse('2026-11-26T10:00:09Z')) * 1_000_000n + 1n);
    expect(merged.name).toBeUndefined();
    expect(merged.usage).toEqual({ output: 20 });
    expect(merged.modelParameters).toEqual({ a: 1 });
    expect(merged).toMatchObject({ level: 'ERROR', statusMessage: 'keep', type: 'GENERATION', metadata: { x: { y: 1 } } });
  });

  it('takes the start from the first event that states one, even when an update sorts first', () => {
    const merged = mergeObservationEvents('o', [
      obs('generation-update', 1, { endTime: ts(9) }),
      obs('generation-create', 2, { traceId: 'T', startTime: ts(0), name: 'g' }),
    ]);
    expect(merged.startTimeNanos).toBe(BigInt(Date.parse('2026-11-26T10:00:00Z')) * 1_000_000n + 1n);
    expect(merged.name).toBe('g');
  });

  it('clamps an end before the start, makes events zero-length, and names orphans', () => {
    const clamped = mergeObservationEvents('o', [obs('span-create', 1, { startTime: ts(5), endTime: ts(2) })]);
    expect(clamped.endTimeNanos).toBe(clamped.startTimeNanos);
    expect(clamped.traceId).toBe('orphan:o');
    const event = mergeObservationEvents('e', [obs('event-create', 1, { startTime: ts(3) })]);
    expect([event.type, event.endTimeNanos]).toEqual(['EVENT', event.startTimeNanos]);
  });

  it('takes the type of the last event (span-update turns an agent into a span)', () => {
    expect(mergeObservationEvents('a', [obs('agent-create', 1, {}), obs('span-update', 2, {})]).type).toBe('SPAN');
    expect(mergeObservationEvents('l', [obs('observation-create', 1, { type: 'EVENT' })]).type).toBe('EVENT');
  });
});

describe('mergeScoreEvents', () => {
  it('upserts by id with the envelope timestamp of the first event', () => {
    const score = (s: number, value: number): ScoreEvent => ({ id: `e${++n}`, type: 'score-create', timestamp: ts(s), body: { name: 'q', value, traceId: 't', environment: 'default', source: 'API' } });
    const merged = mergeScoreEvents('s', [score(4, 0.2), score(2, 0.9)]);
    expect(merged.value).toBe(0.2);
    expect(merged.timestampNanos).toBe(BigInt(Date.parse('2026-11-26T10:00:02Z')) * 1_000_000n + 1n);
  });
});

describe('mergeMetadata', () => {
  it('deep-merges objects and merges arrays by index, like lodash merge', () => {
    expect(mergeMetadata({ a: { b: 1 }, l: [1, { x: 1 }] }, { a: { c: 2 }, l: [9, { y: 2 }] })).toEqual({ a: { b: 1, c: 2 }, l: [9, { x: 1, y: 2 }] });
  });

  it('wraps a non-object root as {metadata}', () => {
    expect(mergeMetadata(undefined, 'text')).toEqual({ metadata: 'text' });
    expect(mergeMetadata(undefined, [1, 2])).toEqual({ metadata: '[1,2]' });
  });

  it('keeps __proto__ as an own data key and never changes a prototype', () => {
    const merged = mergeMetadata(JSON.parse('{"__proto__": {"a": 1}}'), JSON.parse('{"__proto__": {"polluted": true}}'))!;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(merged)).toBe('{"__proto__":{"a":1,"polluted":true}}');
  });

  it('writes keys as defineProperty would, for any JSON including __proto__ and Object.prototype names (assignment fast path)', () => {
    // The reference: every key through defineProperty, as before the fast path.
    const define = (target: object, key: string, value: unknown) => Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    const mergeable = (v: unknown) => typeof v === 'object' && v !== null;
    const reference = (target: unknown, source: unknown): unknown => {
      if (Array.isArray(source)) {
        const out: unknown[] = Array.isArray(target) ? [...target] : [];
        source.forEach((value, i) => {
          out[i] = i < out.length && mergeable(out[i]) && mergeable(value) ? reference(out[i], value) : value;
        });
        return out;
      }
      if (mergeable(source)) {
        const out: Record<string, unknown> = {};
        if (mergeable(target) && !Array.isArray(target)) for (const key of Object.keys(target as object)) define(out, key, (target as Record<string, unknown>)[key]);
        for (const key of Object.keys(source as object)) {
          const value = (source as Record<string, unknown>)[key];
          const existing = Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined;
          define(out, key, existing !== undefined && mergeable(existing) && mergeable(value) ? reference(existing, value) : value);
        }
        return out;
      }
      return source;
    };
    const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '0', '1', 'a', 'b'), fc.string({ maxLength: 4 }));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 3 }), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 3 }),
      object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    }));
    // Through JSON text, as events arrive: `__proto__` is then an own key of the parsed object.
    const object = json.object.map((o) => JSON.parse(JSON.stringify(o)) as Record<string, never>);
    fc.assert(
      fc.property(fc.option(object, { nil: undefined }), object, (previous, next) => {
        const merged = mergeMetadata(previous, next)!;
        const expected = reference(previous ?? {}, next) as object;
        const shape = (v: unknown): unknown =>
          Array.isArray(v) ? v.map(shape) : mergeable(v) ? { proto: Object.getPrototypeOf(v) === Object.prototype, own: Object.getOwnPropertyNames(v).map((k) => [k, Object.getOwnPropertyDescriptor(v, k)!.enumerable, shape((v as Record<string, unknown>)[k])]) } : v;
        expect(shape(merged)).toEqual(shape(expected));
        expect(JSON.stringify(merged)).toBe(JSON.stringify(expected));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
