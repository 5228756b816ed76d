import { describe, expect, it } from 'vitest';
import type { MergedObservation } from '../../../src/assembly/merge.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { ResolvedMapping } from '../../../src/mapping/load-mapping.js';
import { loadMapping } from '../../../src/mapping/load-mapping.js';
import { observationView } from '../../../src/mapping/record-view.js';
import { mapBatch } from '../../helpers/map-batch.js';
import { hasSharedFixtures, listFixtures, readFixture } from '../../helpers/shared-fixtures.js';

const generation = (over: Partial<MergedObservation> = {}): MergedObservation => ({
  id: 'gen-1',
  type: 'GENERATION',
  traceId: 'trace-1',
  startTimeNanos: 1_000_000_000n,
  endTimeNanos: 3_000_000_000n,
  completionStartTimeNanos: 1_500_000_000n,
  level: 'DEFAULT',
  environment: 'default',
  model: 'gpt-4o',
  modelParameters: { temperature: '0.7', max_tokens: 100, stop: 'END', stream: true, seed: 1.5 },
  input: { messages: [{ role: 'user', content: 'Hi' }] },
  output: { role: 'assistant', content: 'Hello' },
  metadata: { team: 'a', nested: { k: 1 }, list: [1, 2] },
  ...over,
});

function shapeOf(obs: MergedObservation, captureContent = true) {
  const mapping = compileMapping(loadMapping('genai'), { captureContent });
  return mapping.observation(obs.type.toLowerCase() as 'generation', observationView(obs, { inferProvider: mapping.inferProvider, incomplete: obs.endTimeNanos === undefined }));
}

describe('compileMapping with the genai preset', () => {
  it('names and kinds a chat generation, coercing model parameters by declared type', () => {
    const shape = shapeOf(generation());
    expect(shape).toMatchObject({ name: 'chat gpt-4o', kind: 'CLIENT', status: { code: 'UNSET' } });
    expect(shape.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.temperature': 0.7,
      'gen_ai.request.max_tokens': 100,
      'gen_ai.request.stop_sequences': ['END'],
      'gen_ai.request.stream': true,
      'gen_ai.response.time_to_first_chunk': 0.5,
      'langfuse.observation.metadata.team': 'a',
      'langfuse.observation.metadata.nested': '{"k":1}',
      'langfuse.observation.metadata.list': '[1,2]',
    });
    // A seed that is not an integer cannot be coerced and is left out.
    expect(shape.attributes['gen_ai.request.seed']).toBeUndefined();
  });

  it('drops every content attribute when content capture is off', () => {
    const shape = shapeOf(generation(), false);
    for (const key of ['gen_ai.input.messages', 'gen_ai.output.messages', 'langfuse.observation.input', 'langfuse.observation.output']) {
      expect(shape.attributes[key]).toBeUndefined();
    }
    expect(shape.attributes['gen_ai.request.model']).toBe('gpt-4o');
  });

  it('maps level ERROR to an ERROR status with the message and error.type', () => {
    const shape = shapeOf(generation({ level: 'ERROR', statusMessage: 'litellm.RateLimitError: slow down', output: undefined }));
    expect(shape.status).toEqual({ code: 'ERROR', message: 'litellm.RateLimitError: slow down' });
    expect(shape.attributes['error.type']).toBe('RateLimitError');
    expect(shape.attributes['langfuse.observation.level']).toBe('ERROR');
  });

  it.each([
    ['AGENT', 'planner', 'invoke_agent planner', 'invoke_agent'],
    ['TOOL', 'search', 'execute_tool search', 'execute_tool'],
    ['RETRIEVER', 'vector-db', 'retrieval', 'retrieval'],
    ['CHAIN', 'pipeline', 'invoke_workflow pipeline', 'invoke_workflow'],
    ['SPAN', 'step', 'step', undefined],
    ['GUARDRAIL', 'pii', 'pii', undefined],
  ] as const)('names a %s observation after GenAI (%s → %s)', (type, name, spanName, operation) => {
    const shape = shapeOf(generation({ type, name, model: undefined }));
    expect(shape.name).toBe(spanName);
    expect(shape.kind).toBe('INTERNAL');
    expect(shape.attributes['gen_ai.operation.name']).toBe(operation);
  });

  it('falls back along the name templates when a placeholder has no value', () => {
    expect(shapeOf(generation({ model: undefined })).name).toBe('chat');
    expect(shapeOf(generation({ type: 'SPAN', name: undefined })).name).toBe('span');
  });

  it('never walks into prototypes through a path', () => {
    const mapping: ResolvedMapping = {
      version: 1,
      sources: ['inline'],
      spans: {
        observation: {
          attributes: {
            leak: 'obs.constructor.name',
            own: 'obs.metadata.__proto__',
            derivedLeak: 'derived.constructor',
            derivedMethod: 'derived.toString',
            // A derived value of another record kind (scores) is absent here, not an error.
            otherKind: 'derived.value_label',
            known: 'derived.type',
          },
        },
      },
    };
    const compiled = compileMapping(mapping, { captureContent: true });
    const meta = JSON.parse('{"__proto__": "data"}') as Record<string, unknown>;
    const shape = compiled.observation('span', observationView(generation({ type: 'SPAN', metadata: meta as never }), { inferProvider: compiled.inferProvider, incomplete: false }));
    expect(shape.attributes.leak).toBeUndefined();
    expect(shape.attributes.own).toBe('data');
    expect(shape.attributes.derivedLeak).toBeUndefined();
    expect(shape.attributes.derivedMethod).toBeUndefined();
    expect(shape.attributes.otherKind).toBeUndefined();
    expect(shape.attributes.known).toBe('span');
  });

  it('translates listed string values with map and passes the others unchanged', () => {
    const mapping: ResolvedMapping = {
      version: 1,
      sources: ['inline'],
      spans: { observation: { attributes: { vendor: { from: 'obs.model', map: { 'gpt-4o': 'openai', 'claude-3': 'anthropic' } } } } },
    };
    const compiled = compileMapping(mapping, { captureContent: true });
    const vendorOf = (model: string) =>
      compiled.observation('span', observationView(generation({ type: 'SPAN', model }), { inferProvider: compiled.inferProvider, incomplete: false })).attributes.vendor;
    expect([vendorOf('gpt-4o'), vendorOf('claude-3'), vendorOf('llama')]).toEqual(['openai', 'anthropic', 'llama']);
  });
});

describe('the generated attribute builder', () => {
  // Keys a literal in generated code could get wrong: quotes, a backslash, line and paragraph
  // separators, an index-like key, and `__proto__` (a store through the prototype's setter either
  // way, as it has always been: not an own key).
  const oddKeys: ResolvedMapping = {
    version: 1,
    sources: ['inline'],
    spans: {
      observation: {
        attributes: {
          'a"b\'c\\d': 'obs.traceId',
          'line\u2028para\u2029': 'obs.model',
          '7': 'obs.id',
          ['__proto__']: 'obs.metadata',
          'meta': { from: 'obs.metadata', flatten: true },
          'level': { from: 'obs.level', skip_values: ['DEFAULT'] },
          'after': 'derived.type',
        },
      },
    },
  };

  it('writes the same attributes, in the same order, as adding them key by key', () => {
    const shapes = [true, false].map((generateCode) => {
      const compiled = compileMapping(oddKeys, { captureContent: true, generateCode });
      const view = observationView(generation({ type: 'SPAN' }), { inferProvider: compiled.inferProvider, incomplete: false });
      return compiled.observation('span', view).attributes;
    });
    expect(Object.keys(shapes[0]!)).toEqual(Object.keys(shapes[1]!));
    expect(shapes[0]).toEqual(shapes[1]);
    expect(Object.keys(shapes[0]!)).toEqual(['7', 'a"b\'c\\d', 'line\u2028para\u2029', 'meta.team', 'meta.nested', 'meta.list', 'after']);
  });

  it.skipIf(!hasSharedFixtures)('maps the LiteLLM and JS SDK corpus to the same drafts with every preset', () => {
    const bodies = [...listFixtures('litellm').map((f) => `litellm/${f}`), ...listFixtures('langfuse-js-v3').map((f) => `langfuse-js-v3/${f}`)];
    for (const preset of ['genai', 'genai-development', 'langfuse', 'openinference']) {
      for (const file of bodies) {
        const [generated, byKey] = [true, false].map((generateCode) => mapBatch(readFixture(file), preset, { generateCode }));
        expect(generated!.map((d) => Object.keys(d.attributes))).toEqual(byKey!.map((d) => Object.keys(d.attributes)));
        expect(generated).toEqual(byKey);
      }
    }
  });
});
