// Corpus test for src/ingestion: every real request body in ../shared/fixtures (LiteLLM, the seed
// batch, the Langfuse JS SDK v3 recording) validates with every event accepted. Skipped, with a
// console message, when the shared folder is absent; fixture files are never copied into the repo.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { validateBatch } from '../../../src/ingestion/validate-batch.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
const present = existsSync(FIXTURES);

if (!present) {
  console.warn(`[ingestion fixtures] SKIPPED: fixture folder not found at ${FIXTURES}`);
}

/** Files in the fixture folder that are not Langfuse ingestion bodies (see fixtures/README.md). */
const NOT_A_BATCH = new Set(['litellm/embedding_with_vllm.json']);

function readJson(relative: string): unknown {
  return JSON.parse(readFileSync(`${FIXTURES}${relative}`, 'utf8')) as unknown;
}

function jsonFiles(folder: string): string[] {
  if (!existsSync(`${FIXTURES}${folder}`)) return [];
  return readdirSync(`${FIXTURES}${folder}`)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${folder}/${f}`);
}

function batchOf(body: unknown): unknown[] {
  const batch = (body as { batch?: unknown }).batch;
  if (!Array.isArray(batch)) throw new Error('not an ingestion body');
  return batch;
}

describe.skipIf(!present)('validateBatch on the shared fixture corpus', () => {
  const batchFiles = present ? [...jsonFiles('litellm'), ...jsonFiles('seed')].filter((f) => !NOT_A_BATCH.has(f)) : [];

  it('finds the corpus', () => {
    expect(batchFiles.length).toBeGreaterThanOrEqual(27);
  });

  it.each(batchFiles)('accepts every event of %s', (file) => {
    const batch = batchOf(readJson(file));
    const result = validateBatch(batch);
    expect(result.rejected).toEqual([]);
    expect(result.sdkLogs).toBe(0);
    expect(result.accepted.map((e) => e.type)).toEqual(batch.map((e) => (e as { type: unknown }).type));
  });

  it('knows embedding_with_vllm.json is not an ingestion body', () => {
    expect(() => batchOf(readJson('litellm/embedding_with_vllm.json'))).toThrow('not an ingestion body');
  });

  it('accepts every batch the Langfuse JS SDK v3 sent', () => {
    const recording = readJson('langfuse-js-v3/trace-span-generation-event-score.json') as {
      requests: { path: string; body: unknown }[];
    };
    const ingestion = recording.requests.filter((r) => r.path === '/api/public/ingestion');
    expect(ingestion.length).toBeGreaterThan(0);
    for (const request of ingestion) {
      const batch = batchOf(request.body);
      const result = validateBatch(batch);
      expect(result.rejected).toEqual([]);
      expect(result.accepted).toHaveLength(batch.length);
    }
  });

  it('keeps the seed batch\'s microsecond timestamps, offsets and usage exactly', () => {
    const [trace, generation] = validateBatch(batchOf(readJson('seed/litellm-trace-and-generation.json'))).accepted;
    expect(trace?.body).toMatchObject({ timestamp: '2025-01-22T17:19:11.234960Z', environment: 'default' });
    expect(generation?.body).toMatchObject({
      startTime: '2025-01-22T09:19:10.957072-08:00',
      parentObservationId: 'test_parent_observation_id',
      usage: { input: 10, output: 20, unit: 'TOKENS', totalCost: 3.5e-5 },
      usageDetails: { input: 10, output: 20, total: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      modelParameters: { extra_body: '{}' },
    });
  });
});
