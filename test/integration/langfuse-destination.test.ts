// The `langfuse` destination against a fake Langfuse on 127.0.0.1: a LiteLLM (≤ 1.103) batch,
// merged and completed as the assembler does, mapped with the destination's own mapping and
// exported through its own sink and score forwarder. Asserts each point Langfuse v4's OTel
// ingestion needs (README "Keep Langfuse for legacy clients"): path, protobuf, Basic auth with the
// destination's keys, x-langfuse-ingestion-version: 4, scope langfuse-sdk, one span per
// observation, trace context on every span, the trace's input/output on the root observation,
// usage/cost buckets on the generation only, completion_start_time, scores with the exported ids.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CompletedRecord, TopLevelSummary } from '../../src/assembly/completed-record.js';
import { mergeObservationEvents, mergeScoreEvents, mergeTraceEvents, type MergedObservation, type MergedTrace } from '../../src/assembly/merge.js';
import { loadServiceConfig, type Env } from '../../src/config/service-config.js';
import { createDestination, scorePayloadOf, type Destination } from '../../src/export/destination.js';
import { compileDestinationMapping } from '../../src/mapping/destination-mappings.js';
import { toDestinationItem, type PipelineDestination } from '../../src/pipeline/map-record.js';
import { toSpanId, toTraceId } from '../../src/export/ids.js';
import type { ObservationEvent, ScoreEvent, TraceEvent } from '../../src/ingestion/ingestion-event.js';
import { toRequestSource } from '../../src/ingestion/request-source.js';
import { validateBatch } from '../../src/ingestion/validate-batch.js';
import type { SpanDraft } from '../../src/mapping/span-draft.js';
import { startFakeLangfuse, type FakeLangfuse } from '../helpers/fake-langfuse.js';
import { hasSharedFixtures, readFixture } from '../helpers/shared-fixtures.js';
import { exportDrafts } from '../helpers/export-drafts.js';

type Body = { batch: Array<{ id: string; type: string; timestamp: string; body: Record<string, unknown> }>; metadata: unknown };

/** What the assembler hands on for a batch that completes every entity in it. */
function completedRecords(body: Body): CompletedRecord[] {
  const validation = validateBatch(body.batch);
  expect(validation.rejected).toEqual([]);
  const source = toRequestSource(body.metadata, {});
  const group = <E extends { body: { id?: string | null } }>(events: E[]) => {
    const byId = new Map<string, E[]>();
    for (const event of events) byId.set(event.body.id!, [...(byId.get(event.body.id!) ?? []), event]);
    return byId;
  };
  const traces = new Map<string, MergedTrace>();
  for (const [id, events] of group(validation.accepted.filter((e): e is TraceEvent => e.type === 'trace-create'))) traces.set(id, mergeTraceEvents(id, events));
  const observations: MergedObservation[] = [];
  const observationEvents = validation.accepted.filter((e): e is ObservationEvent => e.type !== 'trace-create' && e.type !== 'score-create');
  for (const [id, events] of group(observationEvents)) observations.push(mergeObservationEvents(id, events));
  const records: CompletedRecord[] = observations.map((observation) => ({
    kind: 'observation',
    observation,
    ...(traces.has(observation.traceId) ? { trace: traces.get(observation.traceId)! } : {}),
    source,
  }));
  for (const traceId of new Set([...traces.keys(), ...observations.map((o) => o.traceId)])) {
    const own = observations.filter((o) => o.traceId === traceId);
    const top = own.filter((o) => !o.parentObservationId).sort((a, b) => (a.startTimeNanos < b.startTimeNanos ? -1 : 1))[0];
    const firstTopLevel: TopLevelSummary | undefined = top && { id: top.id, type: top.type, name: top.name, startTimeNanos: top.startTimeNanos, environment: top.environment };
    records.push({
      kind: 'root',
      traceId,
      ...(traces.has(traceId) ? { trace: traces.get(traceId)! } : {}),
      ...(firstTopLevel ? { firstTopLevel } : {}),
      observationsStartNanos: own.reduce((m, o) => (o.startTimeNanos < m ? o.startTimeNanos : m), own[0]!.startTimeNanos),
      observationsEndNanos: own.reduce((m, o) => ((o.endTimeNanos ?? o.startTimeNanos) > m ? (o.endTimeNanos ?? o.startTimeNanos) : m), 0n),
      observationCount: own.length,
      source,
    });
  }
  for (const [id, events] of group(validation.accepted.filter((e): e is ScoreEvent => e.type === 'score-create'))) {
    records.push({ kind: 'score', score: mergeScoreEvents(id, events), source });
  }
  return records;
}

/**
 * LiteLLM's `completion_with_langfuse_metadata` batch (trace name, user, session, tags, metadata),
 * with what LiteLLM's own test normalised away put back (the trace's `release`), an environment
 * (the SDK's LANGFUSE_TRACING_ENVIRONMENT) and a score on the generation, as an SDK sends one.
 */
function litellmBatch(): Body {
  const body = structuredClone(readFixture<Body>('litellm/completion_with_langfuse_metadata.json'));
  const trace = body.batch.find((e) => e.type === 'trace-create')!;
  const generation = body.batch.find((e) => e.type === 'generation-create')!;
  trace.body['release'] = 'litellm-app-1.4.2';
  trace.body['environment'] = 'production';
  generation.body['environment'] = 'production';
  body.batch.push({
    id: 'score-event-1',
    type: 'score-create',
    timestamp: trace.timestamp,
    body: { id: 'score-1', traceId: trace.body['id'], observationId: generation.body['id'], name: 'helpfulness', value: 0.9, dataType: 'NUMERIC', comment: 'to the point' },
  });
  return body;
}

const parsedJson = (value: unknown) => JSON.parse(String(value)) as unknown;

describe.skipIf(!hasSharedFixtures)('langfuse destination', () => {
  let langfuse: FakeLangfuse;
  let destination: Destination | undefined;
  beforeEach(async () => {
    langfuse = await startFakeLangfuse({ publicKey: 'pk-lf-dest', secretKey: 'sk-lf-dest' });
  });
  afterEach(async () => {
    await destination?.shutdown();
    destination = undefined;
    await langfuse.close();
  });

  function langfuseDestination(env: Env = {}): Destination {
    const config = loadServiceConfig({
      BRIDGE_LANGFUSE_HOST: langfuse.baseUrl,
      BRIDGE_LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
      BRIDGE_LANGFUSE_SECRET_KEY: langfuse.secretKey,
      ...env,
    });
    expect(config.destinations.map((d) => d.type)).toEqual(['langfuse']);
    destination = createDestination(config.destinations[0]!, { resourceAttributes: {}, bridgeVersion: '0.0.0-test', writeConsole: () => {} });
    mappedAs = asMapped(config.destinations[0]!, destination);
    return destination;
  }

  /** The destination as the pipeline's mapping stage takes it. */
  let mappedAs: Pick<PipelineDestination, 'mapping' | 'encodeScore'>;
  function asMapped(config: { name: string; mapping: string; captureContent: boolean }, dest: Destination): Pick<PipelineDestination, 'mapping' | 'encodeScore'> {
    return { mapping: compileDestinationMapping(config), ...(dest.lanes[0]!.scores ? { encodeScore: dest.lanes[0]!.scores.encode } : {}) };
  }

  async function exportBatch(dest: Destination, body: Body) {
    const items = completedRecords(body).map((record) => toDestinationItem(mappedAs, record));
    const drafts = items.flatMap((i) => (i.kind === 'span' ? [i.draft] : []));
    const scores = items.flatMap((i) => (i.kind === 'score' ? [scorePayloadOf(dest, i.score)] : []));
    const spanOutcome = await exportDrafts(dest.lanes[0]!.sink, drafts);
    const scoreOutcomes = await Promise.all(scores.map((s) => dest.lanes[0]!.scores!.forwarder.send(s)));
    return { drafts, scores, spanOutcome, scoreOutcomes };
  }

  it('sends a LiteLLM batch the way Langfuse v4 reads OTLP', async () => {
    const dest = langfuseDestination();
    const body = litellmBatch();
    const { drafts, spanOutcome, scoreOutcomes } = await exportBatch(dest, body);
    // Langfuse answers protobuf with a JSON body (its queued job): read as JSON, a plain success.
    expect(spanOutcome).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(scoreOutcomes).toEqual([{ kind: 'success', rejectedSpans: 0 }]);

    // The request: path, protobuf, the destination's own Basic auth, ingestion version 4.
    expect(langfuse.traceRequests).toHaveLength(1);
    const request = langfuse.traceRequests[0]!;
    expect(request.path).toBe('/api/public/otel/v1/traces');
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('pk-lf-dest:sk-lf-dest').toString('base64')}`);
    expect(request.headers['x-langfuse-ingestion-version']).toBe('4');

    // One complete span per observation (plus the trace's root), each once, scope langfuse-sdk.
    const trace = body.batch.find((e) => e.type === 'trace-create')!.body;
    const generationBody = body.batch.find((e) => e.type === 'generation-create')!.body;
    const spans = langfuse.spans();
    expect(spans.map((s) => s.scope)).toEqual([
      { name: 'langfuse-sdk', version: '0.0.0-test' },
      { name: 'langfuse-sdk', version: '0.0.0-test' },
    ]);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(2);
    const root = spans.find((s) => s.parentSpanId === undefined)!;
    const generation = spans.find((s) => s.spanId === toSpanId({ type: 'observation', id: String(generationBody['id']) }))!;
    expect(root.spanId).toBe(toSpanId({ type: 'root', traceId: String(trace['id']) }));
    expect(generation.traceId).toBe(root.traceId);
    expect(generation.endTimeUnixNano).not.toBe(generation.startTimeUnixNano);

    // Trace context on every span.
    for (const span of [root, generation]) {
      expect(span.attributes).toMatchObject({
        'langfuse.trace.name': 'test_trace_name',
        'user.id': 'test_user_id',
        'session.id': 'test_session_id',
        'langfuse.trace.tags': ['test_tag', 'test_tag_2'],
        'langfuse.trace.metadata.test_key': 'test_value',
        'langfuse.environment': 'production',
        'langfuse.release': 'litellm-app-1.4.2',
      });
    }

    // The trace's input and output on its root observation (v4 reads the root observation's own).
    expect(parsedJson(root.attributes['langfuse.observation.input'])).toEqual(trace['input']);
    expect(parsedJson(root.attributes['langfuse.observation.output'])).toEqual(trace['output']);
    expect(root.attributes['langfuse.trace.input']).toBe(root.attributes['langfuse.observation.input']);

    // Usage and cost as Langfuse buckets on the generation only: the sum over spans is the batch's.
    expect(generation.attributes['langfuse.observation.type']).toBe('generation');
    expect(parsedJson(generation.attributes['langfuse.observation.usage_details'])).toEqual(generationBody['usageDetails']);
    expect(parsedJson(generation.attributes['langfuse.observation.cost_details'])).toEqual({ total: 3.5e-5 });
    expect(Object.keys(root.attributes).filter((k) => /usage|cost|model/.test(k))).toEqual([]);
    expect(Object.keys(generation.attributes).filter((k) => k.startsWith('gen_ai.usage'))).toEqual([]);

    // completion_start_time: the generation's, as ISO 8601 UTC.
    expect(new Date(String(generation.attributes['langfuse.observation.completion_start_time'])).toISOString()).toBe(
      new Date(String(generationBody['completionStartTime'])).toISOString(),
    );

    // The score, with the ids Langfuse v4 stores: the exported OTel trace id and span id.
    expect(langfuse.scoreRequests).toHaveLength(1);
    const score = langfuse.scoreRequests[0]!;
    expect(score.path).toBe('/api/public/scores');
    expect(score.headers.authorization).toBe(request.headers.authorization);
    expect(score.headers['content-type']).toBe('application/json');
    expect(score.body).toEqual({
      id: 'score-1',
      name: 'helpfulness',
      value: 0.9,
      dataType: 'NUMERIC',
      traceId: generation.traceId,
      observationId: generation.spanId,
      comment: 'to the point',
      environment: 'default',
      source: 'API',
    });
    expect(score.body['traceId']).toBe(toTraceId(String(trace['id'])));
    // Scores are not spans here: Langfuse would make an observation of each.
    expect(drafts.some((d) => d.span.type === 'score')).toBe(false);

    console.log(
      `[langfuse-destination] headers=${JSON.stringify({ 'content-type': request.headers['content-type'], authorization: 'Basic <pk:sk>', 'x-langfuse-ingestion-version': request.headers['x-langfuse-ingestion-version'] })}`,
    );
    for (const span of [root, generation]) {
      console.log(`[langfuse-destination] span ${span.name} scope=${span.scope.name} parent=${span.parentSpanId ?? '-'} resource=${JSON.stringify(span.resource)}`);
      for (const [key, value] of Object.entries(span.attributes).sort()) console.log(`[langfuse-destination]   ${key} = ${JSON.stringify(value).slice(0, 140)}`);
    }
    console.log(`[langfuse-destination] score ${JSON.stringify(score.body)}`);
  });

  it('keeps content out when capture_content is false (score comments too)', async () => {
    const dest = langfuseDestination({ BRIDGE_CAPTURE_CONTENT: 'false' });
    await exportBatch(dest, litellmBatch());
    for (const span of langfuse.spans()) {
      expect(Object.keys(span.attributes).filter((k) => /input|output/.test(k))).toEqual([]);
    }
    expect(langfuse.scoreRequests[0]!.body).not.toHaveProperty('comment');
  });

  it('reports each score attempt as an outcome the worker retries like spans', async () => {
    const dest = langfuseDestination();
    const [record] = completedRecords(litellmBatch()).filter((r) => r.kind === 'score');
    const item = toDestinationItem(mappedAs, record!);
    if (item.kind !== 'score') throw new Error('expected a score item');
    const payload = scorePayloadOf(dest, item.score);
    langfuse.answerScoresWith(503);
    expect(await dest.lanes[0]!.scores!.forwarder.send(payload)).toEqual({ kind: 'retryable', reason: 'HTTP 503' });
    langfuse.answerScoresWith(400);
    expect(await dest.lanes[0]!.scores!.forwarder.send(payload)).toMatchObject({ kind: 'permanent', httpStatus: 400 });
    langfuse.answerScoresWith(200);
    expect(await dest.lanes[0]!.scores!.forwarder.send(payload)).toEqual({ kind: 'success', rejectedSpans: 0 });
    await langfuse.close();
    expect((await dest.lanes[0]!.scores!.forwarder.send(payload)).kind).toBe('retryable');
    langfuse = await startFakeLangfuse();
  });

  it('is refused with the wrong key pair, as a permanent outcome', async () => {
    const config = loadServiceConfig({ BRIDGE_LANGFUSE_HOST: langfuse.baseUrl, BRIDGE_LANGFUSE_PUBLIC_KEY: 'pk-other', BRIDGE_LANGFUSE_SECRET_KEY: 'sk-other' });
    destination = createDestination(config.destinations[0]!, { resourceAttributes: {}, bridgeVersion: '0.0.0-test', writeConsole: () => {} });
    const mapped = asMapped(config.destinations[0]!, destination);
    const drafts: SpanDraft[] = completedRecords(litellmBatch()).flatMap((r) => {
      const item = toDestinationItem(mapped, r);
      return item.kind === 'span' ? [item.draft] : [];
    });
    expect(await exportDrafts(destination.lanes[0]!.sink, drafts)).toMatchObject({ kind: 'permanent', httpStatus: 401 });
  });
});
