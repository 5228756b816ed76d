// The `openinference` preset is checked against the attribute names of the OpenInference
// semantic conventions package, not against a list of our own.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LLMProvider, OpenInferenceSpanKind, SemanticConventions } from '@arizeai/openinference-semantic-conventions';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PRESETS_DIR } from '../../../src/mapping/load-mapping.js';
import { envelope } from '../../helpers/ingestion-events.js';
import { mapBatch, rootSpan, spanOfObservation } from '../../helpers/map-batch.js';
import { hasSharedFixtures, listFixtures, readFixture } from '../../helpers/shared-fixtures.js';

const OI_NAMES = new Set<string>(Object.values(SemanticConventions));
/** Attribute names the preset keeps from `genai`, outside OpenInference's namespace. */
const isInherited = (key: string) => key.startsWith('gen_ai.') || key.startsWith('langfuse.') || key === 'error.type';

/** `llm.input_messages.0.message.tool_calls.1.tool_call.function.name`: each piece between indexes is an OpenInference name. */
function isOpenInferenceName(key: string): boolean {
  return key.split(/\.\d+\./).every((piece) => OI_NAMES.has(piece));
}

const chatWithTools = {
  batch: [
    envelope('trace-create', { id: 'oi-trace', name: 'litellm-acompletion', timestamp: '2026-11-20T10:00:00.000Z', userId: 'u-1', sessionId: 's-1', tags: ['prod'], input: { q: 'weather' } }),
    envelope('generation-create', {
      id: 'time-10-00-00-000000_chatcmpl-oi',
      traceId: 'oi-trace',
      name: 'litellm-acompletion',
      startTime: '2026-11-20T10:00:00.000Z',
      endTime: '2026-11-20T10:00:01.000Z',
      model: 'bedrock/anthropic.claude-3-haiku-20240307-v1:0',
      modelParameters: { temperature: 0.1, max_tokens: 50 },
      input: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Weather in Paris?' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' } } }],
      },
      output: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      usageDetails: { input: 20, output: 9, total: 29, cache_read_input_tokens: 4 },
      usage: { input: 20, output: 9, unit: 'TOKENS', totalCost: 0.00002 },
      promptName: 'weather',
      promptVersion: 3,
    }),
    envelope('tool-create', { id: 'tool-1', traceId: 'oi-trace', name: 'get_weather', startTime: '2026-11-20T10:00:01.000Z', endTime: '2026-11-20T10:00:01.100Z', input: { city: 'Paris' }, output: 'sunny' }),
  ],
  metadata: { sdk_integration: 'litellm', sdk_name: 'python', sdk_version: '2.60.10' },
};

describe('the openinference preset', () => {
  it('names only OpenInference attributes in its own rules', () => {
    const file = parse(readFileSync(path.join(PRESETS_DIR, 'openinference.yaml'), 'utf8')) as { spans: Record<string, any> };
    const rules = [file.spans.root, file.spans.observation, ...Object.values(file.spans.types as Record<string, any>)];
    const keys = rules.flatMap((rule) => Object.entries(rule.attributes ?? {}).filter(([, r]) => r !== null).map(([k]) => k));
    expect(keys.length).toBeGreaterThan(20);
    for (const key of keys) expect(OI_NAMES.has(key) || isInherited(key), key).toBe(true);
  });

  it('emits OpenInference names and values for an LLM call with tools, a tool span and the root', () => {
    const drafts = mapBatch(chatWithTools, 'openinference');
    for (const draft of drafts) {
      for (const key of Object.keys(draft.attributes)) {
        if (!isInherited(key)) expect(isOpenInferenceName(key), `${draft.name}: ${key}`).toBe(true);
      }
      expect(Object.values(OpenInferenceSpanKind)).toContain(draft.attributes['openinference.span.kind']);
    }
    const llm = spanOfObservation(drafts, 'time-10-00-00-000000_chatcmpl-oi').attributes;
    expect(llm).toMatchObject({
      'openinference.span.kind': 'LLM',
      'llm.model_name': 'anthropic.claude-3-haiku-20240307-v1:0',
      'llm.provider': LLMProvider.AWS,
      'llm.invocation_parameters': '{"temperature":0.1,"max_tokens":50}',
      'llm.input_messages.0.message.role': 'system',
      'llm.input_messages.0.message.content': 'Be brief.',
      'llm.input_messages.1.message.content': 'Weather in Paris?',
      'llm.output_messages.0.message.role': 'assistant',
      'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'call_1',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'get_weather',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"city":"Paris"}',
      'llm.tools.0.tool.json_schema': '{"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object"}}',
      'llm.token_count.prompt': 24,
      'llm.token_count.completion': 9,
      'llm.token_count.total': 29,
      'llm.token_count.prompt_details.cache_read': 4,
      'llm.cost.total': 0.00002,
      'llm.prompt_template.version': '3',
      'input.mime_type': 'application/json',
      'output.mime_type': 'application/json',
      'user.id': 'u-1',
      'session.id': 's-1',
    });
    expect(JSON.parse(String(llm['input.value'])).messages).toHaveLength(2);
    // Content goes once, in the OpenInference form.
    expect(llm['gen_ai.input.messages']).toBeUndefined();
    expect(llm['gen_ai.output.messages']).toBeUndefined();

    const tool = spanOfObservation(drafts, 'tool-1').attributes;
    expect(tool).toMatchObject({ 'openinference.span.kind': 'TOOL', 'tool.name': 'get_weather', 'output.value': 'sunny', 'output.mime_type': 'text/plain' });
    const root = rootSpan(drafts).attributes;
    expect(root).toMatchObject({ 'openinference.span.kind': 'CHAIN', 'tag.tags': ['prod'], 'input.value': '{"q":"weather"}', 'input.mime_type': 'application/json' });
  });

  it('keeps content out when capture is off', () => {
    const llm = spanOfObservation(mapBatch(chatWithTools, 'openinference', { captureContent: false }), 'time-10-00-00-000000_chatcmpl-oi').attributes;
    expect(Object.keys(llm).filter((k) => k.startsWith('llm.input_messages') || k.startsWith('input.') || k.startsWith('output.'))).toEqual([]);
    expect(llm['llm.token_count.prompt']).toBe(24);
  });

  it.skipIf(!hasSharedFixtures)('emits only OpenInference names over the LiteLLM corpus', () => {
    for (const file of listFixtures('litellm')) {
      for (const draft of mapBatch(readFixture(`litellm/${file}`), 'openinference')) {
        for (const key of Object.keys(draft.attributes)) if (!isInherited(key)) expect(isOpenInferenceName(key), `${file}: ${key}`).toBe(true);
        if (draft.span.type === 'observation') expect(['LLM', 'EMBEDDING']).toContain(draft.attributes['openinference.span.kind']);
      }
    }
  });
});
