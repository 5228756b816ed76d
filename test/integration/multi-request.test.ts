// Assembly across requests through the HTTP route: entities opened in one request and ended,
// updated, scored in later ones become one whole tree with the right times; resends change
// nothing; late updates are counted and never exported twice. Merge rules in unit/assembly.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { envelope } from '../helpers/ingestion-events.js';
import { hasSharedFixtures, readFixture } from '../helpers/shared-fixtures.js';
import { createTestService, type TestService } from '../helpers/test-service.js';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const at = (offsetMillis: number, extra = '') => new Date(T0 + offsetMillis).toISOString().replace('Z', `${extra}Z`);
const event = (type: string, offsetMillis: number, body: Record<string, unknown>) => envelope(type, body, { timestamp: at(offsetMillis) });
const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

describe('assembly across requests', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });

  const post = (batch: unknown[]) => request(service!.app).post('/api/public/ingestion').send({ batch });

  it('builds one tree from a trace, span and generation opened, then ended and updated, then an event and a score', async () => {
    service = await createTestService({ BRIDGE_TRACE_IDLE_MS: '1000' });
    const trace = 'trace-multi-1';
    const first = [
      event('trace-create', 0, { id: trace, name: 'support-chat', userId: 'u1', sessionId: 's1', input: { q: 'hi' } }),
      event('span-create', 1, { id: 'span-1', traceId: trace, name: 'retrieve', startTime: at(10) }),
      event('generation-create', 2, {
        id: 'gen-1',
        traceId: trace,
        parentObservationId: 'span-1',
        name: 'answer',
        startTime: at(20),
        model: 'gpt-4o',
        input: [{ role: 'user', content: 'hi' }],
      }),
    ];
    const second = [
      event('generation-update', 500, {
        id: 'gen-1',
        traceId: trace,
        endTime: at(400),
        output: { role: 'assistant', content: 'hello' },
        usage: { input: 12, output: 3 },
        usageDetails: { input: 12, output: 3, cache_read_input_tokens: 4 },
        costDetails: { total: 0.002 },
      }),
      event('span-update', 501, { id: 'span-1', traceId: trace, endTime: at(450), output: { docs: 2 } }),
      event('trace-create', 502, { id: trace, output: { a: 'hello' } }),
    ];
    const third = [
      event('event-create', 900, { id: 'evt-1', traceId: trace, parentObservationId: 'span-1', name: 'cache-miss', startTime: at(300) }),
      event('score-create', 901, { id: 'score-1', traceId: trace, observationId: 'gen-1', name: 'helpful', value: 0.9 }),
    ];

    expect((await post(first)).status).toBe(207);
    await service.flush(100);
    expect(service.sink.drafts).toHaveLength(0);
    expect((await post(second)).status).toBe(207);
    await service.flush(100);
    expect((await post(third)).status).toBe(207);
    await service.flush(100);
    expect(service.sink.drafts.map((d) => d.name).sort()).toEqual(['cache-miss', 'chat gpt-4o', 'evaluation helpful', 'retrieve']);
    await service.flush(1_000);

    const byName = new Map(service.sink.drafts.map((d) => [d.name, d]));
    expect([...byName.keys()].sort()).toEqual(['cache-miss', 'chat gpt-4o', 'evaluation helpful', 'retrieve', 'support-chat']);
    const root = byName.get('support-chat')!;
    const span = byName.get('retrieve')!;
    const gen = byName.get('chat gpt-4o')!;
    const evt = byName.get('cache-miss')!;
    const score = byName.get('evaluation helpful')!;
    expect(root.parent).toBeUndefined();
    expect(span.parent).toEqual({ type: 'root', traceId: trace });
    expect(gen.parent).toEqual({ type: 'observation', id: 'span-1' });
    expect(evt.parent).toEqual({ type: 'observation', id: 'span-1' });
    expect(score.parent).toEqual({ type: 'observation', id: 'gen-1' });
    expect([span.startTimeUnixNano, span.endTimeUnixNano]).toEqual([ns(at(10)), ns(at(450))]);
    expect([gen.startTimeUnixNano, gen.endTimeUnixNano]).toEqual([ns(at(20)), ns(at(400))]);
    expect(evt.startTimeUnixNano).toBe(evt.endTimeUnixNano);
    expect(score.startTimeUnixNano).toBe(ns(at(901)));
    // The root spans its observations (Langfuse's trace latency), not the trace timestamp.
    expect([root.startTimeUnixNano, root.endTimeUnixNano]).toEqual([ns(at(10)), ns(at(450))]);
    expect(root.attributes['langfuse.trace.output']).toBe('{"a":"hello"}');
    expect(root.attributes['langfuse.trace.input']).toBe('{"q":"hi"}');
    expect(gen.attributes['gen_ai.usage.input_tokens']).toBe(16);
    expect(gen.attributes['gen_ai.usage.cost']).toBe(0.002);
    expect(gen.attributes['gen_ai.output.messages']).toBe('[{"role":"assistant","parts":[{"type":"text","content":"hello"}],"finish_reason":"stop"}]');
    expect(span.attributes['langfuse.observation.output']).toBe('{"docs":2}');
    expect(score.attributes['gen_ai.evaluation.score.value']).toBe(0.9);
  });

  it('changes nothing when a batch is resent, and counts a late update without exporting twice', async () => {
    service = await createTestService({ BRIDGE_TRACE_IDLE_MS: '500' });
    const batch = [
      event('trace-create', 0, { id: 'trace-resend', name: 't' }),
      event('generation-create', 1, { id: 'gen-r', traceId: 'trace-resend', startTime: at(1), endTime: at(5), model: 'gpt-4o' }),
    ];
    await post(batch);
    await service.flush(600);
    expect(service.sink.drafts).toHaveLength(2);

    const resent = await post(batch);
    const late = await post([event('generation-update', 50, { id: 'gen-r', output: 'later' })]);
    await service.flush(600);

    expect(resent.body.successes).toHaveLength(2);
    expect(late.body.successes).toHaveLength(1);
    expect(service.sink.drafts).toHaveLength(2);
    const metrics = await service.metrics.registry.getSingleMetricAsString('bridge_late_updates_total');
    expect(metrics).toMatch(/bridge_late_updates_total 1$/m);
    const duplicates = await service.metrics.registry.getSingleMetricAsString('bridge_duplicate_events_total');
    expect(duplicates).toMatch(/bridge_duplicate_events_total 2$/m);
    expect(service.store.log.pendingEntries()).toBe(0);
  });

  it('applies an update that arrives before its create in envelope-timestamp order', async () => {
    service = await createTestService({ BRIDGE_TRACE_IDLE_MS: '100' });
    await post([event('span-update', 100, { id: 'span-o', traceId: 't-o', endTime: at(90), name: 'late-name' })]);
    await post([event('span-create', 0, { id: 'span-o', traceId: 't-o', startTime: at(5), name: 'first-name' })]);
    await service.flush(200);

    const span = service.sink.drafts.find((d) => d.span.type === 'observation')!;
    expect(span.name).toBe('late-name');
    expect([span.startTimeUnixNano, span.endTimeUnixNano]).toEqual([ns(at(5)), ns(at(90))]);
    // Without a trace-create the root is named after the earliest top-level observation.
    expect(service.sink.drafts.find((d) => d.span.type === 'root')!.name).toBe('late-name');
  });

  it('exports an observation that never ends after the observation timeout, marked incomplete', async () => {
    service = await createTestService({ BRIDGE_TRACE_IDLE_MS: '100', BRIDGE_OBSERVATION_TIMEOUT_MS: '5000' });
    await post([event('span-create', 0, { id: 'open-span', traceId: 't-open', startTime: at(0) }), event('span-update', 30, { id: 'open-span', input: 'x' })]);
    await service.flush(1_000);
    expect(service.sink.drafts).toHaveLength(0);
    await service.flush(5_000);

    const span = service.sink.drafts.find((d) => d.span.type === 'observation')!;
    expect(span.attributes['langfuse.observation.incomplete']).toBe(true);
    expect(span.endTimeUnixNano).toBe(ns(at(30)));
    expect(service.sink.drafts.filter((d) => d.span.type === 'root')).toHaveLength(1);
  });

  it.skipIf(!hasSharedFixtures)('assembles the recorded JS SDK v3 session (two flushes) into one tree', async () => {
    service = await createTestService({ BRIDGE_TRACE_IDLE_MS: '1000' });
    const recording = readFixture<{ requests: Array<{ headers: Record<string, string>; body: unknown }> }>(
      'langfuse-js-v3/trace-span-generation-event-score.json',
    );
    for (const r of recording.requests) {
      const res = await request(service.app).post('/api/public/ingestion').set(r.headers).send(r.body as object);
      expect(res.status).toBe(207);
      expect(res.body.errors).toEqual([]);
    }
    await service.flush(1_500);

    const names = service.sink.drafts.map((d) => d.name).sort();
    expect(names).toEqual(['cache-hit', 'chat gpt-4o', 'evaluation correctness', 'rag-pipeline', 'retrieval']);
    const gen = service.sink.drafts.find((d) => d.name === 'chat gpt-4o')!;
    expect(gen.parent).toEqual({ type: 'observation', id: 'e3ebff34-bfcd-4dd1-b555-05dfe97d35a5' });
    expect(gen.attributes['gen_ai.request.temperature']).toBe(0.3);
    expect(gen.attributes['gen_ai.request.max_tokens']).toBe(200);
    expect(gen.attributes['gen_ai.usage.input_tokens']).toBe(34);
    expect(gen.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(4);
    expect(gen.attributes['gen_ai.usage.cost']).toBe(0.0004);
    expect(JSON.parse(String(gen.attributes['gen_ai.input.messages']))[0]).toEqual({ role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] });
    const root = service.sink.drafts.find((d) => d.name === 'rag-pipeline')!;
    expect(root.resource['service.name']).toBe('langfuse');
    expect(root.attributes['langfuse.trace.output']).toBe('{"answer":"An observability framework."}');
    expect(root.attributes['langfuse.trace.tags']).toEqual(['prod']);
    const score = service.sink.drafts.find((d) => d.name === 'evaluation correctness')!;
    expect(score.parent).toEqual({ type: 'root', traceId: '32af9174-2123-46fb-b5b3-7c20b66396f6' });
  });
});
