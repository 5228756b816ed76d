// Offline assembly for the CLI and tests: one Langfuse ingestion body (`{batch, metadata}`) to
// the CompletedRecords the live pipeline would hand to mapping, with nothing pending: every
// entity is complete (an observation without end is exported incomplete, as on timeout).
// Uses the ingestion stage's validation and assembly's merge rules; owns no rule of its own but
// how a whole batch settles at once. Must not touch the environment, files or the network.
import type { CompletedRecord, TopLevelSummary } from '../assembly/completed-record.js';
import { mergeObservationEvents, mergeScoreEvents, mergeTraceEvents, type MergedObservation, type MergedTrace } from '../assembly/merge.js';
import type { IngestionEvent, ObservationEvent, ScoreEvent, TraceEvent } from '../ingestion/ingestion-event.js';
import { toRequestSource } from '../ingestion/request-source.js';
import { validateBatch } from '../ingestion/validate-batch.js';

export interface OfflineRecords {
  records: CompletedRecord[];
  rejected: ReturnType<typeof validateBatch>['rejected'];
}

/** `body` is what a client POSTs to /api/public/ingestion. */
export function toOfflineRecords(body: unknown): OfflineRecords {
  const holder = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const batch = Array.isArray(holder.batch) ? holder.batch : Array.isArray(body) ? body : [];
  const source = toRequestSource(holder.metadata, {});
  const { accepted, rejected } = validateBatch(batch);

  const groups = new Map<string, IngestionEvent[]>();
  for (const event of accepted) {
    if (!event.body.id) continue;
    const kind = event.type === 'trace-create' ? 'trace' : event.type === 'score-create' ? 'score' : 'obs';
    const key = `${kind}:${event.body.id}`;
    const list = groups.get(key) ?? [];
    list.push(event);
    groups.set(key, list);
  }

  const traces = new Map<string, MergedTrace>();
  const observations: MergedObservation[] = [];
  const records: CompletedRecord[] = [];
  for (const [key, events] of groups) {
    const id = key.slice(key.indexOf(':') + 1);
    if (key.startsWith('trace:')) traces.set(id, mergeTraceEvents(id, events as TraceEvent[]));
    else if (key.startsWith('obs:')) observations.push(mergeObservationEvents(id, events as ObservationEvent[]));
    else records.push({ kind: 'score', score: mergeScoreEvents(id, events as ScoreEvent[]), source });
  }

  const byTrace = new Map<string, MergedObservation[]>();
  for (const obs of observations) {
    const list = byTrace.get(obs.traceId) ?? [];
    list.push(obs);
    byTrace.set(obs.traceId, list);
    const trace = traces.get(obs.traceId);
    records.push({
      kind: 'observation',
      observation: obs,
      ...(trace ? { trace } : {}),
      source,
      ...(obs.endTimeNanos === undefined ? { incompleteEndNanos: obs.startTimeNanos } : {}),
    });
  }
  for (const traceId of new Set([...traces.keys(), ...byTrace.keys()])) {
    const trace = traces.get(traceId);
    const list = byTrace.get(traceId) ?? [];
    const firstTopLevel = list
      .filter((o) => !o.parentObservationId)
      .reduce<MergedObservation | undefined>((a, b) => (a === undefined || b.startTimeNanos < a.startTimeNanos ? b : a), undefined);
    const starts = list.map((o) => o.startTimeNanos);
    const ends = list.map((o) => o.endTimeNanos ?? o.startTimeNanos);
    records.push({
      kind: 'root',
      traceId,
      ...(trace ? { trace } : {}),
      ...(firstTopLevel ? { firstTopLevel: toSummary(firstTopLevel) } : {}),
      ...(starts.length > 0 ? { observationsStartNanos: starts.reduce((a, b) => (b < a ? b : a)) } : {}),
      ...(ends.length > 0 ? { observationsEndNanos: ends.reduce((a, b) => (b > a ? b : a)) } : {}),
      observationCount: list.length,
      source,
    });
  }
  return { records, rejected };
}

function toSummary(obs: MergedObservation): TopLevelSummary {
  return {
    id: obs.id,
    type: obs.type,
    startTimeNanos: obs.startTimeNanos,
    environment: obs.environment,
    ...(obs.name !== undefined ? { name: obs.name } : {}),
  };
}
