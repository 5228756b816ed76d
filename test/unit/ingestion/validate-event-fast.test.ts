// Covers src/ingestion/validate-event-fast.ts: the fast path decides exactly what the general path
// (limit walk + zod) decides. Property tests (fast-check) over generated valid and invalid events
// of every type (extra keys, wrong types, nulls, long/deep values, unicode, non-JSON values, small
// limits), and every event of the shared fixture corpus, compared value for value, KEY ORDER
// included; plus checks that the common SDK shapes do take the fast path.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { BatchValidation } from '../../../src/ingestion/ingestion-event.js';
import { EVENT_TYPES } from '../../../src/ingestion/ingestion-event.js';
import { GENERATION_STYLE_TYPES } from '../../../src/ingestion/ingestion-schema.js';
import {
  DEFAULT_VALIDATION_LIMITS,
  type ValidationLimits,
  validateBatch,
  validateEventBySchema,
} from '../../../src/ingestion/validate-batch.js';
import { FAST_SHAPES, validateEventFast } from '../../../src/ingestion/validate-event-fast.js';
import { envelope, litellmCall } from '../../helpers/ingestion-events.js';

/**
 * A structure that toEqual compares including what toStrictEqual ignores: key order, own keys
 * holding `undefined`, -0 and object identity classes. Arrays stay arrays.
 */
function ordered(value: unknown): unknown {
  if (typeof value === 'number' && Object.is(value, -0)) return '<-0>';
  if (value === undefined) return '<undefined>';
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(ordered);
  const proto: unknown = Object.getPrototypeOf(value);
  const kind = proto === Object.prototype ? 'object' : proto === null ? 'null-proto' : 'other';
  return { kind, entries: Reflect.ownKeys(value).map((key) => [String(key), ordered((value as Record<PropertyKey, unknown>)[key])]) };
}

/** The general path alone, for a whole batch (what validateBatch returned before the fast path). */
function generalBatch(batch: readonly unknown[], limits: ValidationLimits): BatchValidation {
  const into: BatchValidation = { accepted: [], sdkLogs: 0, rejected: [] };
  for (const raw of batch) {
    const outcome = validateEventBySchema(raw, limits);
    if (outcome.kind === 'accepted') into.accepted.push(outcome.event);
    else if (outcome.kind === 'sdk-log') into.sdkLogs++;
    else into.rejected.push(outcome.rejection);
  }
  return into;
}

/** The fast path's answer, when it gives one, equals the general path's; the batch results are equal. */
function expectSameOutcome(raw: unknown, limits: ValidationLimits): void {
  const fast = validateEventFast(raw, limits);
  const general = validateEventBySchema(raw, limits);
  if (fast !== undefined) {
    expect(general.kind).toBe('accepted');
    if (general.kind === 'accepted') {
      expect(ordered(fast)).toEqual(ordered(general.event));
      expect(JSON.stringify(fast)).toBe(JSON.stringify(general.event));
    }
  }
  const both = validateBatch([raw], limits);
  const reference = generalBatch([raw], limits);
  expect(ordered(both)).toEqual(ordered(reference));
}

// ---------------------------------------------------------------------------------------------
// The fixture corpus

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
const present = existsSync(FIXTURES);
if (!present) console.warn(`[validate-event-fast fixtures] SKIPPED: fixture folder not found at ${FIXTURES}`);

/** Every event of every ingestion body in the corpus, with its file. */
function corpusEvents(): Array<{ file: string; event: unknown }> {
  const events: Array<{ file: string; event: unknown }> = [];
  for (const folder of ['litellm', 'seed', 'langfuse-js-v3']) {
    if (!existsSync(`${FIXTURES}${folder}`)) continue;
    for (const name of readdirSync(`${FIXTURES}${folder}`).filter((f) => f.endsWith('.json')).sort()) {
      const file = `${folder}/${name}`;
      const json = JSON.parse(readFileSync(`${FIXTURES}${file}`, 'utf8')) as { batch?: unknown; requests?: Array<{ body?: { batch?: unknown } }> };
      const batches = Array.isArray(json.batch) ? [json.batch] : (json.requests ?? []).map((r) => r.body?.batch).filter(Array.isArray);
      for (const batch of batches) for (const event of batch as unknown[]) events.push({ file, event });
    }
  }
  return events;
}

/** Dify's workflow events on the Python SDK v2 (the shapes of test/unit/mapping/client-findings.test.ts). */
function difyEvents(): unknown[] {
  const at = (seconds: number) => `2026-11-20T10:00:0${seconds}Z`;
  const usage = { input: 40, output: 8, total: 48, unit: 'CHARACTERS' };
  const llmOutput = { text: 'Hi', usage: { prompt_tokens: 12, completion_tokens: 5, total_price: '0.0000048' }, finish_reason: 'stop' };
  return [
    envelope('span-create', { id: 'wf', traceId: 'dt', name: 'workflow', startTime: at(0), endTime: at(3), input: { 'sys.query': 'Hello' }, output: { answer: 'Hi' } }),
    envelope('generation-create', { id: 'llm', traceId: 'dt', parentObservationId: 'wf', name: 'LLM', startTime: at(1), endTime: at(2), model: 'gpt-4o-mini', modelParameters: { temperature: 0.7 }, input: [{ role: 'user', text: 'Hello', files: [] }], output: llmOutput, usage }),
    envelope('trace-create', { id: 'dt', name: 'workflow', timestamp: at(8), userId: 'end-user-1', sessionId: 'conv-1', tags: ['workflow'] }, { timestamp: at(8) }),
  ];
}

describe.skipIf(!present)('validateEventFast on the shared fixture corpus', () => {
  it('gives exactly the general path\'s events, and decides every event but the score', () => {
    const events = corpusEvents();
    expect(events.length).toBeGreaterThan(50);
    const undecided: string[] = [];
    for (const { file, event } of events) {
      expectSameOutcome(event, DEFAULT_VALIDATION_LIMITS);
      if (validateEventFast(event, DEFAULT_VALIDATION_LIMITS) === undefined) undecided.push(`${file}: ${(event as { type: string }).type}`);
    }
    expect(undecided).toEqual(['langfuse-js-v3/trace-span-generation-event-score.json: score-create']);
  });
});

describe('validateEventFast on SDK shapes', () => {
  it('decides the LiteLLM-shaped bench events and the Dify workflow, equal to the general path', () => {
    const events = [...litellmCall('fast', 1), ...litellmCall('fast', 2), ...difyEvents()];
    for (const event of events) {
      expect(validateEventFast(event, DEFAULT_VALIDATION_LIMITS)).toBeDefined();
      expectSameOutcome(event, DEFAULT_VALIDATION_LIMITS);
    }
  });

  it('writes every field, in the zod schema\'s order whatever the input order', () => {
    const t = '2025-01-01T00:00:00Z';
    const values: Record<string, unknown> = {
      id: 'x', traceId: 't', timestamp: t, startTime: t, endTime: t, completionStartTime: t, name: 'n', externalId: 'e',
      input: 2, output: 1, sessionId: 's', userId: 'u', environment: 'prod', metadata: { z: 1 }, release: 'r', version: 'v',
      public: true, tags: ['a'], level: 'DEBUG', statusMessage: 's', parentObservationId: 'p', model: 'm',
      modelParameters: { b: 1, a: 2 }, usage: { totalCost: 1, input: 2 }, usageDetails: { input: 1 }, costDetails: { total: 1 },
      promptName: 'p', promptVersion: 1,
    };
    const cases = [
      ['trace-create', FAST_SHAPES.trace],
      ['event-create', FAST_SHAPES.event],
      ['span-update', FAST_SHAPES.span],
      ['agent-create', FAST_SHAPES.generation],
    ] as const;
    for (const [type, fields] of cases) {
      // Reversed input order: the output must still follow the schema.
      const body = Object.fromEntries([...fields].reverse().map((key) => [key, values[key]]));
      const event = validateEventFast(envelope(type, body), DEFAULT_VALIDATION_LIMITS);
      expect(Object.keys(event?.body ?? {})).toEqual(fields);
      expectSameOutcome(envelope(type, body), DEFAULT_VALIDATION_LIMITS);
    }
    const generation = validateEventFast(envelope('generation-create', values), DEFAULT_VALIDATION_LIMITS);
    expect(Object.keys((generation?.body as { usage: object }).usage)).toEqual(['input', 'totalCost']);
  });

  it('leaves invalid events, scores, sdk-logs and legacy observations to the general path', () => {
    for (const event of [
      envelope('trace-create', { userId: 5 }),
      envelope('generation-create', { id: 'g', promptName: 'p' }),
      envelope('score-create', { name: 'n', value: 1, traceId: 't' }),
      envelope('sdk-log', { log: 'x' }),
      envelope('observation-create', { type: 'SPAN' }),
      envelope('generation-create', { id: 'g', usageDetails: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
    ]) {
      expect(validateEventFast(event, DEFAULT_VALIDATION_LIMITS)).toBeUndefined();
      expectSameOutcome(event, DEFAULT_VALIDATION_LIMITS);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Every field of valid events set to every awkward value (boundaries the generators rarely hit)

class Plain {
  a = 1;
}

/** Boundary and odd values: lengths around the limits, -0, unsafe integers, non-JSON values. */
const AWKWARD: unknown[] = [
  '', 'a', 'a\rb', 'x'.repeat(800), 'x'.repeat(801), 'x'.repeat(1000), 'x'.repeat(1001), 'LANGFUSE-Prod', 'DEBUG', 'TOKENS', 'CHARACTERS',
  '12', '-3', '1.9', '2025-02-29T00:00:00Z', '2024-02-29T23:59:59.5+08:00', '2024-02-29T24:00Z', '\u{1F600}', '\ud800',
  0, -0, 1, -1, 1.5, 2 ** 53 - 1, 2 ** 53, 1e300, Number.NaN, Number.POSITIVE_INFINITY, true, false, null, undefined,
  [], [1], ['a', 1], [[[[['deep']]]]], {}, { a: 1 }, { input: -0 }, { total: '5', x: -1, y: 2.5 }, { unit: 'TOKENS' }, { promptTokens: null }, { totalTokens: 3, inputCost: 1 },
  JSON.parse('{"__proto__": 5, "a": 1}'), JSON.parse('{"__proto__": {"x": 1}, "a": 1}'), JSON.parse('{"constructor": 5, "a": 1}'), JSON.parse('{"1": 4, "b": 3, "0": 2}'),
  { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, { input_tokens: 5, output_tokens: 2, total_tokens: 7 }, { input_tokens: 5 },
  { a: { b: { c: { d: { e: 1 } } } } }, new Date(0), new Plain(), Object.create(null) as unknown, [1, , 3], () => 1, Symbol('s'), 10n,
];

/** Valid events the fast path decides: the LiteLLM pair and one of each other type with every field. */
function validBases(): Array<Record<string, unknown>> {
  const t = '2025-01-01T00:00:00.123456Z';
  const every = { id: 'x', traceId: 't', timestamp: t, startTime: t, endTime: t, completionStartTime: t, name: 'n', externalId: 'e', input: { m: [1] }, output: 'o',
    sessionId: 's', userId: 'u', environment: 'prod', metadata: { k: [null] }, release: 'r', version: 'v', public: false, tags: ['a'], level: 'ERROR', statusMessage: 'm',
    parentObservationId: 'p', model: 'm', modelParameters: { temperature: 0.2, tools: [{ a: 1 }] }, usage: { input: 1, output: 2, unit: 'TOKENS', totalCost: 0.5 },
    usageDetails: { input: 1, cache: '2' }, costDetails: { total: 0.5, n: 'x' }, promptName: 'p', promptVersion: 3 };
  return [
    ...litellmCall('awkward', 7),
    envelope('trace-create', every),
    envelope('span-create', every),
    envelope('event-create', every),
    envelope('embedding-create', every),
  ] as unknown as Array<Record<string, unknown>>;
}

/** Where a value can be put: envelope keys, body keys, and keys inside the body's nested records. */
function placesOf(base: Record<string, unknown>): Array<(copy: Record<string, unknown>, value: unknown) => void> {
  const set = (target: Record<string, unknown>, key: string, value: unknown) => Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  const places: Array<(copy: Record<string, unknown>, value: unknown) => void> = [];
  for (const key of ['id', 'timestamp', 'metadata', 'type', 'body', 'extra']) places.push((copy, value) => set(copy, key, value));
  const body = base['body'] as Record<string, unknown>;
  for (const key of [...Object.keys(body), 'unknownKey', 'timestamp', 'endTime']) places.push((copy, value) => set(copy['body'] as Record<string, unknown>, key, value));
  for (const nested of ['usage', 'usageDetails', 'costDetails', 'modelParameters', 'metadata']) {
    if (typeof body[nested] !== 'object' || body[nested] === null) continue;
    for (const key of ['input', 'output', 'total', 'unit', 'promptTokens', 'totalCost', 'other']) {
      places.push((copy, value) => set((copy['body'] as Record<string, Record<string, unknown>>)[nested] as Record<string, unknown>, key, value));
    }
  }
  return places;
}

describe('validateEventFast on awkward values in valid events', () => {
  it('agrees with the general path for every field set to every awkward value', () => {
    const limitSets: ValidationLimits[] = [DEFAULT_VALIDATION_LIMITS, { maxDepth: 4, maxStringLength: 801 }];
    let compared = 0;
    for (const base of validBases()) {
      expect(validateEventFast(base, DEFAULT_VALIDATION_LIMITS)).toBeDefined();
      for (const place of placesOf(base)) {
        for (const value of AWKWARD) {
          const copy = structuredClone(base);
          place(copy, value);
          for (const lim of limitSets) expectSameOutcome(copy, lim);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(5000);
  }, 120_000);

  it('applies the string limit to keys longer than every value (parentObservationId under a limit of 18)', () => {
    const event = { id: 'e', type: 'span-create', timestamp: '2025-01-01T00:00Z', body: { id: 's', parentObservationId: 'p' } };
    for (const maxStringLength of [18, 19, 20]) expectSameOutcome(event, { maxDepth: 64, maxStringLength });
    expect(validateEventFast(event, { maxDepth: 64, maxStringLength: 18 })).toBeUndefined();
    expect(validateBatch([event], { maxStringLength: 18 }).rejected).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated events

/** Values JSON.parse never yields: the fast path must leave them to zod (or agree with it). */
const nonJson = fc.constantFrom<unknown>(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, new Date(0), new Plain(), Object.create(null) as unknown, () => 1, Symbol('s'), 10n, [1, , 3]);

/** Objects with own `__proto__` / `constructor` keys, as JSON.parse makes them. */
const awkwardObjects = fc.constantFrom<unknown>(
  JSON.parse('{"__proto__": {"a": 1}, "b": 2}'),
  JSON.parse('{"constructor": 5, "input": 1}'),
  JSON.parse('{"constructor": {"x": 1}}'),
  JSON.parse('{"1": 4, "b": 3, "0": 2}'),
  JSON.parse('{"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "prompt_tokens_details": {"cached_tokens": 1}}'),
  JSON.parse('{"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}'),
);

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', 'a\rb', 'x'.repeat(801), 'x'.repeat(1001), 'langfuse-Prod', 'LANGFUSE_', 'DEBUG', 'TOKENS', '12', '-3', '1.9', 'abc'),
);

const json = fc.jsonValue({ maxDepth: 4 });

/** Nesting deeper than the small limits below (and than 64 once in a while). */
const deep = fc.integer({ min: 1, max: 70 }).map((depth) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
});

const anyValue = fc.oneof(
  { weight: 4, arbitrary: json },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: awkwardObjects },
  { weight: 1, arbitrary: nonJson },
);

const datetime = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
      fc.constantFrom('', ':07', ':59.1', ':00.123456', ':60', '.5'),
      fc.constantFrom('Z', '+08:00', '-08:00', '+24:00', 'z', '', '+0800'),
    )
    .map(
      ([y, mo, d, h, mi, sec, zone]) =>
        `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}${sec}${zone}`,
    ),
  fc.constantFrom('2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2000-02-29T12:00Z', '2025-01-22T09:19:10.957072-08:00', '2025-01-22 09:19:10Z'),
);

const idValue = fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), text, fc.integer());
const count = fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 }), fc.double(), fc.constantFrom(2 ** 53, 1e300, -0, 1.5), fc.constant(null), text);

/** A value for a field: usually of the right kind, sometimes null or anything at all. */
const field = <T>(right: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 16, arbitrary: right }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyValue });

const usage = fc.oneof(
  fc.record(
    {
      input: count,
      output: count,
      total: count,
      unit: fc.oneof(fc.constantFrom('TOKENS', 'CHARACTERS', 'SECONDS', 'MILLISECONDS', 'IMAGES', 'REQUESTS'), text),
      promptTokens: count,
      completionTokens: count,
      totalTokens: count,
      inputCost: count,
      outputCost: count,
      totalCost: count,
      extra: anyValue,
    },
    { requiredKeys: [] },
  ),
  awkwardObjects,
);

const detailsMap = fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('input', 'output', 'total', 'cache_read_input_tokens', '0', '__proto__'), fc.string({ maxLength: 6 })), fc.oneof(count, anyValue), { maxKeys: 6 }), awkwardObjects);

const observationFields = {
  id: idValue,
  traceId: idValue,
  environment: fc.oneof(text, anyValue),
  name: text,
  startTime: datetime,
  endTime: datetime,
  completionStartTime: datetime,
  metadata: anyValue,
  input: anyValue,
  output: anyValue,
  level: fc.oneof(fc.constantFrom('DEBUG', 'DEFAULT', 'WARNING', 'ERROR'), text),
  statusMessage: text,
  parentObservationId: text,
  version: text,
  model: text,
  modelParameters: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), anyValue, { maxKeys: 4 }), awkwardObjects),
  usage,
  usageDetails: detailsMap,
  costDetails: detailsMap,
  promptName: text,
  promptVersion: count,
  type: fc.constantFrom('GENERATION', 'SPAN', 'EVENT'),
};

const traceFields = {
  id: idValue,
  timestamp: datetime,
  name: text,
  externalId: text,
  input: anyValue,
  output: anyValue,
  sessionId: text,
  userId: text,
  environment: fc.oneof(text, anyValue),
  metadata: anyValue,
  release: text,
  version: text,
  public: fc.boolean(),
  tags: fc.array(text, { maxLength: 3 }),
};

const extraKeys = fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('x'.repeat(40), 'timestamp', 'usage')), anyValue, { maxKeys: 2 });

/** A body: any subset of the fields (each possibly wrong), some unknown keys, in shuffled order. */
function bodyOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const withNulls = Object.fromEntries(Object.entries(fields).map(([key, arb]) => [key, field(arb)]));
  return fc
    .tuple(fc.record(withNulls, { requiredKeys: [] }), extraKeys)
    .chain(([known, extra]) => {
      const entries = [...Object.entries(known), ...Object.entries(extra)];
      return fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length });
    })
    .map((entries) => {
      // defineProperty, so a `__proto__` key becomes an own data property as with JSON.parse.
      const body: Record<string, unknown> = {};
      for (const [key, value] of entries) Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
      return body;
    });
}

const types = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('trace-create', 'span-create', 'span-update', 'event-create', ...GENERATION_STYLE_TYPES) },
  { weight: 2, arbitrary: fc.constantFrom(...EVENT_TYPES) },
  { weight: 1, arbitrary: fc.oneof(text, fc.integer(), fc.constant(undefined)) },
);

const event = fc
  .record(
    {
      type: types,
      id: field(idValue),
      timestamp: field(datetime),
      metadata: anyValue,
      extra: anyValue,
      traceBody: bodyOf(traceFields),
      observationBody: bodyOf(observationFields),
      wrongBody: fc.oneof(anyValue, fc.constant(undefined)),
    },
    { requiredKeys: ['type', 'traceBody', 'observationBody', 'wrongBody'], noNullPrototype: true },
  )
  .chain(({ type, traceBody, observationBody, wrongBody, ...rest }) =>
    fc.nat(9).map((pick) => {
      const body = pick === 0 ? wrongBody : type === 'trace-create' ? traceBody : observationBody;
      return { ...rest, type, body };
    }),
  );

/** Weighted: the defaults, small limits that generated values cross, and odd limits. */
const limits = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ ...DEFAULT_VALIDATION_LIMITS }) },
  { weight: 3, arbitrary: fc.record({ maxDepth: fc.integer({ min: 1, max: 8 }), maxStringLength: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.constantFrom({ maxDepth: 1000, maxStringLength: 1_000_000 }, { maxDepth: 2, maxStringLength: 10 }) },
);

const goodId = fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.includes('\r'));
const goodTime = fc.date({ noInvalidDate: true, min: new Date('1970-01-01Z'), max: new Date('2100-01-01Z') }).map((d) => d.toISOString());
const goodObservation = fc.record(
  {
    id: goodId,
    traceId: goodId,
    name: fc.string({ unit: 'grapheme', maxLength: 10 }),
    startTime: goodTime,
    endTime: goodTime,
    metadata: fc.dictionary(fc.string({ maxLength: 5 }), json, { maxKeys: 4 }),
    input: json,
    output: json,
    model: fc.string({ maxLength: 8 }),
    modelParameters: fc.dictionary(fc.string({ maxLength: 5 }), json, { maxKeys: 3 }),
    usage: fc.oneof(
      fc.record({ input: fc.nat(), output: fc.nat(), total: fc.nat(), unit: fc.constant('TOKENS'), totalCost: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: [] }),
      fc.record({ promptTokens: fc.oneof(fc.nat(), fc.constant(null)), completionTokens: fc.nat(), inputCost: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: [] }),
    ),
    usageDetails: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.nat(), fc.integer(), fc.string({ maxLength: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxKeys: 4 }),
    costDetails: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 3 })), { maxKeys: 3 }),
    level: fc.constantFrom('DEBUG', 'DEFAULT', 'WARNING', 'ERROR'),
    environment: fc.string({ maxLength: 12 }),
    version: fc.string({ maxLength: 4 }),
  },
  { requiredKeys: ['id'] },
);
const goodTrace = fc.record(
  {
    id: goodId,
    timestamp: goodTime,
    name: fc.string({ maxLength: 10 }),
    userId: fc.string({ maxLength: 6 }),
    sessionId: fc.string({ maxLength: 6 }),
    input: json,
    output: json,
    metadata: fc.dictionary(fc.string({ maxLength: 5 }), json, { maxKeys: 4 }),
    tags: fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    public: fc.boolean(),
    release: fc.string({ maxLength: 4 }),
  },
  { requiredKeys: [] },
);
/** Valid events of the fast path's types, through JSON as the route hands them over. */
const goodEvent = fc
  .oneof(
    fc.record({ id: fc.uuid(), type: fc.constantFrom('span-create', 'span-update', 'event-create', ...GENERATION_STYLE_TYPES), timestamp: goodTime, body: goodObservation }),
    fc.record({ id: fc.uuid(), type: fc.constant('trace-create'), timestamp: goodTime, body: goodTrace }),
  )
  // JSON.parse also gives every object a prototype (fast-check's may have none).
  .map((raw) => JSON.parse(JSON.stringify(raw)) as unknown);

describe('validateEventFast against the general path (property tests)', () => {
  // Mostly invalid events (the next two tests cover the valid ground): no fast answer may differ.
  it('agrees on generated events of every type, valid and invalid, under any limits', () => {
    fc.assert(
      fc.property(event, limits, (raw, lim) => {
        expectSameOutcome(raw, lim);
      }),
      { numRuns: 2000 },
    );
  }, 120_000);

  it('agrees on valid events (the fast path\'s own ground)', () => {
    let decided = 0;
    fc.assert(
      fc.property(goodEvent, (raw) => {
        expectSameOutcome(raw, DEFAULT_VALIDATION_LIMITS);
        if (validateEventFast(raw, DEFAULT_VALIDATION_LIMITS) !== undefined) decided++;
      }),
      { numRuns: 1000 },
    );
    // Nearly all are valid, and valid raw-shaped events are the fast path's to decide.
    expect(decided).toBeGreaterThan(700);
  }, 120_000);

  it('agrees on valid events with one field changed, removed or added', () => {
    const mutation = fc.record({
      where: fc.constantFrom('envelope', 'body', 'usage', 'usageDetails', 'costDetails', 'modelParameters', 'metadata'),
      key: fc.oneof(fc.constantFrom(...FAST_SHAPES.generation, ...FAST_SHAPES.trace, ...FAST_SHAPES.usage, 'type', 'body', 'timestamp'), fc.string({ maxLength: 6 })),
      value: fc.oneof(anyValue, text, count, datetime, fc.constant(undefined), fc.constant(null)),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(goodEvent, mutation, limits, (raw, { where, key, value, remove }, lim) => {
        const event = raw as Record<string, Record<string, unknown>>;
        const body = event['body'] as Record<string, unknown>;
        const target = where === 'envelope' ? event : where === 'body' ? body : body[where];
        if (typeof target === 'object' && target !== null) {
          if (remove) delete (target as Record<string, unknown>)[key];
          else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
        }
        expectSameOutcome(event, lim);
      }),
      { numRuns: 3000 },
    );
  }, 120_000);

  it('never throws and never accepts what a throwing getter guards', () => {
    const tricky = { id: 'e', type: 'trace-create', timestamp: '2025-01-01T00:00:00Z', body: {} };
    Object.defineProperty(tricky.body, 'name', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(validateEventFast(tricky, DEFAULT_VALIDATION_LIMITS)).toBeUndefined();
    const [rejection] = validateBatch([tricky]).rejected;
    expect(rejection?.error).toContain('boom');
  });
});
