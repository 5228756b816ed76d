// Corpus: every real LiteLLM request body in ../shared/fixtures (litellm/ and seed/) goes through
// the HTTP route and the whole pipeline; the exported drafts are checked per file against values
// read from the fixture itself (times to the microsecond, tokens, cost, messages) and against a
// hand-written table of what the fixture should become (provider, operation, model).
// The JS SDK recording is covered in multi-request.test.ts; ids in unit/export/ids.test.ts.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { SpanDraft } from '../../src/mapping/span-draft.js';
import { hasSharedFixtures, listFixtures, readFixture } from '../helpers/shared-fixtures.js';
import { createTestService, type TestService } from '../helpers/test-service.js';

interface Body {
  batch: Array<{ id: string; type: string; timestamp: string; body: Record<string, any> }>;
}

/** What each fixture must become: written by reading the fixture, not by running the bridge. */
const EXPECTED: Record<string, { provider: string; operation: string; model: string }> = {
  'completion.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_non_redacted.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_redacted.json': { provider: 'openai', operation: 'text_completion', model: 'gpt-3.5-turbo' },
  'completion_with_bedrock_call.json': { provider: 'aws.bedrock', operation: 'chat', model: 'anthropic.claude-haiku-4-5-20251001-v1:0' },
  'completion_with_complex_metadata.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_with_langfuse_metadata.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_with_no_choices.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_with_router.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_with_tags.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_with_tags_stream.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'completion_with_vertex_call.json': { provider: 'gcp.gen_ai', operation: 'chat', model: 'gemini-2.0-flash-001' },
  'complex_metadata.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'complex_metadata_2.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'custom_generation.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'embedding.json': { provider: 'openai', operation: 'embeddings', model: 'text-embedding-ada-002' },
  'empty_metadata.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'metadata_with_function.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'metadata_with_lock.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'nested_metadata.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'simple_metadata.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'simple_metadata2.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'simple_metadata3.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'streaming_completion.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'streaming_completion_non_redacted.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'streaming_completion_redacted.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
  'transcription.json': { provider: 'openai', operation: 'chat', model: 'whisper-1' },
  'seed/litellm-trace-and-generation.json': { provider: 'openai', operation: 'chat', model: 'gpt-3.5-turbo' },
};

/**
 * Microseconds since the epoch from an ISO string, computed independently of the bridge's parser:
 * Date for the whole seconds and zone, the digits for the fraction.
 */
function isoToMicros(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) throw new Error(`unexpected timestamp ${iso}`);
  const seconds = BigInt(Date.parse(`${m[1]}${m[3]}`)) / 1000n;
  const micros = BigInt(((m[2] ?? '') + '000000').slice(0, 6));
  return seconds * 1_000_000n + micros;
}

const micros = (ns: bigint) => ns / 1000n;

const files = hasSharedFixtures
  ? [...listFixtures('litellm').filter((f) => f !== 'embedding_with_vllm.json'), 'seed/litellm-trace-and-generation.json']
  : [];

describe.skipIf(!hasSharedFixtures)('corpus: LiteLLM request bodies → spans', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });

  it('has an expectation for every fixture file', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s converts with the right names, parents, model, provider, tokens, cost, messages and times', async (file) => {
    const body = readFixture<Body>(file.includes('/') ? file : `litellm/${file}`);
    const expected = EXPECTED[file]!;
    service = await createTestService();

    const res = await request(service.app).post('/api/public/ingestion').send(body);
    await service.flush(2_000);

    expect(res.status).toBe(207);
    expect(res.body.errors).toEqual([]);
    expect(res.body.successes).toHaveLength(body.batch.length);
    const trace = body.batch.find((e) => e.type === 'trace-create')!.body;
    const gen = body.batch.find((e) => e.type === 'generation-create')!.body;
    const drafts = service.sink.drafts;
    const genDraft = drafts.find((d) => d.span.type === 'observation' && d.span.id === gen.id)!;
    expect(genDraft).toBeDefined();

    // Name, kind, parent.
    expect(genDraft.name).toBe(`${expected.operation} ${expected.model}`);
    expect(genDraft.kind).toBe('CLIENT');
    const genTraceId = gen.traceId ?? `orphan:${gen.id}`;
    expect(genDraft.traceId).toBe(genTraceId);
    expect(genDraft.parent).toEqual(
      gen.parentObservationId ? { type: 'observation', id: gen.parentObservationId } : { type: 'root', traceId: genTraceId },
    );

    // Model, provider, operation.
    const a = genDraft.attributes;
    expect(a['gen_ai.operation.name']).toBe(expected.operation);
    expect(a['gen_ai.provider.name']).toBe(expected.provider);
    expect(a['gen_ai.request.model']).toBe(expected.model);
    expect(a['langfuse.observation.model.name']).toBe(gen.model);

    // Tokens: GenAI input includes the cache buckets that Langfuse keeps apart.
    const details = { ...(gen.usage ?? {}), ...(gen.usageDetails ?? {}) };
    if (details.input !== undefined) {
      expect(a['gen_ai.usage.input_tokens']).toBe(
        details.input + (details.cache_read_input_tokens ?? 0) + (details.cache_creation_input_tokens ?? 0),
      );
      expect(a['gen_ai.usage.output_tokens']).toBe(details.output);
    } else {
      expect(a['gen_ai.usage.input_tokens']).toBeUndefined();
    }
    if (gen.usageDetails?.cache_read_input_tokens !== undefined) {
      expect(a['gen_ai.usage.cache_read.input_tokens']).toBe(gen.usageDetails.cache_read_input_tokens);
    }
    expect(a['gen_ai.usage.cost']).toBe(gen.usage?.totalCost);

    // Messages in the GenAI {role, parts} form.
    if (expected.operation === 'chat') {
      const input = JSON.parse(String(a['gen_ai.input.messages']));
      expect(input).toEqual(gen.input.messages.map((m: any) => ({ role: m.role, parts: [{ type: 'text', content: m.content }] })));
      if (gen.output && typeof gen.output === 'object' && gen.output.content) {
        const output = JSON.parse(String(a['gen_ai.output.messages']));
        expect(output[0].role).toBe('assistant');
        expect(output[0].parts[0]).toEqual({ type: 'text', content: gen.output.content });
      } else if (typeof gen.output === 'string') {
        expect(JSON.parse(String(a['gen_ai.output.messages']))[0].parts[0].content).toBe(gen.output);
      } else {
        expect(a['gen_ai.output.messages']).toBeUndefined();
      }
    } else {
      expect(a['gen_ai.input.messages']).toBeUndefined();
      expect(a['langfuse.observation.input']).toBe(typeof gen.input === 'string' ? gen.input : JSON.stringify(gen.input));
    }

    // Times to the microsecond; time to first chunk in seconds.
    expect(micros(genDraft.startTimeUnixNano)).toBe(isoToMicros(gen.startTime));
    expect(micros(genDraft.endTimeUnixNano)).toBe(isoToMicros(gen.endTime));
    const ttfcMicros = Number(isoToMicros(gen.completionStartTime) - isoToMicros(gen.startTime));
    expect(a['gen_ai.response.time_to_first_chunk']).toBeCloseTo(ttfcMicros / 1e6, 9);

    // The trace's root span.
    const root = drafts.find((d) => d.span.type === 'root' && d.traceId === trace.id)!;
    expect(root).toBeDefined();
    expect(root.parent).toBeUndefined();
    expect(root.kind).toBe('INTERNAL');
    expect(root.name).toBe(trace.name);
    expect(root.attributes['langfuse.trace.id']).toBe(trace.id);
    expect(root.attributes['user.id']).toBe(trace.userId);
    expect(root.attributes['session.id']).toBe(trace.sessionId);
    expect(root.attributes['langfuse.trace.tags']).toEqual(trace.tags.length > 0 ? [...trace.tags].sort() : undefined);
    expect(root.resource['service.name']).toBe('litellm');
    // The root spans its observations when they share the trace; else it is the trace's own moment.
    const traceMicros = isoToMicros(trace.timestamp);
    if (gen.traceId) {
      expect(micros(root.startTimeUnixNano)).toBe(isoToMicros(gen.startTime) < traceMicros ? isoToMicros(gen.startTime) : traceMicros);
      expect(micros(root.endTimeUnixNano) >= isoToMicros(gen.endTime)).toBe(true);
    } else {
      expect(micros(root.startTimeUnixNano)).toBe(traceMicros);
      // The generation without a trace id gets a root of its own, named after it.
      const orphanRoot = drafts.find((d: SpanDraft) => d.span.type === 'root' && d.traceId === genTraceId)!;
      expect(orphanRoot.name).toBe(gen.name);
    }
    // Exactly one root per trace, no span twice.
    const keys = drafts.map((d) => JSON.stringify(d.span));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
