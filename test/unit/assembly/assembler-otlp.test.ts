// Issue 9 in the assembler: a client-sent root replaces the synthetic root (and settles its trace
// with it), a passed-through span is exported at once and unchanged, a trace-level score goes
// under the client's root. Driven with an injected clock.
import { describe, expect, it } from 'vitest';

import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';
import type { OtlpSpan } from '../../../src/ingestion/otlp-span.js';
import { convertOtlpRequest } from '../../../src/ingestion/otlp-to-events.js';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import { loadMapping } from '../../../src/mapping/load-mapping.js';
import { mapRecord } from '../../../src/mapping/apply-mapping.js';
import { createAssemblyHarness } from '../../helpers/assembly.js';

const MAPPING = compileMapping(loadMapping('genai'), { captureContent: true });
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const ROOT = 'b7ad6b7169203331';
const CHILD = '00f067aa0ba902b7';
const IDLE = 1000;

function otlpEvents(spans: Array<Partial<OtlpSpan>>, scope = 'langfuse-sdk'): IngestionEvent[] {
  const full = spans.map(
    (s): OtlpSpan => ({
      traceId: TRACE,
      spanId: ROOT,
      name: 'span',
      kind: 1,
      startTimeUnixNano: '1764590400000000000',
      endTimeUnixNano: '1764590401000000000',
      attributes: {},
      status: { code: 0 },
      ...s,
    }),
  );
  const out = convertOtlpRequest({ resourceSpans: [{ resource: {}, scopeSpans: [{ scope: { name: scope }, spans: full }] }] }, { headers: {} });
  return out.groups.flatMap((g) => g.events);
}

function setup() {
  const h = createAssemblyHarness(IDLE);
  const feed = (events: IngestionEvent[], now: number) => h.feed(events, now).result;
  /** What the pipeline does: collect, map, queue (tombstones), confirm, release. */
  const exportReady = (now: number) => {
    const collected = h.settle(now);
    return {
      drafts: collected.records.map((record) => mapRecord(MAPPING, record)),
      settled: { releasableSeqs: collected.releaseSeqs, tombstones: collected.tombstones },
    };
  };
  return { assembler: h.assembler, feed, exportReady };
}

describe('assembler: roots the client sent', () => {
  it('the client root waits for its trace to be idle, is exported without parent, and no synthetic root is made', () => {
    const { assembler, feed, exportReady } = setup();
    feed(
      otlpEvents([
        { spanId: ROOT, name: 'agent', attributes: { 'langfuse.observation.type': 'agent', 'langfuse.trace.name': 'my-trace', 'user.id': 'u1' } },
        { spanId: CHILD, parentSpanId: ROOT, name: 'answer', attributes: { 'langfuse.observation.type': 'generation', 'langfuse.observation.model.name': 'gpt-4o' } },
      ]),
      0,
    );
    // The child is ready at once; the root waits like a synthetic root would.
    const first = exportReady(0);
    expect(first.drafts.map((d) => [d.span, d.parent])).toEqual([[{ type: 'observation', id: CHILD }, { type: 'observation', id: ROOT }]]);
    expect(first.settled.releasableSeqs).toEqual([]);

    const second = exportReady(IDLE);
    expect(second.drafts).toHaveLength(1);
    const root = second.drafts[0]!;
    expect(root).toMatchObject({ name: 'invoke_agent agent', span: { type: 'observation', id: ROOT }, traceId: TRACE });
    expect(root.parent).toBeUndefined();
    // What a synthetic root would carry, on the client's root.
    expect(root.attributes).toMatchObject({ 'langfuse.trace.name': 'my-trace', 'user.id': 'u1' });
    expect(root.attributes['langfuse.trace.synthetic']).toBeUndefined();
    // The trace-create was settled with it: the spool entry can go, nothing is left.
    expect(second.settled.releasableSeqs).toEqual([1]);
    expect(second.settled.tombstones.map((t) => t.key).sort()).toEqual([`obs:${ROOT}`, `trace:${TRACE}`]);
    expect(assembler.pendingEntities()).toBe(0);
    expect(exportReady(10 * IDLE).drafts).toEqual([]);
  });

  it('a trace input of its own stays on the client root; one copied from the observation is not repeated', () => {
    const { feed, exportReady } = setup();
    const input = JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] });
    feed(
      otlpEvents([
        { spanId: ROOT, attributes: { 'langfuse.observation.type': 'span', 'langfuse.observation.input': input, 'langfuse.trace.output': 'final' } },
      ]),
      0,
    );
    const [root] = exportReady(IDLE).drafts;
    expect(root!.attributes['langfuse.trace.input']).toBeUndefined();
    expect(root!.attributes['langfuse.observation.input']).toBe('{"messages":[{"role":"user","content":"Hi"}]}');
    expect(root!.attributes['langfuse.trace.output']).toBe('final');
  });

  it('without a client root the trace still gets its synthetic root', () => {
    const { feed, exportReady } = setup();
    feed(otlpEvents([{ spanId: CHILD, parentSpanId: ROOT, attributes: { 'langfuse.observation.type': 'span', 'langfuse.trace.name': 't' } }]), 0);
    const drafts = [...exportReady(0).drafts, ...exportReady(IDLE).drafts];
    expect(drafts.map((d) => d.span.type)).toEqual(['observation', 'root']);
  });

  it('a trace-level score goes under the client root while its trace is pending', () => {
    const { feed, exportReady } = setup();
    feed(otlpEvents([{ spanId: ROOT, attributes: { 'langfuse.observation.type': 'span' } }]), 0);
    const score = validateBatch([{ id: 'e-score', type: 'score-create', timestamp: '2025-12-01T12:00:02Z', body: { id: 's1', traceId: TRACE, name: 'accuracy', value: 1 } }]).accepted;
    feed(score, 10);
    const [draft] = exportReady(10).drafts;
    expect(draft).toMatchObject({ span: { type: 'score', id: 's1' }, parent: { type: 'observation', id: ROOT } });
  });
});

describe('assembler: passed-through spans', () => {
  it('are exported at once, unchanged, with their ids, resource and scope; a resend is a duplicate', () => {
    const { feed, exportReady } = setup();
    const events = otlpEvents([{ spanId: CHILD, parentSpanId: ROOT, name: 'chat gpt-4o', kind: 3, attributes: { 'gen_ai.system': 'openai' } }], 'openai-instrumentation');
    feed(events, 0);
    const { drafts, settled } = exportReady(0);
    expect(drafts).toEqual([
      {
        traceId: TRACE,
        span: { type: 'observation', id: CHILD },
        parent: { type: 'observation', id: ROOT },
        name: 'chat gpt-4o',
        kind: 'CLIENT',
        startTimeUnixNano: 1764590400000000000n,
        endTimeUnixNano: 1764590401000000000n,
        attributes: { 'gen_ai.provider.name': 'openai' },
        status: { code: 'UNSET' },
        resource: {},
        scope: { name: 'openai-instrumentation' },
      },
    ]);
    expect(settled.releasableSeqs).toEqual([1]);
    expect(feed(events, 5)).toMatchObject({ duplicates: 1, releasable: true });
  });
});

describe('assembler: a score that arrives before its OTLP spans', () => {
  it('waits for its trace, then goes under the client root', () => {
    const { feed, exportReady } = setup();
    const score = validateBatch([{ id: 'e-score', type: 'score-create', timestamp: '2025-12-01T12:00:02Z', body: { id: 's1', traceId: TRACE, name: 'accuracy', value: 1 } }]).accepted;
    feed(score, 0);
    expect(exportReady(10).drafts).toEqual([]);
    feed(otlpEvents([{ spanId: ROOT, attributes: { 'langfuse.observation.type': 'span' } }]), 500);
    const drafts = exportReady(500).drafts;
    expect(drafts).toHaveLength(1);
    expect(drafts[0]).toMatchObject({ span: { type: 'score', id: 's1' }, parent: { type: 'observation', id: ROOT } });
  });

  it('a trace known only through scores still gets its root, after the idle time', () => {
    const { feed, exportReady } = setup();
    const score = validateBatch([{ id: 'e-score', type: 'score-create', timestamp: '2025-12-01T12:00:02Z', body: { id: 's1', traceId: 'only-scores', name: 'accuracy', value: 1 } }]).accepted;
    feed(score, 0);
    expect(exportReady(10).drafts).toEqual([]);
    expect(exportReady(IDLE).drafts.map((d) => [d.span.type, d.parent?.type])).toEqual([
      ['score', 'root'],
      ['root', undefined],
    ]);
  });
});
