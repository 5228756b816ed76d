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
import { validatedTimestampNanos } from '../ingestion/timestamp.js';
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

/** Where an event sorts in Langfuse's order: envelope timestamp, then creates before updates. */
export interface EventOrderKey {
  atNanos: bigint;
  update: 0 | 1;
}

export function orderKeyOf(event: { type: string; timestamp: string }): EventOrderKey {
  return { atNanos: validatedTimestampNanos(event.timestamp), update: isUpdateType(event.type) ? 1 : 0 };
}

/** Negative when `a` sorts before `b`; 0 on a tie (then arrival order decides). */
export function compareOrderKeys(a: EventOrderKey, b: EventOrderKey): number {
  if (a.atNanos !== b.atNanos) return a.atNanos < b.atNanos ? -1 : 1;
  return a.update - b.update;
}

/** Langfuse's order: envelope timestamp ascending, creates before updates on ties, then arrival order. */
export function sortEvents<E extends { type: string; timestamp: string }>(events: readonly E[]): E[] {
  // Most entities have one event: V8's sort allocates its working state (~1.7 KB) on every call,
  // however short the array (allocation sampling, 60k LiteLLM events through ingest, the SQLite log
  // and assembly: `sort` was 52 of 670 MB allocated, from here and finishTrace's tags).
  if (events.length < 2) return events.slice();
  return events
    .map((event, index) => ({ event, index, key: orderKeyOf(event) }))
    .sort((a, b) => compareOrderKeys(a.key, b.key) || a.index - b.index)
    .map((x) => x.event);
}

/**
 * Incremental merges: a fold holds one entity's record as merged so far and takes events one at a
 * time, in Langfuse's order. Assembly keeps one fold per open entity instead of its events (an
 * event that arrives out of order makes assembly refold from the stored events). `finish*` returns
 * the record as Langfuse would store it after the events folded so far; the fold stays usable.
 */
export interface TraceFold {
  trace: MergedTrace;
  tags: Set<string>;
}

export function foldTraceEvent(fold: TraceFold | undefined, id: string, event: TraceEvent): TraceFold {
  const { body } = event;
  const f: TraceFold = fold ?? {
    trace: {
      id,
      timestampNanos: validatedTimestampNanos(body.timestamp ?? event.timestamp),
      public: false,
      tags: [],
      environment: body.environment,
    },
    tags: new Set(),
  };
  const trace = f.trace;
  assignNullable(trace, 'name', body.name);
  assignNullable(trace, 'userId', body.userId);
  assignNullable(trace, 'sessionId', body.sessionId);
  assignNullable(trace, 'release', body.release);
  assignNullable(trace, 'version', body.version);
  // Langfuse writes `public ?? false` on every trace-create: the last event decides.
  trace.public = body.public ?? false;
  for (const tag of body.tags ?? []) f.tags.add(tag);
  trace.metadata = mergeMetadata(trace.metadata, body.metadata);
  if (isTruthy(body.input)) trace.input = body.input;
  if (isTruthy(body.output)) trace.output = body.output;
  return f;
}

export function finishTrace(fold: TraceFold): MergedTrace {
  return { ...fold.trace, tags: sortedTags(fold.tags) };
}

/**
 * `[...tags].sort()`: the same order (UTF-16 code units, which is what `<` compares on strings),
 * by insertion for the few tags a trace has. Why not sort(): V8's sort allocates its working
 * state (~1.7 KB) per call, and this runs for every trace finished (allocation sampling: see
 * sortEvents). A property test holds the two orders equal.
 */
function sortedTags(tags: ReadonlySet<string>): string[] {
  const out = [...tags];
  if (out.length > 16) return out.sort();
  for (let i = 1; i < out.length; i++) {
    const tag = out[i]!;
    let j = i - 1;
    for (; j >= 0 && out[j]! > tag; j--) out[j + 1] = out[j]!;
    out[j + 1] = tag;
  }
  return out;
}

export function mergeTraceEvents(id: string, events: readonly TraceEvent[]): MergedTrace {
  let fold: TraceFold | undefined;
  for (const event of sortEvents(events)) fold = foldTraceEvent(fold, id, event);
  if (!fold) throw new Error(`mergeTraceEvents: no events for trace ${id}`);
  return finishTrace(fold);
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

export interface ObservationFold {
  obs: MergedObservation;
  level: ObservationLevel | undefined;
  /** An event named the trace (else `orphan:<id>` stands in). */
  hasTraceId: boolean;
  /** An event stated `startTime` (else the first event's envelope time stands in). */
  hasStartTime: boolean;
}

/**
 * Folds one observation event. Two deliberate differences from Langfuse: the first event that
 * names a `traceId` sets it (Langfuse gives a create without one a random trace id for good),
 * with none at all the trace id is `orphan:<observation id>` so that ids stay deterministic; and
 * the first event that names a `startTime` sets the start (Langfuse would take the first event's
 * envelope time when an update sorts before its create: the JS SDK v3 queues them in either order).
 */
export function foldObservationEvent(fold: ObservationFold | undefined, id: string, event: ObservationEvent, atNanos?: bigint): ObservationFold {
  const body: ObservationBody = event.body;
  const f: ObservationFold = fold ?? {
    obs: {
      id,
      type: observationKindOf(event),
      // The body's trace id at once when it names one (the usual case): no `orphan:` string made.
      traceId: body.traceId || `orphan:${id}`,
      // `atNanos`: the envelope time when the caller has it already (its order key).
      startTimeNanos: atNanos ?? validatedTimestampNanos(event.timestamp),
      level: 'DEFAULT',
      environment: body.environment,
    },
    level: undefined,
    hasTraceId: !!body.traceId,
    hasStartTime: false,
  };
  const obs = f.obs;
  if (!f.hasTraceId && body.traceId) {
    obs.traceId = body.traceId;
    f.hasTraceId = true;
  }
  if (!f.hasStartTime && body.startTime) {
    obs.startTimeNanos = validatedTimestampNanos(body.startTime);
    f.hasStartTime = true;
  }
  obs.type = observationKindOf(event);
  if (body.endTime) obs.endTimeNanos = validatedTimestampNanos(body.endTime);
  if (body.completionStartTime) obs.completionStartTimeNanos = validatedTimestampNanos(body.completionStartTime);
  assignNullable(obs, 'name', body.name);
  assignNullable(obs, 'model', body.model);
  if (body.level === null) f.level = undefined;
  else if (body.level !== undefined) f.level = body.level;
  // Langfuse treats null as "keep" for these.
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
  return f;
}

export function finishObservation(fold: ObservationFold): MergedObservation {
  const obs: MergedObservation = { ...fold.obs, level: fold.level ?? 'DEFAULT' };
  if (obs.type === 'EVENT') obs.endTimeNanos = obs.startTimeNanos;
  // Langfuse clamps an end before the start to the start.
  if (obs.endTimeNanos !== undefined && obs.endTimeNanos < obs.startTimeNanos) obs.endTimeNanos = obs.startTimeNanos;
  return obs;
}

export function mergeObservationEvents(id: string, events: readonly ObservationEvent[]): MergedObservation {
  let fold: ObservationFold | undefined;
  for (const event of sortEvents(events)) fold = foldObservationEvent(fold, id, event);
  if (!fold) throw new Error(`mergeObservationEvents: no events for observation ${id}`);
  return finishObservation(fold);
}

export interface ScoreFold {
  first: ScoreBody;
  last: ScoreBody;
  metadata: JsonObject | undefined;
  timestampNanos: bigint;
}

export function foldScoreEvent(fold: ScoreFold | undefined, event: ScoreEvent): ScoreFold {
  const f: ScoreFold = fold ?? { first: event.body, last: event.body, metadata: undefined, timestampNanos: validatedTimestampNanos(event.timestamp) };
  f.last = event.body;
  f.metadata = mergeMetadata(f.metadata, event.body.metadata);
  return f;
}

export function finishScore(fold: ScoreFold, id: string): MergedScore {
  const { first, last, metadata } = fold;
  return {
    id,
    name: last.name,
    value: last.value,
    ...(last.dataType ? { dataType: last.dataType } : {}),
    ...optionalString('traceId', first.traceId ?? last.traceId),
    ...optionalString('sessionId', last.sessionId),
    ...optionalString('datasetRunId', last.datasetRunId),
    ...optionalString('observationId', last.observationId),
    ...optionalString('comment', last.comment),
    source: last.source,
    ...(metadata ? { metadata } : {}),
    environment: first.environment,
    timestampNanos: fold.timestampNanos,
  };
}

export function mergeScoreEvents(id: string, events: readonly ScoreEvent[]): MergedScore {
  let fold: ScoreFold | undefined;
  for (const event of sortEvents(events)) fold = foldScoreEvent(fold, event);
  if (!fold) throw new Error(`mergeScoreEvents: no events for score ${id}`);
  return finishScore(fold, id);
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

/** Has an own enumerable key (Object.keys(value).length > 0, without building the array). */
function isNonEmptyObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return true;
  return false;
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

/**
 * On a plain object, assignment makes the same own, enumerable, writable, configurable property as
 * `defineProperty` for every key but `__proto__` (Object.prototype's only accessor), and it is the
 * fast path: `defineProperty` per key was a measured share of ingest (profile of npm run bench).
 */
function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
