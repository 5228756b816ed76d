// The `langfuse` preset against the LiteLLM v4 pull request's goldens (the langfuse.* attributes
// LiteLLM's own OTel callback will send to Langfuse's OTLP endpoint): where the v2 batch carries
// the same facts, the bridge must emit the same attributes (outputs differ between the two
// LiteLLM versions the files come from, so they are not compared). Values are compared parsed, since the
// goldens hold objects where OTel carries JSON strings.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { hasSharedFixtures, readFixture } from '../helpers/shared-fixtures.js';
import { createTestService, type TestService } from '../helpers/test-service.js';

const parsed = (v: unknown) => (typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v);

describe.skipIf(!hasSharedFixtures)('langfuse preset', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });

  it.each([
    ['completion_with_router.json', ['langfuse.observation.type', 'langfuse.observation.input', 'langfuse.observation.level', 'langfuse.observation.model.name', 'langfuse.observation.model.parameters']],
    [
      'completion_with_langfuse_metadata.json',
      [
        'langfuse.observation.type',
        'langfuse.observation.model.name',
        'langfuse.observation.model.parameters',
        'langfuse.observation.level',
        'langfuse.observation.input',
        'langfuse.observation.usage_details',
        'langfuse.observation.cost_details',
      ],
    ],
  ])('%s: emits the golden langfuse.* attributes', async (file, keys) => {
    service = await createTestService({ BRIDGE_MAPPING: 'langfuse', BRIDGE_TRACE_IDLE_MS: '10' });
    const golden = readFixture<{ name: string; attributes: Record<string, unknown> }>(`litellm-v4-pr/${file}`);

    await request(service.app).post('/api/public/ingestion').send(readFixture<object>(`litellm/${file}`));
    await service.flush(100);

    const gen = service.sink.drafts.find((d) => d.span.type === 'observation')!;
    for (const key of keys) expect([key, parsed(gen.attributes[key])]).toEqual([key, golden.attributes[key]]);
    const usage = JSON.parse(String(gen.attributes['langfuse.observation.usage_details']));
    expect(usage).toMatchObject({ input: 10, cache_read_input_tokens: 0 });
    const root = service.sink.drafts.find((d) => d.span.type === 'root')!;
    if (golden.attributes['langfuse.trace.name']) expect(root.attributes['langfuse.trace.name']).toBe(golden.attributes['langfuse.trace.name']);
  });
});
