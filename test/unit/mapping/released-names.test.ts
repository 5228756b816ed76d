// The `genai` preset emits the released GenAI names (semconv v1.41.0); `genai-development` the
// names of the GenAI repository's main branch. Built from an Anthropic-style call: Langfuse usage
// details with Anthropic's cache keys, as LiteLLM and the SDKs send them.
import { describe, expect, it } from 'vitest';
import { envelope } from '../../helpers/ingestion-events.js';
import { mapBatch, spanOfObservation } from '../../helpers/map-batch.js';

const batch = {
  batch: [
    envelope('trace-create', { id: 'trace-cache', name: 'cached-call', timestamp: '2026-11-20T10:00:00.000Z' }),
    envelope('generation-create', {
      id: 'gen-cache',
      traceId: 'trace-cache',
      name: 'claude',
      model: 'claude-sonnet-4-5',
      modelParameters: { top_k: 5, reasoning_effort: 'low' },
      startTime: '2026-11-20T10:00:00.000Z',
      endTime: '2026-11-20T10:00:02.000Z',
      promptName: 'support-answer',
      promptVersion: 3,
      usageDetails: { input: 12, output: 40, cache_read_input_tokens: 900, cache_creation_input_tokens: 300 },
      input: [{ role: 'user', content: 'Hi' }],
      output: { role: 'assistant', content: 'Hello' },
    }),
  ],
};

describe('released names by default', () => {
  it('a generation with Anthropic-style cache usage exports cache_creation and cache_read, no cache_write', () => {
    const span = spanOfObservation(mapBatch(batch), 'gen-cache');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.usage.cache_creation.input_tokens': 300,
      'gen_ai.usage.cache_read.input_tokens': 900,
      // Anthropic's input excludes the cache: the semconv input includes reads and writes.
      'gen_ai.usage.input_tokens': 12 + 900 + 300,
      'gen_ai.usage.output_tokens': 40,
      // v1.41.0 types top_k as a double; the prompt version and reasoning level are not released.
      'gen_ai.request.top_k': 5,
      'gen_ai.prompt.name': 'support-answer',
      'langfuse.observation.prompt.version': 3,
    });
    const names = Object.keys(span.attributes);
    expect(names.filter((n) => n.includes('cache_write'))).toEqual([]);
    expect(names).not.toContain('gen_ai.prompt.version');
    expect(names).not.toContain('gen_ai.request.reasoning.level');
  });

  it('genai-development opts in to the development names', () => {
    const span = spanOfObservation(mapBatch(batch, 'genai-development'), 'gen-cache');
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.cache_write.input_tokens': 300,
      'gen_ai.usage.cache_read.input_tokens': 900,
      'gen_ai.request.top_k': 5,
      'gen_ai.request.reasoning.level': 'low',
      'gen_ai.prompt.version': '3',
    });
    expect(Object.keys(span.attributes)).not.toContain('gen_ai.usage.cache_creation.input_tokens');
    expect(Object.keys(span.attributes)).not.toContain('langfuse.observation.prompt.version');
  });
});
