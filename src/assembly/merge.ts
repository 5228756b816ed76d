// Langfuse's merge rules: folds every event received for one entity into one record.
// Pure functions over validated events; knows nothing of spans, storage or HTTP.
import type {
  JsonObject,
  JsonValue,
  ObservationBody,
  ObservationEvent,
  ObservationKind,
  ObservationLevel,
  ScoreBody,
  ScoreEvent,
  TraceEvent,
  UsageBody,
} from '../ingestion/ingestion-event.js';
import { parseTimestampNanos } from '../ingestion/timestamp.js';
import { isUpdateType } from '../ingestion/validate-batch.js';

export interface MergedTrace {
  id: string;
  timestampNanos: bigint;
  name?: string;
  userId?: string;
  sessionId?: string;
  release?: string;
  version?: string;
  public: boolean;
  tags: string[];
  metadata?: JsonObject;
  input?: unknown;
  output?: unknown;
  environment: string;
}

export interface MergedObservation {
  id: string;
  type: ObservationKind;
  /** The Langfuse trace id, or `orphan:<id>` when no event named one. */
  traceId: string;
  parentObservationId?: string;
  name?: string;
  startTimeNanos: bigint;
  endTimeNanos?: bigint;
  completionStartTimeNanos?: bigint;
  model?: string;
  modelParameters?: Record<string, JsonValue>;
  usage?: UsageBody;
  usageDetails?: Record<string, number>;
  costDetails?: Record<string, number>;
  input?: unknown;
  output?: unknown;
  metadata?: JsonObject;
  level: ObservationLevel;
  statusMessage?: string;
  version?: string;
  promptName?: string;
  promptVersion?: number;
  environment: string;
}

export interface MergedScore {
  id: string;
  name: string;
  value: number | string;
  dataType?: ScoreBody['dataType'];
  traceId?: string;
  sessionId?: string;
  datasetRunId?: string;
  observationId?: string;
  comment?: string;
  source: ScoreBody['source'];
  metadata?: JsonObject;
  environment: string;
  timestampNanos: bigint;
}

/** Langfuse's order: envelope timestamp ascending, creates before updates on ties, then arrival order. */
function sortEvents<E extends { type: string; timestamp: string }>(events: readonly E[]): E[] {
  return events
    .map((event, index) => ({ event, index, at: parseTimestampNanos(event.timestamp) }))
    .sort((a, b) => {
      if (a.at !== b.at) return a.at < b.at ? -1 : 1;
      const au = isUpdateType(a.event.type) ? 1 : 0;
      const bu = isUpdateType(b.event.type) ? 1 : 0;
      return au - bu || a.index - b.index;
    })
    .map((x) => x.event);
}

export function mergeTraceEvents(id: string, events: readonly TraceEvent[]): MergedTrace {
  const sorted = sortEvents(events);
  const first = sorted[0];
  if (!first) throw new Error(`mergeTraceEvents: no events for trace ${id}`);
  const trace: MergedTrace = {
    id,
    timestampNanos: parseTimestampNanos(first.body.timestamp ?? first.timestamp),
    public: false,
    tags: [],
    environment: first.body.environment,
  };
  const tags = new Set<string>();
  for (const { body } of sorted) {
    assignNullable(trace, 'name', body.name);
    assignNullable(trace, 'userId', body.userId);
    assignNullable(trace, 'sessionId', body.sessionId);
    assignNullable(trace, 'release', body.release);
    assignNullable(trace, 'version', body.version);
    // Langfuse writes `public ?? false` on every trace-create: the last event decides.
    trace.public = body.public ?? false;
    for (const tag of body.tags ?? []) tags.add(tag);
    trace.metadata = mergeMetadata(trace.metadata, body.metadata);
    if (isTruthy(body.input)) trace.input = body.input;
    if (isTruthy(body.output)) trace.output = body.output;
  }
  trace.tags = [...tags].sort();
  return trace;
}

const TYPE_OF_EVENT: Record<string, ObservationKind | undefined> = {
  'span-create': 'SPAN',
  'span-update': 'SPAN',
  'generation-create': 'GENERATION',
  'generation-update': 'GENERATION',
  'event-create': 'EVENT',
  'agent-create': 'AGENT',
  'tool-create': 'TOOL',
  'chain-create': 'CHAIN',
  'retriever-create': 'RETRIEVER',
  'evaluator-create': 'EVALUATOR',
  'embedding-create': 'EMBEDDING',
  'guardrail-create': 'GUARDRAIL',
};

function observationKindOf(event: ObservationEvent): ObservationKind {
  return TYPE_OF_EVENT[event.type] ?? event.body.type ?? 'SPAN';
}

/**
 * Folds an observation's events. Two deliberate differences from Langfuse: the first event that
 * names a `traceId` sets it (Langfuse gives a create without one a random trace id for good),
 * with none at all the trace id is `orphan:<observation id>` so that ids stay deterministic; and
 * the first event that names a `startTime` sets the start.
 */
export function mergeObservationEvents(id: string, events: readonly ObservationEvent[]): MergedObservation {
  const sorted = sortEvents(events);
  const first = sorted[0];
  if (!first) throw new Error(`mergeObservationEvents: no events for observation ${id}`);
  const traceId = sorted.find((e) => e.body.traceId)?.body.traceId ?? `orphan:${id}`;
  const obs: MergedObservation = {
    id,
    type: observationKindOf(first),
    traceId,
    // The first event that states a start wins; Langfuse would take the first event's envelope
    // time when an update sorts before its create (the JS SDK v3 queues them in either order).
    startTimeNanos: parseTimestampNanos(sorted.find((e) => e.body.startTime)?.body.startTime ?? first.timestamp),
    level: 'DEFAULT',
    environment: first.body.environment,
  };
  let level: ObservationLevel | undefined;
  for (const event of sorted) {
    const body: ObservationBody = event.body;
    obs.type = observationKindOf(event);
    if (body.endTime) obs.endTimeNanos = parseTimestampNanos(body.endTime);
    if (body.completionStartTime) obs.completionStartTimeNanos = parseTimestampNanos(body.completionStartTime);
    assignNullable(obs, 'name', body.name);
    assignNullable(obs, 'model', body.model);
    if (body.level === null) level = undefined;
    else if (body.level !== undefined) level = body.level;
    // Langfuse treats null as "keep" for these three.
    if (body.statusMessage != null) obs.statusMessage = body.statusMessage;
    if (body.version != null) obs.version = body.version;
    if (body.parentObservationId != null) obs.parentObservationId = body.parentObservationId;
    if (body.promptName != null) obs.promptName = body.promptName;
    if (body.promptVersion != null) obs.promptVersion = body.promptVersion;
    // Maps are replaced whole by the last event that carries a non-empty one.
    if (isNonEmptyObject(body.modelParameters)) obs.modelParameters = body.modelParameters;
    if (isNonEmptyObject(body.usage)) obs.usage = body.usage;
    if (isNonEmptyObject(body.usageDetails)) obs.usageDetails = body.usageDetails;
    if (isNonEmptyObject(body.costDetails)) obs.costDetails = body.costDetails;
    obs.metadata = mergeMetadata(obs.metadata, body.metadata);
    if (isTruthy(body.input)) obs.input = body.input;
    if (isTruthy(body.output)) obs.output = body.output;
  }
  obs.level = level ?? 'DEFAULT';
  if (obs.type === 'EVENT') obs.endTimeNanos = obs.startTimeNanos;
  // Langfuse clamps an end before the start to the start.
  if (obs.endTimeNanos !== undefined && obs.endTimeNanos < obs.startTimeNanos) obs.endTimeNanos = obs.startTimeNanos;
  return obs;
}

export function mergeScoreEvents(id: string, events: readonly ScoreEvent[]): MergedScore {
  const sorted = sortEvents(events);
  const first = sorted[0];
  if (!first) throw new Error(`mergeScoreEvents: no events for score ${id}`);
  const last = sorted[sorted.length - 1]!.body;
  let metadata: JsonObject | undefined;
  for (const { body } of sorted) metadata = mergeMetadata(metadata, body.metadata);
  return {
    id,
    name: last.name,
    value: last.value,
    ...(last.dataType ? { dataType: last.dataType } : {}),
    ...optionalString('traceId', first.body.traceId ?? last.traceId),
    ...optionalString('sessionId', last.sessionId),
    ...optionalString('datasetRunId', last.datasetRunId),
    ...optionalString('observationId', last.observationId),
    ...optionalString('comment', last.comment),
    source: last.source,
    ...(metadata ? { metadata } : {}),
    environment: first.body.environment,
    timestampNanos: parseTimestampNanos(first.timestamp),
  };
}

function optionalString<K extends string>(key: K, value: string | null | undefined): { [P in K]?: string } {
  return (value != null ? { [key]: value } : {}) as { [P in K]?: string };
}

/** Absent keeps the value, `null` clears it, anything else replaces it. */
function assignNullable<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | null | undefined): void {
  if (value === undefined) return;
  if (value === null) delete target[key];
  else target[key] = value;
}

function isTruthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '' && value !== 0 && value !== false;
}

function isNonEmptyObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/**
 * Langfuse's metadata merge: a non-object root becomes `{metadata: <value>}` (arrays as JSON text),
 * objects deep-merge with lodash `merge` semantics (arrays merge by index). Keys are written as own
 * properties so that `__proto__` in the data can never reach a prototype.
 */
export function mergeMetadata(previous: JsonObject | undefined, next: JsonValue | null | undefined): JsonObject | undefined {
  if (next === undefined || next === null) return previous;
  const incoming: JsonObject = isPlainObject(next)
    ? next
    : { metadata: Array.isArray(next) ? JSON.stringify(next) : (next as JsonValue) };
  return deepMerge(previous ?? {}, incoming) as JsonObject;
}

function deepMerge(target: JsonValue, source: JsonValue): JsonValue {
  if (Array.isArray(source)) {
    const out: JsonValue[] = Array.isArray(target) ? [...target] : [];
    source.forEach((value, i) => {
      out[i] = i < out.length && isMergeable(out[i]) && isMergeable(value) ? deepMerge(out[i]!, value) : value;
    });
    return out;
  }
  if (isPlainObject(source)) {
    const out: JsonObject = {};
    if (isPlainObject(target)) for (const key of Object.keys(target)) setOwn(out, key, target[key]!);
    for (const key of Object.keys(source)) {
      const value = source[key]!;
      const existing = Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined;
      setOwn(out, key, existing !== undefined && isMergeable(existing) && isMergeable(value) ? deepMerge(existing, value) : value);
    }
    return out;
  }
  return source;
}

function isMergeable(value: JsonValue | undefined): value is JsonValue {
  return Array.isArray(value) || isPlainObject(value);
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
