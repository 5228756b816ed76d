// Ingestion events for tests, the one place that builds them: the `{id, type, timestamp, body}`
// envelope as the SDKs send it, and LiteLLM-shaped traffic (one trace-create + one
// generation-create with endTime per call, unique ids, about 1 KB per event) cut into batches and
// request bodies. Builds plain data only; it validates nothing and imports nothing from src/.

export type Envelope = { id: string; type: string; timestamp: string; body: Record<string, unknown> };

/** A timestamp with microsecond digits, as the Python SDK writes them. */
export const TS = '2025-01-22T17:19:11.235169Z';

let counter = 0;

/** An envelope; a fresh id and `TS` unless `at` names them. */
export function envelope(type: string, body: Record<string, unknown>, at: { id?: string; timestamp?: string } = {}): Envelope {
  counter++;
  return { id: at.id ?? `ev-${counter}`, type, timestamp: at.timestamp ?? TS, body };
}

/** One call's events; `runId` keeps ids unique across tests and runs. */
export function litellmCall(runId: string, index: number, atMillis = Date.now()): Envelope[] {
  const traceId = `litellm-${runId}-trace-${index}`;
  const generationId = `time-${runId}-${index}_chatcmpl-${index.toString(16).padStart(8, '0')}`;
  const start = iso(atMillis - 900);
  const end = iso(atMillis - 100);
  const prompt = `Summarise ticket #${index}: ${'the customer reports that the export stopped working after the upgrade; '.repeat(3)}`;
  const answer = `Ticket #${index}: ${'export broke after the upgrade, a rollback fixed it; '.repeat(3)}`;
  return [
    envelope(
      'trace-create',
      {
        id: traceId,
        timestamp: iso(atMillis),
        name: 'litellm-acompletion',
        userId: `user-${index % 17}`,
        sessionId: `session-${index % 5}`,
        input: { messages: [{ role: 'user', content: prompt }] },
        output: { content: answer, role: 'assistant', tool_calls: null, function_call: null },
        metadata: { run: runId, call: index },
        tags: ['durability', `shard-${index % 3}`],
      },
      { id: `${runId}-ev-${index}-t`, timestamp: iso(atMillis) },
    ),
    envelope(
      'generation-create',
      {
        id: generationId,
        traceId,
        name: 'litellm-acompletion',
        startTime: start,
        endTime: end,
        completionStartTime: iso(atMillis - 400),
        model: 'gpt-4o-mini',
        modelParameters: { temperature: '0.2', max_tokens: 256, stream: false },
        input: { messages: [{ role: 'user', content: prompt }] },
        output: { content: answer, role: 'assistant', tool_calls: null, function_call: null },
        usage: { input: 120 + (index % 50), output: 40 + (index % 30), unit: 'TOKENS', totalCost: 0.000035 },
        usageDetails: { input: 120 + (index % 50), output: 40 + (index % 30) },
        metadata: {
          hidden_params: { api_base: 'https://api.openai.com', response_cost: 0.000035, litellm_model_name: 'gpt-4o-mini' },
          litellm_response_cost: 0.000035,
          cache_hit: false,
          requester_metadata: {},
        },
        level: 'DEFAULT',
      },
      { id: `${runId}-ev-${index}-g`, timestamp: iso(atMillis) },
    ),
  ];
}

/** `calls` calls cut into batches of `callsPerBatch` calls (a call's two events stay together). */
export function litellmBatches(runId: string, calls: number, callsPerBatch: number, firstIndex = 0): Envelope[][] {
  const batches: Envelope[][] = [];
  for (let start = 0; start < calls; start += callsPerBatch) {
    const batch: Envelope[] = [];
    for (let i = start; i < Math.min(calls, start + callsPerBatch); i++) batch.push(...litellmCall(runId, firstIndex + i));
    batches.push(batch);
  }
  return batches;
}

/** The request body a LiteLLM batch travels in. */
export function ingestionBody(batch: readonly Envelope[]): string {
  return JSON.stringify({ batch, metadata: { sdk_name: 'python', sdk_version: '2.44.1', sdk_integration: 'litellm', batch_size: batch.length } });
}

function iso(millis: number): string {
  // Microsecond digits, as the Python SDK writes them.
  return new Date(millis).toISOString().replace('Z', `${String(millis % 997).padStart(3, '0')}Z`);
}
