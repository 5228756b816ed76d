// Issue 10 (3, 5): a `langfuse` destination from a BRIDGE_CONFIG file, through the real process,
// into a fake Langfuse that answers 503 to both its OTLP endpoint and its scores API for a while.
// Spans go to /api/public/otel/v1/traces (protobuf, the destination's Basic auth, ingestion
// version 4, scope langfuse-sdk), scores to /api/public/scores with the exported OTel ids; both
// are retried by their own worker until accepted, each exactly once (no crash here).
// Every attribute point of (3) is asserted in test/integration/langfuse-destination.test.ts.
import { expect, it } from 'vitest';
import { startBridge, stopBridge } from '../../helpers/bridge-process.js';
import { startFakeLangfuse } from '../../helpers/fake-langfuse.js';
import { postIngestion, scenarioResources, summarise, waitUntil } from '../../helpers/litellm-traffic.js';
import { litellmCall, type Envelope } from '../../helpers/ingestion-events.js';
import { toSpanId, toTraceId } from '../../../src/export/ids.js';

const scenario = scenarioResources('bridge-langfuse-');
const CALLS = 20;

it('langfuse destination: spans and scores retried through 503s until Langfuse accepts them, each once', async () => {
  const started = Date.now();
  const langfuse = scenario.track(await startFakeLangfuse({ publicKey: 'pk-lf-process', secretKey: 'sk-lf-process' }));
  langfuse.answerTracesWith(503);
  langfuse.answerScoresWith(503);
  const config = scenario.writeBridgeConfig(
    [
      'destinations:',
      '  - name: lf',
      '    type: langfuse',
      '    endpoint: ${env:LF_HOST}',
      '    public_key: ${env:LF_PUBLIC_KEY}',
      '    secret_key: ${env:LF_SECRET_KEY}',
      '    timeout: 2s',
    ].join('\n'),
  );
  const bridge = await startBridge({
    dataDir: scenario.makeDataDir(),
    collectorUrl: 'http://127.0.0.1:9/v1/traces',
    env: { BRIDGE_CONFIG: config, LF_HOST: langfuse.baseUrl, LF_PUBLIC_KEY: langfuse.publicKey, LF_SECRET_KEY: langfuse.secretKey },
  });

  // LiteLLM-shaped calls (trace + generation), each with a score on its generation.
  const runId = `langfuse-${started}`;
  const batch: Envelope[] = [];
  const expectedSpans = new Map<string, string>();
  const expectedScores = new Map<string, { traceId: string; observationId: string; value: number }>();
  for (let i = 0; i < CALLS; i++) {
    const [trace, generation] = litellmCall(runId, i);
    const traceId = String(trace!.body['id']);
    const generationId = String(generation!.body['id']);
    const scoreId = `score-${runId}-${i}`;
    batch.push(trace!, generation!, {
      id: `${runId}-ev-${i}-s`,
      type: 'score-create',
      timestamp: trace!.timestamp,
      body: { id: scoreId, traceId, observationId: generationId, name: 'helpfulness', value: i / CALLS, dataType: 'NUMERIC' },
    });
    expectedSpans.set(toSpanId({ type: 'root', traceId }), toTraceId(traceId));
    expectedSpans.set(toSpanId({ type: 'observation', id: generationId }), toTraceId(traceId));
    expectedScores.set(scoreId, { traceId: toTraceId(traceId), observationId: toSpanId({ type: 'observation', id: generationId }), value: i / CALLS });
  }
  const attempt = await postIngestion(bridge.url, batch);
  expect(attempt.kind === 'answer' && attempt.status).toBe(207);
  const answer = attempt.kind === 'answer' ? (attempt.body as { successes: unknown[]; errors: unknown[] }) : undefined;
  expect(answer?.errors).toEqual([]);
  expect(answer?.successes).toHaveLength(batch.length);

  // "A while": both workers met the outage and retried at least once.
  const refused = (requests: ReadonlyArray<{ status: number }>) => requests.filter((r) => r.status === 503).length;
  const retried = await waitUntil(() => refused(langfuse.traceRequests) >= 2 && refused(langfuse.scoreRequests) >= 2, 20_000, 50);
  langfuse.answerTracesWith(200);
  langfuse.answerScoresWith(200);
  const accepted = <R extends { status: number }>(requests: readonly R[]): R[] => requests.filter((r) => r.status === 200);
  const delivered = await waitUntil(
    () => new Set(langfuse.spans().map((s) => s.spanId)).size === expectedSpans.size && new Set(accepted(langfuse.scoreRequests).map((r) => r.body['id'])).size === CALLS,
    30_000,
    100,
  );
  const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
  const exit = await stopBridge(bridge);

  const spans = langfuse.spans();
  const acceptedScores = accepted(langfuse.scoreRequests);
  summarise('langfuse destination through 503s', {
    traceRequests: langfuse.traceRequests.length,
    traceRequestsRefused: refused(langfuse.traceRequests),
    scoreRequests: langfuse.scoreRequests.length,
    scoreRequestsRefused: refused(langfuse.scoreRequests),
    spansAccepted: spans.length,
    scoresAccepted: acceptedScores.length,
    durationMs: Date.now() - started,
  });
  expect(retried).toBe(true);
  expect(delivered).toBe(true);

  // Every OTLP request, refused or not, is the one Langfuse v4 reads.
  for (const request of langfuse.traceRequests) {
    expect(request.path).toBe('/api/public/otel/v1/traces');
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('pk-lf-process:sk-lf-process').toString('base64')}`);
    expect(request.headers['x-langfuse-ingestion-version']).toBe('4');
  }
  // Each span once, in the trace Langfuse will store, from the langfuse-sdk scope.
  expect(spans.map((s) => s.spanId).sort()).toEqual([...expectedSpans.keys()].sort());
  for (const span of spans) {
    expect(span.traceId).toBe(expectedSpans.get(span.spanId));
    expect(span.scope.name).toBe('langfuse-sdk');
    expect(span.attributes['langfuse.trace.name']).toBe('litellm-acompletion');
    expect(span.attributes['langfuse.observation.type']).toBe(span.parentSpanId === undefined ? 'span' : 'generation');
  }
  // Scores never travel as spans to a langfuse destination.
  expect(spans.filter((s) => s.name.startsWith('score'))).toEqual([]);

  // Each score once, to the scores API, pointing at the exported ids.
  for (const request of langfuse.scoreRequests) {
    expect(request.path).toBe('/api/public/scores');
    expect(request.headers.authorization).toBe(langfuse.traceRequests[0]!.headers.authorization);
    expect(request.headers['content-type']).toBe('application/json');
  }
  expect(acceptedScores.map((r) => String(r.body['id'])).sort()).toEqual([...expectedScores.keys()].sort());
  for (const { body } of acceptedScores) {
    const expected = expectedScores.get(String(body['id']))!;
    expect(body).toMatchObject({ name: 'helpfulness', dataType: 'NUMERIC', ...expected });
    expect(spans.some((s) => s.traceId === body['traceId'] && s.spanId === body['observationId'])).toBe(true);
  }

  // The metrics name the destination, not its internal queues.
  expect(metrics).toMatch(new RegExp(`^bridge_spans_exported_total\\{destination="lf"\\} ${expectedSpans.size}$`, 'm'));
  expect(metrics).toMatch(new RegExp(`^bridge_scores_exported_total\\{destination="lf"\\} ${CALLS}$`, 'm'));
  expect(metrics).toMatch(/^bridge_export_failures_total\{destination="lf",kind="retryable"\} [1-9]/m);
  expect(metrics).not.toMatch(/destination="lf#/);
  expect(metrics).toMatch(/^bridge_dead_letters 0$/m);
  expect(exit).toEqual({ code: 0, signal: null });
}, 60_000);
