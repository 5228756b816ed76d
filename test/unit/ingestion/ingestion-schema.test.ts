// Covers src/ingestion/ingestion-schema.ts through validateBatch: each event type's valid and
// invalid forms (note §2.2–2.3), the usage/usageDetails/costDetails transforms (§2.4) and the
// documented leniencies.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { ObservationBody, ScoreBody, TraceBody } from '../../../src/ingestion/ingestion-event.js';
import {
  BOOLEAN_SCORE_MESSAGE,
  DATASET_RUN_ITEM_MESSAGE,
  ID_CARRIAGE_RETURN_MESSAGE,
  LENIENCIES,
  SCORE_TARGET_MESSAGE,
  costDetailsSchema,
  usageDetailsSchema,
  usageDetailsUnion,
  usageSchema,
} from '../../../src/ingestion/ingestion-schema.js';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';
import { TS, envelope } from '../../helpers/ingestion-events.js';
import { acceptOne, acceptedBody, issuePaths, rejectIssues } from '../../helpers/validate-events.js';

const NO_DISCRIMINATOR = {
  code: 'invalid_union',
  errors: [],
  note: 'No matching discriminator',
  discriminator: 'type',
  path: ['type'],
  message: 'Invalid input',
};

const GENERATION_STYLE = [
  'generation-create',
  'generation-update',
  'agent-create',
  'tool-create',
  'chain-create',
  'retriever-create',
  'evaluator-create',
  'embedding-create',
  'guardrail-create',
] as const;

const gen = (body: Record<string, unknown>, type = 'generation-create') => envelope(type, { id: 'obs-1', ...body });

describe('envelope', () => {
  it('rejects an unknown type with zod\'s "No matching discriminator" issue', () => {
    expect(rejectIssues(envelope('agent-update', { id: 'a' }))).toEqual([NO_DISCRIMINATOR]);
  });

  it('rejects a missing type with the same issue', () => {
    const { type: _type, ...event } = envelope('x', {});
    expect(rejectIssues(event)).toEqual([NO_DISCRIMINATOR]);
  });

  it.each([
    ['a missing id', { id: undefined }, 'id'],
    ['an empty id', { id: '' }, 'id'],
    ['an id of 801 characters', { id: 'x'.repeat(801) }, 'id'],
    ['a numeric id', { id: 7 }, 'id'],
    ['a missing timestamp', { timestamp: undefined }, 'timestamp'],
    ['a naive timestamp', { timestamp: '2025-01-22T17:19:11' }, 'timestamp'],
    ['a space in the timestamp', { timestamp: '2025-01-22 17:19:11Z' }, 'timestamp'],
    ['an epoch timestamp', { timestamp: 1737566351 }, 'timestamp'],
    ['a missing body', { body: undefined }, 'body'],
    ['a non-JSON envelope metadata', { metadata: () => 1 }, 'metadata'],
  ])('rejects %s', (_label, patch, path) => {
    const event = { ...envelope('trace-create', {}), ...patch };
    expect(issuePaths(rejectIssues(event))).toEqual([path]);
  });

  it.each([[null], [5], ['s'], [{ sdk: 'x' }]])('accepts (and ignores) the envelope metadata %j', (metadata) => {
    acceptOne({ ...envelope('trace-create', {}), metadata });
  });

  it('accepts an id of exactly 800 characters', () => {
    acceptOne({ ...envelope('trace-create', {}), id: 'x'.repeat(800) });
  });

  it('rejects an id containing a carriage return with Langfuse\'s message', () => {
    const issues = rejectIssues({ ...envelope('trace-create', {}), id: 'a\rb' });
    expect(issues).toEqual([{ code: 'custom', path: ['id'], message: ID_CARRIAGE_RETURN_MESSAGE }]);
  });

  it('drops envelope metadata and unknown envelope keys from the accepted event', () => {
    const event = acceptOne({ ...envelope('trace-create', {}), metadata: { a: 1 }, extra: true });
    expect(Object.keys(event).sort()).toEqual(['body', 'id', 'timestamp', 'type']);
  });
});

describe('trace-create', () => {
  it('accepts a full body, strips unknown keys and defaults the environment', () => {
    const body = acceptedBody(
      envelope('trace-create', {
        id: 't-1',
        timestamp: TS,
        name: 'n',
        externalId: 'e',
        input: { q: 1 },
        output: 'o',
        sessionId: 's',
        userId: 'u',
        metadata: { k: [1, null, { x: 'y' }] },
        release: 'r',
        version: 'v',
        public: true,
        tags: ['a', 'b'],
        bookmarked: true,
      }),
    ) as unknown as TraceBody;
    expect(body).toEqual({
      id: 't-1',
      timestamp: TS,
      name: 'n',
      externalId: 'e',
      input: { q: 1 },
      output: 'o',
      sessionId: 's',
      userId: 'u',
      environment: 'default',
      metadata: { k: [1, null, { x: 'y' }] },
      release: 'r',
      version: 'v',
      public: true,
      tags: ['a', 'b'],
    });
  });

  it('accepts a body without an id (Langfuse answers 201 and drops it later)', () => {
    expect(acceptedBody(envelope('trace-create', { name: 'x' }))).toEqual({ name: 'x', environment: 'default' });
  });

  it('normalizes the environment and never fails on it', () => {
    expect(acceptedBody(envelope('trace-create', { environment: 'Langfuse-Prod' }))['environment']).toBe('prod');
    expect(acceptedBody(envelope('trace-create', { environment: 42 }))['environment']).toBe('default');
    expect(acceptedBody(envelope('trace-create', { environment: null }))['environment']).toBe('default');
  });

  it.each([
    ['userId as a number', { userId: 1 }, 'body.userId'],
    ['sessionId as a number', { sessionId: 1 }, 'body.sessionId'],
    ['version as a number', { version: 2 }, 'body.version'],
    ['release as a number', { release: 2 }, 'body.release'],
    ['public as a string', { public: 'true' }, 'body.public'],
    ['tags with a number', { tags: ['a', 1] }, 'body.tags.1'],
    ['tags as a string', { tags: 'a' }, 'body.tags'],
    ['a name over 1000 characters', { name: 'n'.repeat(1001) }, 'body.name'],
    ['a bad timestamp', { timestamp: '2025-01-22T17:19:11+0000' }, 'body.timestamp'],
    ['an id with a carriage return', { id: 'a\r' }, 'body.id'],
  ])('rejects %s', (_label, body, path) => {
    expect(issuePaths(rejectIssues(envelope('trace-create', body)))).toEqual([path]);
  });

  it('accepts null metadata, string metadata and a name of exactly 1000 characters', () => {
    acceptOne(envelope('trace-create', { metadata: null, name: 'n'.repeat(1000) }));
    acceptOne(envelope('trace-create', { metadata: 'just a string' }));
  });
});

describe('span-create, span-update and event-create', () => {
  it.each(['span-create', 'span-update'])('strips generation fields from %s', (type) => {
    const body = acceptedBody(
      envelope(type, { id: 's', endTime: TS, model: 'gpt', usage: { input: 1 }, promptName: 'p', completionStartTime: TS }),
    );
    expect(body).toEqual({ id: 's', endTime: TS, environment: 'default' });
  });

  it('strips endTime from event-create', () => {
    expect(acceptedBody(envelope('event-create', { id: 'e', endTime: TS, startTime: TS }))).toEqual({
      id: 'e',
      startTime: TS,
      environment: 'default',
    });
  });

  it.each(['span-create', 'span-update', 'event-create', ...GENERATION_STYLE])('requires body.id for %s', (type) => {
    expect(issuePaths(rejectIssues(envelope(type, { name: 'x' })))).toEqual(['body.id']);
  });

  it.each([
    ['a lowercase level', { level: 'error' }, 'body.level'],
    ['a numeric statusMessage', { statusMessage: 500 }, 'body.statusMessage'],
    ['a numeric parentObservationId', { parentObservationId: 1 }, 'body.parentObservationId'],
    ['an empty traceId', { traceId: '' }, 'body.traceId'],
    ['a startTime with a space', { startTime: '2025-01-22 09:19:10.957072-08:00' }, 'body.startTime'],
    ['an endTime with lowercase z', { endTime: '2025-01-22T09:19:10z' }, 'body.endTime'],
    ['metadata that is not JSON', { metadata: () => 1 }, 'body.metadata'],
  ])('rejects a span with %s', (_label, body, path) => {
    expect(issuePaths(rejectIssues(envelope('span-create', { id: 's', ...body })))).toEqual([path]);
  });

  it('accepts a long parentObservationId (not an idSchema field)', () => {
    acceptOne(envelope('span-create', { id: 's', parentObservationId: 'p'.repeat(5000) }));
  });

  it('keeps explicit nulls so later stages can tell "clear" from "keep"', () => {
    const body = acceptedBody(envelope('span-create', { id: 's', name: null, level: null, parentObservationId: null }));
    expect(body).toEqual({ id: 's', name: null, level: null, parentObservationId: null, environment: 'default' });
  });
});

describe('generation-style bodies', () => {
  it.each(GENERATION_STYLE)('accepts %s with every generation field', (type) => {
    const body = acceptedBody(
      gen(
        {
          traceId: 't',
          name: 'n',
          startTime: TS,
          endTime: TS,
          completionStartTime: TS,
          model: 'gpt-4o',
          modelParameters: { temperature: 0.2, stop: ['\n'], extra: { a: 'b' }, stream: true, seed: null },
          usage: { input: 1, output: 2, total: 3, unit: 'TOKENS', totalCost: 0.5 },
          usageDetails: { input: 1, output: 2 },
          costDetails: { total: 0.5 },
          promptName: 'p',
          promptVersion: 3,
          level: 'WARNING',
        },
        type,
      ),
    ) as unknown as ObservationBody;
    expect(body.model).toBe('gpt-4o');
    expect(body.usage).toEqual({ input: 1, output: 2, total: 3, unit: 'TOKENS', totalCost: 0.5 });
    expect(body.promptVersion).toBe(3);
    expect(acceptOne(gen({}, type)).type).toBe(type);
  });

  it.each([
    ['promptName without promptVersion', { promptName: 'p' }],
    ['promptVersion without promptName', { promptVersion: 2 }],
    ['promptVersion 0 with a promptName (0 counts as missing)', { promptName: 'p', promptVersion: 0 }],
  ])('rejects %s with the refine\'s "Invalid input"', (_label, body) => {
    expect(rejectIssues(gen(body))).toEqual([{ code: 'custom', path: ['body'], message: 'Invalid input' }]);
  });

  it.each([
    ['both absent', {}],
    ['both null', { promptName: null, promptVersion: null }],
    ['an empty name and version 0', { promptName: '', promptVersion: 0 }],
  ])('accepts prompt fields when %s', (_label, body) => {
    acceptOne(gen(body));
  });

  it.each([
    ['a string promptVersion', { promptName: 'p', promptVersion: '1' }, 'body.promptVersion'],
    ['a float promptVersion', { promptName: 'p', promptVersion: 1.5 }, 'body.promptVersion'],
    ['a numeric model', { model: 4 }, 'body.model'],
    ['a bad completionStartTime', { completionStartTime: '2025-01-22' }, 'body.completionStartTime'],
  ])('rejects %s', (_label, body, path) => {
    expect(issuePaths(rejectIssues(gen(body)))).toEqual([path]);
  });
});

describe('modelParameters leniency', () => {
  const shapesLangfuseRejects = {
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    logit_bias: { '1': 5 },
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
    nested: [[1, 2], [3]],
  };

  it.each(GENERATION_STYLE)('accepts and keeps nested JSON values on %s', (type) => {
    const body = acceptedBody(gen({ modelParameters: shapesLangfuseRejects }, type));
    expect(body['modelParameters']).toEqual(shapesLangfuseRejects);
  });

  it('still rejects modelParameters that are not an object', () => {
    expect(issuePaths(rejectIssues(gen({ modelParameters: [1, 2] })))).toEqual(['body.modelParameters']);
    expect(issuePaths(rejectIssues(gen({ modelParameters: 'temperature=1' })))).toEqual(['body.modelParameters']);
  });

  it('keeps Langfuse\'s primitives-only rule on legacy observation bodies', () => {
    const issues = rejectIssues(envelope('observation-create', { type: 'GENERATION', modelParameters: { stop: ['x'] } }));
    expect(issuePaths(issues)).toEqual(['body.modelParameters.stop']);
  });

  it('is listed in LENIENCIES', () => {
    expect(LENIENCIES.length).toBeGreaterThan(0);
    expect(LENIENCIES.some((l) => l.includes('modelParameters'))).toBe(true);
  });
});

describe('usage', () => {
  it.each([
    ['a float token count', { input: 1.5 }, 'body.usage.input'],
    ['a string token count', { output: '20' }, 'body.usage.output'],
    ['a float promptTokens', { promptTokens: 2.5 }, 'body.usage.promptTokens'],
    ['an unknown unit', { unit: 'tokens' }, 'body.usage.unit'],
    ['a string cost', { totalCost: '0.1' }, 'body.usage.totalCost'],
  ])('rejects the whole event for %s', (_label, usage, path) => {
    expect(issuePaths(rejectIssues(gen({ usage })))).toEqual([path]);
  });

  it.each([
    [
      'rewrites the promptTokens form and drops its costs',
      { promptTokens: 10, completionTokens: 20, totalTokens: 30, totalCost: 0.1, inputCost: 0.05 },
      { input: 10, output: 20, total: 30, unit: 'TOKENS' },
    ],
    ['rewrites when only one OpenAI key is present, even as null', { totalTokens: null, input: 5 }, { total: null, unit: 'TOKENS' }],
    ['keeps the Langfuse form with float costs', { input: 10, output: 20, unit: 'TOKENS', totalCost: 3.5e-5 }, { input: 10, output: 20, unit: 'TOKENS', totalCost: 3.5e-5 }],
    ['turns an empty object into undefined', {}, undefined],
    ['turns an object of unknown keys into undefined', { foo: 1 }, undefined],
    ['keeps null', null, null],
    ['keeps explicit nulls inside', { input: null }, { input: null }],
  ])('%s', (_label, usage, expected) => {
    expect(acceptedBody(gen({ usage }))['usage']).toEqual(expected);
    expect(usageSchema.parse(usage)).toEqual(expected);
  });

  it('leaves an absent usage absent', () => {
    expect('usage' in acceptedBody(gen({}))).toBe(false);
  });
});

describe('usageDetails', () => {
  it.each([
    [
      'flattens the OpenAI completion form and subtracts details',
      {
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 30, audio_tokens: null },
        completion_tokens_details: { reasoning_tokens: 20 },
      },
      { input: 70, output: 30, total: 150, input_cached_tokens: 30, output_reasoning_tokens: 20 },
    ],
    [
      'flattens the OpenAI response form',
      { input_tokens: 10, output_tokens: 5, total_tokens: 15, input_tokens_details: { cached_tokens: 4 }, output_tokens_details: null },
      { input: 6, output: 5, total: 15, input_cached_tokens: 4 },
    ],
    [
      'floors subtracted counts at 0',
      { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, prompt_tokens_details: { cached_tokens: 9 } },
      { input: 0, output: 1, total: 6, input_cached_tokens: 9 },
    ],
    [
      'falls back to the raw map when an OpenAI object has extra keys (strict)',
      { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, foo: 1 },
      { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, foo: 1 },
    ],
    [
      'parses numeric strings and drops floats, negatives, nested values and nulls in the raw map',
      { input: '12', output: '1.9', w: 7, x: 1.5, y: -1, z: { a: 1 }, n: null, s: 'abc', neg: '-3' },
      { input: 12, output: 1, w: 7 },
    ],
    ['keeps the LiteLLM shape as is', { input: 10, output: 20, total: 30, cache_read_input_tokens: 0 }, { input: 10, output: 20, total: 30, cache_read_input_tokens: 0 }],
    ['turns a map with nothing usable into undefined', { x: 'n/a', y: 1.5 }, undefined],
    ['turns an empty map into undefined', {}, undefined],
    ['keeps null', null, null],
  ])('%s', (_label, usageDetails, expected) => {
    expect(acceptedBody(gen({ usageDetails }))['usageDetails']).toEqual(expected);
    expect(usageDetailsSchema.parse(usageDetails)).toEqual(expected);
  });

  it.each([
    ['an array', [1, 2], 'array'],
    ['a number', 5, 'number'],
    ['a string', '10', 'string'],
  ])('rejects %s with the union\'s full issue list', (_label, usageDetails, received) => {
    const branch = (expected: string) => [
      { expected, code: 'invalid_type', path: [], message: `Invalid input: expected ${expected}, received ${received}` },
    ];
    expect(rejectIssues(gen({ usageDetails }))).toEqual([
      {
        code: 'invalid_union',
        errors: [branch('object'), branch('object'), branch('record')],
        path: ['body', 'usageDetails'],
        message: 'Invalid input',
      },
    ]);
  });

  it('gives exactly the plain union\'s result or issues for any value (fast path is transparent)', () => {
    const count = fc.oneof(fc.nat(200), fc.constant(-1), fc.constant(1.5), fc.constant('7'), fc.constant(null));
    const openAiKeys = fc.constantFrom(
      'prompt_tokens', 'completion_tokens', 'total_tokens', 'input_tokens', 'output_tokens',
      'prompt_tokens_details', 'completion_tokens_details', 'input_tokens_details', 'output_tokens_details', 'input', 'x',
    );
    const details = fc.dictionary(fc.constantFrom('cached_tokens', 'reasoning_tokens'), count);
    const candidate = fc.oneof(
      fc.dictionary(openAiKeys, fc.oneof(count, details)),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(candidate, (value) => {
        const fast = usageDetailsSchema.safeParse(value);
        const plain = usageDetailsUnion.nullish().safeParse(value);
        expect(fast.success).toBe(plain.success);
        if (fast.success && plain.success) expect(fast.data).toEqual(plain.data);
        else expect(fast.error?.message).toBe(plain.error?.message);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('costDetails', () => {
  it.each([
    ['keeps non-negative numbers and drops the rest', { input: 0.001, output: '0.002', total: -1, x: null, y: 0, z: {} }, { input: 0.001, y: 0 }],
    ['turns a map with nothing usable into undefined', { total: '0.1' }, undefined],
    ['keeps null', null, null],
  ])('%s', (_label, costDetails, expected) => {
    expect(acceptedBody(gen({ costDetails }))['costDetails']).toEqual(expected);
    expect(costDetailsSchema.parse(costDetails)).toEqual(expected);
  });

  it.each([[[0.1]], [0.1]])('rejects the non-object %j', (costDetails) => {
    expect(issuePaths(rejectIssues(gen({ costDetails })))).toEqual(['body.costDetails']);
  });
});

describe('legacy observation-create / observation-update', () => {
  it.each(['observation-create', 'observation-update'])('accepts %s with type GENERATION and forces environment "default"', (type) => {
    const body = acceptedBody(
      envelope(type, {
        id: 'o',
        type: 'GENERATION',
        environment: 'prod',
        promptName: 'p',
        promptVersion: 1,
        model: 'm',
        modelParameters: { temperature: 1, stream: false, stop: null },
        usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
      }),
    ) as unknown as ObservationBody;
    expect(body).toEqual({
      id: 'o',
      type: 'GENERATION',
      model: 'm',
      modelParameters: { temperature: 1, stream: false, stop: null },
      usage: { input: 1, output: 2, total: 3, unit: 'TOKENS' },
      environment: 'default',
    });
  });

  it.each(['SPAN', 'EVENT'])('accepts type %s without an id', (t) => {
    acceptOne(envelope('observation-create', { type: t }));
  });

  it.each([
    ['a missing type', {}, 'body.type'],
    ['a lowercase type', { type: 'span' }, 'body.type'],
    ['type AGENT (not a legacy type)', { type: 'AGENT' }, 'body.type'],
    ['a nested modelParameters value', { type: 'SPAN', modelParameters: { a: { b: 'c' } } }, 'body.modelParameters.a'],
  ])('rejects %s', (_label, body, path) => {
    expect(issuePaths(rejectIssues(envelope('observation-update', body)))).toEqual([path]);
  });
});

describe('score-create', () => {
  const score = (body: Record<string, unknown>) => envelope('score-create', { name: 'quality', traceId: 't', ...body });

  it.each([
    ['NUMERIC', { dataType: 'NUMERIC', value: 0.7 }],
    ['CATEGORICAL', { dataType: 'CATEGORICAL', value: 'good' }],
    ['BOOLEAN 0', { dataType: 'BOOLEAN', value: 0 }],
    ['BOOLEAN 1', { dataType: 'BOOLEAN', value: 1 }],
    ['CORRECTION', { dataType: 'CORRECTION', value: 'fixed text' }],
    ['CORRECTION with a null configId', { dataType: 'CORRECTION', value: 'fixed', configId: null }],
    ['TEXT of 500 characters', { dataType: 'TEXT', value: 't'.repeat(500) }],
    ['no dataType with a number', { value: 3 }],
    ['no dataType with a string', { value: 'x' }],
  ])('accepts a %s score', (_label, body) => {
    acceptOne(score(body));
  });

  it('defaults source to API and normalizes environment', () => {
    const body = acceptedBody(score({ value: 1, environment: 'Staging' })) as unknown as ScoreBody;
    expect(body.source).toBe('API');
    expect(body.environment).toBe('staging');
    expect('dataType' in body).toBe(false);
  });

  it.each([
    ['BOOLEAN 0.5', { dataType: 'BOOLEAN', value: 0.5 }, [{ code: 'custom', path: ['body', 'value'], message: BOOLEAN_SCORE_MESSAGE }]],
    ['NUMERIC with a string value', { dataType: 'NUMERIC', value: '1' }, [expect.objectContaining({ path: ['body', 'value'] })]],
    ['CORRECTION with a configId', { dataType: 'CORRECTION', value: 'x', configId: 'c' }, [expect.objectContaining({ path: ['body', 'configId'] })]],
    ['TEXT longer than 500', { dataType: 'TEXT', value: 't'.repeat(501) }, [expect.objectContaining({ path: ['body', 'value'] })]],
    ['an empty TEXT', { dataType: 'TEXT', value: '' }, [expect.objectContaining({ path: ['body', 'value'] })]],
    [
      'a null dataType',
      { dataType: null, value: 1 },
      [expect.objectContaining({ code: 'invalid_union', note: 'No matching discriminator', path: ['body', 'dataType'] })],
    ],
    ['an empty name', { name: '', value: 1 }, [expect.objectContaining({ path: ['body', 'name'] })]],
    ['a boolean value without dataType', { value: true }, [expect.objectContaining({ path: ['body', 'value'] })]],
    ['an unknown source', { value: 1, source: 'USER' }, [expect.objectContaining({ path: ['body', 'source'] })]],
  ])('rejects %s', (_label, body, expected) => {
    expect(rejectIssues(score(body))).toEqual(expected);
  });

  const targetIssue = [
    { code: 'custom', path: ['body', 'traceId', 'sessionId', 'datasetRunId', 'observationId'], message: SCORE_TARGET_MESSAGE },
  ];

  it.each([
    ['traceId and sessionId', { traceId: 't', sessionId: 's' }],
    ['no target at all', { traceId: undefined }],
    ['an empty traceId only', { traceId: '' }],
    ['sessionId with observationId', { traceId: undefined, sessionId: 's', observationId: 'o' }],
    ['datasetRunId with traceId', { datasetRunId: 'd' }],
    ['observationId alone', { traceId: undefined, observationId: 'o' }],
  ])('rejects %s with the exactly-one-of message', (_label, body) => {
    expect(rejectIssues(score({ value: 1, ...body }))).toEqual(targetIssue);
  });

  it.each([
    ['traceId with observationId', { observationId: 'o' }],
    ['sessionId alone', { traceId: null, sessionId: 's' }],
    ['datasetRunId alone', { traceId: undefined, datasetRunId: 'd' }],
    ['a traceId longer than 800 characters (plain string)', { traceId: 't'.repeat(2000) }],
  ])('accepts %s', (_label, body) => {
    acceptOne(score({ value: 1, ...body }));
  });
});

describe('sdk-log and dataset-run-item-create', () => {
  it('counts a valid sdk-log without accepting or rejecting it', () => {
    const result = validateBatch([envelope('sdk-log', { log: { level: 'warn', msg: 'x' } }), envelope('sdk-log', { log: 'text', id: null })]);
    expect(result).toEqual({ accepted: [], sdkLogs: 2, rejected: [] });
  });

  it.each([
    ['a null log', { log: null }],
    ['a missing log', {}],
    ['a numeric id', { log: 'x', id: 1 }],
  ])('rejects an sdk-log with %s', (_label, body) => {
    const result = validateBatch([envelope('sdk-log', body)]);
    expect(result.sdkLogs).toBe(0);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.type).toBe('sdk-log');
  });

  it('always rejects dataset-run-item-create with Langfuse\'s message', () => {
    const issues = rejectIssues(envelope('dataset-run-item-create', { runId: 'r', datasetItemId: 'd' }));
    expect(issues).toEqual([{ code: 'custom', path: [], message: DATASET_RUN_ITEM_MESSAGE }]);
  });
});
