// The Langfuse wire format after validation: plain data, what every later stage consumes.
// Knows nothing of HTTP, storage or OpenTelemetry.

/** JSON value as it came off the wire (after `JSON.parse`). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const OBSERVATION_CREATE_TYPES = [
  'span-create',
  'generation-create',
  'event-create',
  'agent-create',
  'tool-create',
  'chain-create',
  'retriever-create',
  'evaluator-create',
  'embedding-create',
  'guardrail-create',
  'observation-create',
] as const;

export const OBSERVATION_UPDATE_TYPES = ['span-update', 'generation-update', 'observation-update'] as const;

export const EVENT_TYPES = [
  'trace-create',
  'score-create',
  ...OBSERVATION_CREATE_TYPES,
  ...OBSERVATION_UPDATE_TYPES,
  'sdk-log',
  'dataset-run-item-create',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type ObservationEventType =
  | (typeof OBSERVATION_CREATE_TYPES)[number]
  | (typeof OBSERVATION_UPDATE_TYPES)[number];

/** Langfuse observation types (upper case, as Langfuse stores them). */
export type ObservationKind =
  | 'SPAN'
  | 'GENERATION'
  | 'EVENT'
  | 'AGENT'
  | 'TOOL'
  | 'CHAIN'
  | 'RETRIEVER'
  | 'EVALUATOR'
  | 'EMBEDDING'
  | 'GUARDRAIL';

export type ObservationLevel = 'DEBUG' | 'DEFAULT' | 'WARNING' | 'ERROR';

/**
 * Usage after Langfuse's `usage` transform: integers; costs as floats.
 * `promptTokens`-style input is already rewritten to `{input, output, total, unit}` (costs dropped).
 */
export interface UsageBody {
  input?: number | null;
  output?: number | null;
  total?: number | null;
  unit?: string | null;
  inputCost?: number | null;
  outputCost?: number | null;
  totalCost?: number | null;
}

/** `trace-create` body, unknown keys stripped, `environment` normalized. */
export interface TraceBody {
  id?: string | null;
  timestamp?: string | null;
  name?: string | null;
  externalId?: string | null;
  input?: unknown;
  output?: unknown;
  sessionId?: string | null;
  userId?: string | null;
  environment: string;
  metadata?: JsonValue | null;
  release?: string | null;
  version?: string | null;
  public?: boolean | null;
  tags?: string[] | null;
}

/** Union of every observation body field; which are present depends on the event type. */
export interface ObservationBody {
  id?: string | null;
  /** Only on legacy `observation-*` events. */
  type?: 'GENERATION' | 'SPAN' | 'EVENT';
  traceId?: string | null;
  environment: string;
  name?: string | null;
  startTime?: string | null;
  endTime?: string | null;
  completionStartTime?: string | null;
  metadata?: JsonValue | null;
  input?: unknown;
  output?: unknown;
  level?: ObservationLevel | null;
  statusMessage?: string | null;
  parentObservationId?: string | null;
  version?: string | null;
  model?: string | null;
  modelParameters?: Record<string, JsonValue> | null;
  usage?: UsageBody | null;
  /** Already normalized by Langfuse's `UsageDetails` union: flat map of non-negative integers. */
  usageDetails?: Record<string, number> | null;
  /** Flat map of non-negative numbers. */
  costDetails?: Record<string, number> | null;
  promptName?: string | null;
  promptVersion?: number | null;
}

export interface ScoreBody {
  id?: string | null;
  name: string;
  value: number | string;
  dataType?: 'NUMERIC' | 'CATEGORICAL' | 'BOOLEAN' | 'CORRECTION' | 'TEXT';
  traceId?: string | null;
  sessionId?: string | null;
  datasetRunId?: string | null;
  observationId?: string | null;
  comment?: string | null;
  environment: string;
  metadata?: JsonValue | null;
  source: 'API' | 'EVAL' | 'ANNOTATION';
  configId?: string | null;
  /** Validated like Langfuse (string, nullish); not used by the bridge. */
  executionTraceId?: string | null;
  /** Validated like Langfuse (string, nullish); not used by the bridge. */
  queueId?: string | null;
}

interface Envelope<T extends string, B> {
  /** Envelope id: unique per event; the dedupe key. */
  id: string;
  type: T;
  /** Envelope timestamp, ISO 8601 as received (validated). Orders merges. */
  timestamp: string;
  body: B;
}

export type TraceEvent = Envelope<'trace-create', TraceBody>;
export type ObservationEvent = Envelope<ObservationEventType, ObservationBody> & {
  /**
   * Set by the OTLP receiver after validation, never by a schema: the client sent this
   * observation as its trace's root (a span without parent, or `langfuse.internal.as_root`).
   * The /ingestion route builds its events field by field, so it can never carry this.
   */
  clientRoot?: true;
};
export type ScoreEvent = Envelope<'score-create', ScoreBody>;
export type SdkLogEvent = Envelope<'sdk-log', { log: JsonValue; id?: string | null }>;

/**
 * An OTLP span without `langfuse.*` attributes (already `gen_ai.*` or OpenInference), kept as sent
 * apart from legacy GenAI names. Built only by the OTLP receiver, never validated by a Langfuse
 * schema; exported unchanged.
 */
export interface PassthroughSpanBody {
  /** The span id (16 hex). */
  id: string;
  /** The trace id (32 hex). */
  traceId: string;
  parentSpanId?: string;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  /** Nanoseconds since the epoch, decimal (the spool stores JSON). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean | string[] | number[] | boolean[]>;
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message?: string };
  resource: Record<string, string | number | boolean | string[] | number[] | boolean[]>;
  scope: { name: string; version?: string };
}

export type PassthroughSpanEvent = Envelope<'otel-span', PassthroughSpanBody>;

/** A validated event. `sdk-log` is validated but never forwarded (Langfuse drops it too). */
export type IngestionEvent = TraceEvent | ObservationEvent | ScoreEvent | PassthroughSpanEvent;

/** One rejected event, in the shape of Langfuse's 207 `errors[]` entry. */
export interface EventRejection {
  /** Envelope id when it was a string, else `"unknown"`. */
  id: string;
  status: 400;
  message: 'Invalid request data';
  /** zod v4 `ZodError.message`: the issues pretty-printed as JSON (input values not included). */
  error: string;
  /** The envelope `type` when it was a string (for metrics), else `"unknown"`. */
  type: string;
}

export interface BatchValidation {
  /** Valid events in input order, `sdk-log` excluded. */
  accepted: IngestionEvent[];
  /** Valid `sdk-log` events: counted, answered with neither success nor error. */
  sdkLogs: number;
  rejected: EventRejection[];
}
