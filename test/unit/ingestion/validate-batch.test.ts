// Covers src/ingestion/validate-batch.ts: accounting (accepted / rejected / sdk-log), the 207 error
// entry shape, input order, the depth and string-length hardening, __proto__ safety, and that
// nothing ever throws (property tests with fast-check).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { EVENT_TYPES } from '../../../src/ingestion/ingestion-event.js';
import {
  DEFAULT_VALIDATION_LIMITS,
  findLimitViolation,
  isUpdateType,
  validateBatch,
} from '../../../src/ingestion/validate-batch.js';
import { TS, envelope } from '../../helpers/ingestion-events.js';
import { acceptOne, rejectIssues } from '../../helpers/validate-events.js';

function nestedArrays(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('validateBatch', () => {
  it('returns empty lists for an empty batch', () => {
    expect(validateBatch([])).toEqual({ accepted: [], sdkLogs: 0, rejected: [] });
  });

  it('keeps accepted events in input order and reports each invalid event on its own', () => {
    const batch = [
      envelope('span-update', { id: 's' }),
      envelope('trace-create', { id: 't', userId: 5 }),
      envelope('trace-create', { id: 't' }),
      envelope('sdk-log', { log: 'hello' }),
      envelope('generation-create', { id: 'g' }),
      envelope('bogus', {}),
    ];
    const result = validateBatch(batch);
    expect(result.accepted.map((e) => e.type)).toEqual(['span-update', 'trace-create', 'generation-create']);
    expect(result.accepted.map((e) => e.id)).toEqual([batch[0]?.['id'], batch[2]?.['id'], batch[4]?.['id']]);
    expect(result.sdkLogs).toBe(1);
    expect(result.rejected.map((r) => r.id)).toEqual([batch[1]?.['id'], batch[5]?.['id']]);
    expect(result.rejected.map((r) => r.type)).toEqual(['trace-create', 'bogus']);
  });

  it('produces the 207 error entry with zod\'s issue JSON (2-space indent, no input values)', () => {
    const event = envelope('trace-create', { userId: 12345 });
    const [rejection] = validateBatch([event]).rejected;
    expect(rejection).toEqual({
      id: event['id'],
      status: 400,
      message: 'Invalid request data',
      error: JSON.stringify(
        [
          {
            expected: 'string',
            code: 'invalid_type',
            path: ['body', 'userId'],
            message: 'Invalid input: expected string, received number',
          },
        ],
        null,
        2,
      ),
      type: 'trace-create',
    });
    expect(rejection?.error).not.toContain('12345');
  });

  it.each([
    ['null', null],
    ['a number', 5],
    ['a string', 'trace-create'],
    ['an array', [1, 2]],
    ['undefined', undefined],
    ['an object with a numeric id and no type', { id: 5 }],
  ])('rejects %s with id and type "unknown"', (_label, entry) => {
    const result = validateBatch([entry]);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]).toMatchObject({ id: 'unknown', type: 'unknown', status: 400, message: 'Invalid request data' });
  });

  it('uses a string envelope id even when it is itself invalid', () => {
    const result = validateBatch([{ ...envelope('trace-create', {}), id: '' }]);
    expect(result.rejected[0]?.id).toBe('');
  });

  it('treats holes in a sparse batch as invalid entries', () => {
    const batch: unknown[] = [];
    batch[2] = envelope('trace-create', {});
    const result = validateBatch(batch);
    expect(result.accepted).toHaveLength(1);
    expect(result.rejected).toHaveLength(2);
  });

  it('never throws when given a non-array batch', () => {
    expect(validateBatch({ length: 3 } as unknown as unknown[])).toEqual({ accepted: [], sdkLogs: 0, rejected: [] });
  });
});

describe('isUpdateType', () => {
  it.each([
    ['span-update', true],
    ['generation-update', true],
    ['observation-update', true],
    ['span-create', false],
    ['trace-create', false],
    ['agent-create', false],
    ['score-create', false],
    ['agent-update', false],
    ['', false],
  ])('says whether %s is an update type (%s)', (type, expected) => {
    expect(isUpdateType(type)).toBe(expected);
  });
});

describe('limits', () => {
  it('uses 64 levels and 1,000,000 characters by default', () => {
    expect(DEFAULT_VALIDATION_LIMITS).toEqual({ maxDepth: 64, maxStringLength: 1_000_000 });
  });

  it('rejects 10,000 nested arrays alone, without throwing, while siblings are accepted', () => {
    const deep = envelope('span-create', { id: 'deep', metadata: nestedArrays(10_000) });
    const before = envelope('trace-create', { id: 't' });
    const after = envelope('span-create', { id: 'ok' });
    const result = validateBatch([before, deep, after]);
    expect(result.accepted.map((e) => e.id)).toEqual([before['id'], after['id']]);
    expect(result.rejected).toHaveLength(1);
    const issues = JSON.parse(result.rejected[0]?.error ?? '[]') as { message: string; path: unknown[] }[];
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toBe('nesting deeper than 64 levels');
    // envelope (1) → body (2) → metadata (3) → … → 62 more arrays reach level 65.
    expect(issues[0]?.path.slice(0, 2)).toEqual(['body', 'metadata']);
    expect(issues[0]?.path).toHaveLength(2 + 62);
  });

  it('survives a JSON.parse-d deeply nested input as well', () => {
    const text = `{"id":"e","type":"trace-create","timestamp":"${TS}","body":{"input":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    const issues = rejectIssues(JSON.parse(text));
    expect(issues[0]?.message).toBe('nesting deeper than 64 levels');
  });

  it('accepts exactly 64 levels and rejects 65', () => {
    // envelope + body = 2 levels, so metadata may hold 62 nested containers.
    acceptOne(envelope('trace-create', { metadata: nestedArrays(62) }));
    expect(rejectIssues(envelope('trace-create', { metadata: nestedArrays(63) }))[0]?.message).toBe(
      'nesting deeper than 64 levels',
    );
  });

  it('rejects a 2 MB string alone with the path to it', () => {
    const big = envelope('generation-create', { id: 'g', input: 'x'.repeat(2 * 1024 * 1024) });
    const ok = envelope('generation-create', { id: 'g2', input: 'small' });
    const result = validateBatch([big, ok]);
    expect(result.accepted.map((e) => e.id)).toEqual([ok['id']]);
    expect(JSON.parse(result.rejected[0]?.error ?? '[]')).toEqual([
      { code: 'custom', path: ['body', 'input'], message: 'string longer than 1000000 characters' },
    ]);
  });

  it('checks object keys too', () => {
    const issues = rejectIssues(envelope('trace-create', { metadata: { ['k'.repeat(1_000_001)]: 1 } }));
    // The path names the object holding the key, so the reply does not echo the huge key.
    expect(issues).toEqual([{ code: 'custom', path: ['body', 'metadata'], message: 'object key longer than 1000000 characters' }]);
  });

  it('accepts a string of exactly the limit', () => {
    acceptOne(envelope('trace-create', { input: 'x'.repeat(1_000_000) }));
  });

  it('honours custom limits', () => {
    const event = envelope('trace-create', { name: 'hello world!', metadata: { a: { b: 1 } } });
    expect(validateBatch([event], { maxStringLength: 10 }).rejected[0]?.error).toContain('string longer than 10 characters');
    expect(validateBatch([event], { maxDepth: 3 }).rejected[0]?.error).toContain('nesting deeper than 3 levels');
    expect(validateBatch([event], { maxDepth: 4 }).accepted).toHaveLength(1);
  });

  it('falls back to the defaults for nonsensical limits', () => {
    const event = envelope('trace-create', { metadata: { a: 1 } });
    expect(validateBatch([event], { maxDepth: Number.NaN, maxStringLength: -1 }).accepted).toHaveLength(1);
  });

  it('rejects a cyclic value instead of looping', () => {
    const metadata: Record<string, unknown> = { a: 1 };
    metadata['self'] = metadata;
    expect(rejectIssues(envelope('trace-create', { metadata }))[0]?.message).toBe('nesting deeper than 64 levels');
  });

  it('reports no violation for primitives and small values', () => {
    expect(findLimitViolation(5, DEFAULT_VALIDATION_LIMITS)).toBeUndefined();
    expect(findLimitViolation({ a: [1, { b: 'c' }] }, DEFAULT_VALIDATION_LIMITS)).toBeUndefined();
  });
});

describe('errors thrown during validation', () => {
  it('turns a throwing getter into a rejection of that event only', () => {
    const hostile = { id: 'h', type: 'trace-create', timestamp: TS };
    Object.defineProperty(hostile, 'body', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const result = validateBatch([hostile, envelope('trace-create', {})]);
    expect(result.accepted).toHaveLength(1);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]).toMatchObject({ id: 'h', type: 'trace-create' });
    expect(result.rejected[0]?.error).toContain('event could not be validated: boom');
  });

  it('turns a proxy that throws on every access into an "unknown" rejection', () => {
    const trap = () => {
      throw new Error('trap');
    };
    const proxy = new Proxy({}, { get: trap, ownKeys: trap, getPrototypeOf: trap, has: trap, getOwnPropertyDescriptor: trap });
    const result = validateBatch([proxy]);
    expect(result.rejected).toEqual([expect.objectContaining({ id: 'unknown', type: 'unknown', status: 400 })]);
  });

  it('copes with a thrown value that is not an Error', () => {
    const hostile = { id: 'h', type: 'trace-create', timestamp: TS };
    Object.defineProperty(hostile, 'body', {
      enumerable: true,
      get() {
        throw Object.create(null);
      },
    });
    expect(validateBatch([hostile]).rejected[0]?.error).toContain('unknown error');
  });
});

describe('__proto__, constructor and prototype keys', () => {
  const text = JSON.stringify({
    id: 'p1',
    type: 'generation-create',
    timestamp: TS,
    __proto__x: 1,
    body: {
      id: 'g',
      metadata: { a: 1, constructor: { prototype: { polluted: true } }, prototype: { polluted: true } },
      modelParameters: { temperature: 1, tools: [{ constructor: 'x' }] },
      usageDetails: { input: 3 },
      costDetails: { total: 0.1 },
    },
  })
    // JSON.stringify cannot emit a "__proto__" key from an object literal; splice real ones in.
    .replace('"__proto__x":1', '"__proto__":{"polluted":true}')
    .replace('"metadata":{', '"metadata":{"__proto__":{"polluted":true},')
    .replace('"body":{', '"body":{"__proto__":{"polluted":true},')
    .replace('"modelParameters":{', '"modelParameters":{"__proto__":{"polluted":true},')
    .replace('"usageDetails":{', '"usageDetails":{"__proto__":7,')
    .replace('"costDetails":{', '"costDetails":{"__proto__":{"polluted":true},');

  it('accepts the event, never pollutes Object.prototype and keeps plain prototypes', () => {
    const raw: unknown = JSON.parse(text);
    const event = acceptOne(raw);
    const body = event.body as unknown as Record<string, Record<string, unknown>>;

    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    for (const obj of [event, body, body['metadata'], body['modelParameters'], body['usageDetails'], body['costDetails']]) {
      expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
      expect((obj as Record<string, unknown>)['polluted']).toBeUndefined();
    }
  });

  it('strips __proto__ where zod strips unknown keys (envelope, body, records)', () => {
    const body = acceptOne(JSON.parse(text)).body as unknown as Record<string, Record<string, unknown>>;
    expect(Object.keys(body)).not.toContain('__proto__');
    expect(Object.keys(body['modelParameters'] ?? {})).toEqual(['temperature', 'tools']);
    expect(body['usageDetails']).toEqual({ input: 3 });
    expect(body['costDetails']).toEqual({ total: 0.1 });
  });

  it('keeps __proto__, constructor and prototype inside metadata as plain own data properties', () => {
    const metadata = (acceptOne(JSON.parse(text)).body as unknown as Record<string, Record<string, unknown>>)['metadata'];
    expect(metadata).toBeDefined();
    expect(Object.keys(metadata ?? {})).toEqual(['__proto__', 'a', 'constructor', 'prototype']);
    expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });

  it('keeps a __proto__ key inside free-form input as an own property', () => {
    const raw = JSON.parse(`{"id":"e","type":"trace-create","timestamp":"${TS}","body":{"input":{"__proto__":{"polluted":true}}}}`) as unknown;
    const input = (acceptOne(raw).body as unknown as Record<string, object>)['input'];
    expect(Object.hasOwn(input ?? {}, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('property: validateBatch never throws and accounts for every entry', () => {
  const accountsForAll = (batch: unknown[]): void => {
    const result = validateBatch(batch);
    expect(result.accepted.length + result.rejected.length + result.sdkLogs).toBe(batch.length);
  };

  it('holds for arbitrary JSON values as batch entries', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), accountsForAll), { numRuns: 300 });
  });

  it('holds for arbitrary JS values as batch entries', () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
    });
    fc.assert(fc.property(fc.array(anything, { maxLength: 8 }), accountsForAll), { numRuns: 300 });
  });

  it('holds for envelope-shaped values with arbitrary bodies', () => {
    const fields = [
      'id', 'traceId', 'name', 'startTime', 'endTime', 'metadata', 'input', 'output', 'level', 'usage', 'usageDetails',
      'costDetails', 'modelParameters', 'promptName', 'promptVersion', 'value', 'dataType', 'sessionId', 'type', 'log',
      'environment', 'tags', '__proto__', 'constructor',
    ];
    const value = fc.oneof(fc.jsonValue(), fc.constant(TS), fc.constantFrom('GENERATION', 'NUMERIC', 'DEFAULT', 'TOKENS'));
    const event = fc.record({
      id: fc.oneof(fc.string(), fc.jsonValue()),
      type: fc.constantFrom(...EVENT_TYPES, 'unknown-type'),
      timestamp: fc.oneof(fc.constant(TS), fc.string()),
      body: fc.dictionary(fc.constantFrom(...fields), value),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), (batch) => {
        accountsForAll(batch);
        // Whatever was accepted is plain JSON-safe data with an untouched prototype chain.
        for (const accepted of validateBatch(batch).accepted) {
          expect(Object.getPrototypeOf(accepted.body)).toBe(Object.prototype);
        }
        expect(Object.prototype).not.toHaveProperty('polluted');
      }),
      { numRuns: 500 },
    );
  });
});
