// One test per finding from running real clients against the bridge (issue 11), each built from
// the request shape that client sends (research/clients.md, ../shared/fixtures).
import { describe, expect, it } from 'vitest';
import { envelope } from '../../helpers/ingestion-events.js';
import { mapBatch, rootSpan, spanOfObservation } from '../../helpers/map-batch.js';
import { hasSharedFixtures, readFixture } from '../../helpers/shared-fixtures.js';

const litellmMetadata = { batch_size: 2, sdk_integration: 'litellm', sdk_name: 'python', sdk_version: '2.60.10', public_key: 'pk-lf-local' };

/** A LiteLLM `langfuse` callback batch: one trace-create and one generation-create (§1.4). */
function litellmBatch(trace: Record<string, unknown>, generation: Record<string, unknown>) {
  return {
    batch: [
      envelope('trace-create', { id: 'litellm-call-1', timestamp: '2026-11-20T10:00:01.000Z', tags: [], ...trace }),
      envelope('generation-create', {
        id: 'time-10-00-00-000000_chatcmpl-abc123',
        traceId: 'litellm-call-1',
        startTime: '2026-11-20T02:00:00.000000-08:00',
        endTime: '2026-11-20T02:00:01.000000-08:00',
        completionStartTime: '2026-11-20T02:00:01.000000-08:00',
        level: 'DEFAULT',
        metadata: { hidden_params: { model_id: null, api_base: 'https://api.openai.com', litellm_model_name: 'gpt-3.5-turbo' }, cache_hit: false },
        ...generation,
      }),
    ],
    metadata: litellmMetadata,
  };
}

describe('finding 1: LiteLLM text completions are text_completion, not chat', () => {
  // LiteLLM 1.103.11 captured: `text_completion()` sends `litellm-text_completion`, the async call
  // `litellm-atext_completion`; the proxy routes with the `text-completion-openai/` prefix; the
  // output is the first choice as a message or its text.
  it.each([
    ['litellm-atext_completion', 'text-completion-openai/gpt-3.5-turbo-instruct', '\n\nThis is a test.'],
    ['litellm-text_completion', 'gpt-3.5-turbo-instruct', { content: 'This is a test.', role: 'assistant', tool_calls: null, function_call: null, provider_specific_fields: null }],
    ['litellm:proxy-key-alias', 'text-completion-openai/gpt-3.5-turbo-instruct', 'This is a test.'],
  ])('names a /v1/completions call %s with model %s text_completion', (name, model, output) => {
    const drafts = mapBatch(
      litellmBatch(
        { name, input: { messages: [{ role: 'user', content: 'Say this is a test' }] } },
        {
          name,
          model,
          modelParameters: { max_tokens: 7, extra_body: '{}' },
          input: { messages: [{ role: 'user', content: 'Say this is a test' }] },
          output,
          usage: { input: 5, output: 7, unit: 'TOKENS', totalCost: 0.000021 },
        },
      ),
    );
    const span = spanOfObservation(drafts, 'time-10-00-00-000000_chatcmpl-abc123');
    expect(span.name).toBe('text_completion gpt-3.5-turbo-instruct');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'text_completion',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-3.5-turbo-instruct',
    });
  });
});

describe('finding 2: a LiteLLM failure is an error, not an assistant reply', () => {
  it('keeps output equal to statusMessage out of the output messages', () => {
    const error = 'litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for gpt-4o';
    const drafts = mapBatch(
      litellmBatch(
        { name: 'litellm-acompletion', input: { messages: [{ role: 'user', content: 'Hi' }] } },
        { id: 'b0c9-uuid4', name: 'litellm-acompletion', model: 'gpt-4o', input: { messages: [{ role: 'user', content: 'Hi' }] }, level: 'ERROR', statusMessage: error, output: error },
      ),
    );
    const span = spanOfObservation(drafts, 'b0c9-uuid4');
    expect(span.status).toEqual({ code: 'ERROR', message: error });
    expect(span.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(span.attributes['langfuse.observation.output']).toBeUndefined();
    expect(span.attributes).toMatchObject({ 'error.type': 'RateLimitError', 'gen_ai.response.finish_reasons': ['error'], 'langfuse.observation.status_message': error });
  });
});

/** A Dify workflow on the SDK v2: spans and an LLM generation, the trace-create sent ~5 s later. */
function difyBatch(generation: Record<string, unknown> = {}) {
  return {
    batch: [
      envelope('span-create', {
        id: 'wf-run-1',
        traceId: 'dify-trace-1',
        name: 'workflow',
        startTime: '2026-11-20T10:00:00.000Z',
        endTime: '2026-11-20T10:00:03.200Z',
        input: { 'sys.query': 'Hello' },
        output: { answer: 'Hi there' },
      }),
      envelope('generation-create', {
        id: 'node-llm-1',
        traceId: 'dify-trace-1',
        parentObservationId: 'wf-run-1',
        name: 'LLM',
        startTime: '2026-11-20T10:00:00.500Z',
        endTime: '2026-11-20T10:00:03.000Z',
        model: 'gpt-4o-mini',
        modelParameters: { temperature: 0.7 },
        input: [{ role: 'user', text: 'Hello', files: [] }],
        output: {
          text: 'Hi there',
          usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, total_price: '0.0000048', currency: 'USD', latency: 2.4 },
          finish_reason: 'stop',
        },
        usage: { input: 40, output: 8, total: 48, unit: 'CHARACTERS' },
        ...generation,
      }),
      envelope(
        'trace-create',
        { id: 'dify-trace-1', name: 'workflow', timestamp: '2026-11-20T10:00:08.200Z', userId: 'end-user-1', sessionId: 'conv-1', tags: ['workflow'] },
        { timestamp: '2026-11-20T10:00:08.200Z' },
      ),
    ],
    metadata: { batch_size: 3, sdk_integration: 'default', sdk_name: 'python', sdk_version: '2.60.10', public_key: 'pk-lf-local' },
  };
}

describe('finding 3: a root spans its observations, not a late trace-create', () => {
  it('ends the Dify root at its last observation (3.2 s), keeping the trace timestamp as an attribute', () => {
    const root = rootSpan(mapBatch(difyBatch()));
    expect(root.startTimeUnixNano).toBe(BigInt(Date.parse('2026-11-20T10:00:00.000Z')) * 1_000_000n);
    expect(Number(root.endTimeUnixNano - root.startTimeUnixNano) / 1e9).toBe(3.2);
    expect(root.attributes['langfuse.trace.timestamp']).toBe('2026-11-20T10:00:08.200000Z');
  });
});

describe('finding 4: usage in a unit other than TOKENS is not tokens', () => {
  it('keeps Dify CHARACTERS out of gen_ai.usage.*_tokens and names the unit', () => {
    const span = spanOfObservation(mapBatch(difyBatch({ output: 'Hi there' })), 'node-llm-1');
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
    expect(span.attributes).toMatchObject({
      'langfuse.observation.usage.unit': 'CHARACTERS',
      'langfuse.observation.usage.input': 40,
      'langfuse.observation.usage.output': 8,
      'langfuse.observation.usage.total': 48,
    });
  });

  it.each(['MILLISECONDS', 'SECONDS', 'IMAGES', 'REQUESTS'])('%s are not tokens either', (unit) => {
    const span = spanOfObservation(
      mapBatch(litellmBatch({ name: 'litellm-atranscription' }, { model: 'whisper-1', output: 'hello', usage: { input: 3, unit } })),
      'time-10-00-00-000000_chatcmpl-abc123',
    );
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(span.attributes['langfuse.observation.usage.unit']).toBe(unit);
  });

  it('takes tokens from the LLM node output usage when the client usage counted characters', () => {
    const span = spanOfObservation(mapBatch(difyBatch()), 'node-llm-1');
    expect(span.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 5, 'gen_ai.usage.total_tokens': 17 });
  });
});

describe('finding 5: finish reasons, response model and response id', () => {
  it('gives every output message a finish_reason and reads the response id from the LiteLLM generation id', () => {
    const drafts = mapBatch(
      litellmBatch(
        { name: 'litellm-acompletion' },
        { name: 'litellm-acompletion', model: 'gpt-3.5-turbo', input: { messages: [{ role: 'user', content: 'Hello!' }] }, output: { content: 'Hi!', role: 'assistant', tool_calls: null, function_call: null } },
      ),
    );
    const span = spanOfObservation(drafts, 'time-10-00-00-000000_chatcmpl-abc123');
    expect(JSON.parse(String(span.attributes['gen_ai.output.messages']))).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hi!' }], finish_reason: 'stop' }]);
    expect(span.attributes).toMatchObject({ 'gen_ai.response.id': 'chatcmpl-abc123', 'gen_ai.response.model': 'gpt-3.5-turbo' });
    // LiteLLM does not send the reason: none is claimed on the span.
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  it('says tool_call for a message that calls tools', () => {
    const output = { content: null, role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] };
    const span = spanOfObservation(mapBatch(litellmBatch({}, { model: 'gpt-4o', input: { messages: [{ role: 'user', content: 'Weather?' }] }, output })), 'time-10-00-00-000000_chatcmpl-abc123');
    expect(JSON.parse(String(span.attributes['gen_ai.output.messages']))[0].finish_reason).toBe('tool_call');
  });

  it.skipIf(!hasSharedFixtures)('takes the response model from LiteLLM hidden_params (real Vertex fixture)', () => {
    const span = mapBatch(readFixture('litellm/completion_with_vertex_call.json')).find((d) => d.span.type === 'observation')!;
    expect(span.attributes).toMatchObject({ 'gen_ai.response.model': 'gemini-2.0-flash-001', 'gen_ai.response.id': 'chatcmpl-59a988d0-7ef1-4dc4-bc18-d2e78961817f' });
  });
});

describe('finding 6: trace context on every span', () => {
  it('puts LiteLLM trace_user_id / session_id on the generation span', () => {
    const drafts = mapBatch(litellmBatch({ name: 'litellm-acompletion', userId: 'user-7', sessionId: 'sess-9' }, { model: 'gpt-4o', input: { messages: [{ role: 'user', content: 'Hi' }] }, output: { role: 'assistant', content: 'Yo' } }));
    const span = spanOfObservation(drafts, 'time-10-00-00-000000_chatcmpl-abc123');
    expect(span.attributes).toMatchObject({ 'user.id': 'user-7', 'session.id': 'sess-9', 'gen_ai.conversation.id': 'sess-9' });
  });
});

describe('finding 7: max_completion_tokens is gen_ai.request.max_tokens', () => {
  it('maps what langchain-openai sends through the v2 CallbackHandler', () => {
    const body = {
      batch: [
        envelope('trace-create', { id: 'lc-trace', name: 'RunnableSequence', timestamp: '2026-11-20T10:00:00.000Z' }),
        envelope('generation-create', {
          id: 'lc-gen',
          traceId: 'lc-trace',
          name: 'ChatOpenAI',
          startTime: '2026-11-20T10:00:00.100Z',
          model: 'gpt-4o-mini',
          modelParameters: { temperature: 0.2, max_completion_tokens: 256, top_p: 1 },
          input: [{ role: 'user', content: 'Hi' }],
        }),
        envelope('generation-update', { id: 'lc-gen', traceId: 'lc-trace', endTime: '2026-11-20T10:00:01.000Z', output: { role: 'assistant', content: 'Hello' }, usage: { input: 8, output: 2, total: 10, unit: 'TOKENS' } }),
      ],
      metadata: { batch_size: 3, sdk_integration: 'langchain', sdk_name: 'python', sdk_version: '2.60.10' },
    };
    const span = spanOfObservation(mapBatch(body), 'lc-gen');
    expect(span.attributes['gen_ai.request.max_tokens']).toBe(256);
    expect(span.attributes['gen_ai.request.max_completion_tokens']).toBeUndefined();
  });
});

describe('finding 8: no time to first chunk on non-streaming calls', () => {
  it('omits it when LiteLLM sends completionStartTime = endTime', () => {
    const span = spanOfObservation(mapBatch(litellmBatch({}, { model: 'gpt-4o', modelParameters: { extra_body: '{}' } })), 'time-10-00-00-000000_chatcmpl-abc123');
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
  });

  it('keeps it when the first chunk is stamped after the end by a wall clock ahead of the span clock (JS SDK v5)', () => {
    const body = {
      batch: [
        envelope('trace-create', { id: 'js-trace', name: 'js' }),
        envelope('generation-create', {
          id: 'js-gen',
          traceId: 'js-trace',
          model: 'gpt-4o',
          input: [{ role: 'user', content: 'Hi' }],
          startTime: '2026-11-20T10:00:00.000100Z',
          completionStartTime: '2026-11-20T10:00:00.007Z',
          endTime: '2026-11-20T10:00:00.006842Z',
          output: { role: 'assistant', content: 'Hello' },
        }),
      ],
    };
    const span = spanOfObservation(mapBatch(body), 'js-gen');
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeCloseTo(0.0069, 6);
  });

  it.skipIf(!hasSharedFixtures)('keeps it for the real streaming fixture', () => {
    const span = mapBatch(readFixture('litellm/streaming_completion.json')).find((d) => d.span.type === 'observation')!;
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeCloseTo(0.222525, 6);
  });
});

describe('finding 9: one service name across languages', () => {
  it.each([
    ['JS SDK v3 with langfuse-langchain', 'LANGCHAIN'],
    ['Python SDK v2 CallbackHandler', 'langchain'],
  ])('%s → service.name langchain', (_client, integration) => {
    const body = {
      batch: [envelope('span-create', { id: 's1', traceId: 't1', name: 'RunnableSequence', startTime: '2026-11-20T10:00:00.000Z', endTime: '2026-11-20T10:00:01.000Z' })],
      metadata: { sdk_integration: integration, sdk_name: 'javascript', sdk_version: '3.39.2' },
    };
    for (const draft of mapBatch(body)) expect(draft.resource['service.name']).toBe('langchain');
  });
});

/** The Python SDK v2 OpenAI drop-in: a create, then an update with output and usage, no cost. */
function openAiDropInBatch(usage: Record<string, unknown>) {
  return {
    batch: [
      envelope('trace-create', { id: 'oa-trace', name: 'OpenAI-generation', timestamp: '2026-11-20T10:00:00.000Z' }),
      envelope('generation-create', {
        id: 'oa-gen',
        traceId: 'oa-trace',
        name: 'OpenAI-generation',
        startTime: '2026-11-20T10:00:00.000Z',
        model: 'gpt-4o',
        modelParameters: { temperature: 1, max_tokens: 'inf', top_p: 1, frequency_penalty: 0, presence_penalty: 0 },
        input: [{ role: 'user', content: 'Hi' }],
        metadata: {},
      }),
      envelope('generation-update', {
        id: 'oa-gen',
        traceId: 'oa-trace',
        endTime: '2026-11-20T10:00:01.000Z',
        model: 'gpt-4o-2024-08-06',
        output: { role: 'assistant', content: 'Hello' },
        usage,
      }),
    ],
    metadata: { batch_size: 3, sdk_integration: 'default', sdk_name: 'python', sdk_version: '2.60.10' },
  };
}

describe('finding 10: a cost estimate when the client sent only usage', () => {
  it('prices gpt-4o usage with genai-prices, marked as estimated', () => {
    const span = spanOfObservation(mapBatch(openAiDropInBatch({ input: 10, output: 20, total: 30, unit: 'TOKENS' })), 'oa-gen');
    // gpt-4o: $2.50 per million input tokens, $10 per million output tokens.
    expect(span.attributes['gen_ai.usage.cost']).toBeCloseTo(10 * 2.5e-6 + 20 * 10e-6, 12);
    expect(span.attributes['langfuse.observation.cost_estimated']).toBe(true);
  });

  it('does not estimate when the client sent a cost, or when estimation is off', () => {
    const sent = spanOfObservation(mapBatch(openAiDropInBatch({ input: 10, output: 20, unit: 'TOKENS', totalCost: 0.5 })), 'oa-gen');
    expect(sent.attributes['gen_ai.usage.cost']).toBe(0.5);
    expect(sent.attributes['langfuse.observation.cost_estimated']).toBeUndefined();
    const off = spanOfObservation(mapBatch(openAiDropInBatch({ input: 10, output: 20, unit: 'TOKENS' }), 'genai', { estimateCost: false }), 'oa-gen');
    expect(off.attributes['gen_ai.usage.cost']).toBeUndefined();
  });

  it('leaves an unknown model without cost', () => {
    const body = openAiDropInBatch({ input: 10, output: 20, unit: 'TOKENS' });
    (body.batch[2]!.body as Record<string, unknown>).model = 'my-private-finetune';
    const span = spanOfObservation(mapBatch(body), 'oa-gen');
    expect(span.attributes['gen_ai.usage.cost']).toBeUndefined();
    expect(span.attributes['langfuse.observation.cost_estimated']).toBeUndefined();
  });
});

describe("finding 11: Dify's LLM node output", () => {
  it('becomes an output message with its finish_reason, and total_price the cost', () => {
    const span = spanOfObservation(mapBatch(difyBatch()), 'node-llm-1');
    expect(JSON.parse(String(span.attributes['gen_ai.output.messages']))).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hi there' }], finish_reason: 'stop' }]);
    expect(span.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.cost': 0.0000048 });
    expect(span.attributes['langfuse.observation.cost_estimated']).toBeUndefined();
    expect(span.attributes['langfuse.observation.output']).toBeUndefined();
  });
});
