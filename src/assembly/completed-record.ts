// The contract between assembly and mapping: what assembly hands on once an entity is complete.
// Plain data only (no spans, no OTel types); mapping turns each record into one span draft per
// destination. Assembly never calls mapping: the pipeline carries these records across.
import type { PassthroughSpanBody } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import type { MergedObservation, MergedScore, MergedTrace } from './merge.js';

/** What a root needs of the earliest top-level observation (its name when no trace-create named the trace). */
export type TopLevelSummary = Pick<MergedObservation, 'id' | 'type' | 'name' | 'startTimeNanos' | 'environment'>;

export interface CompletedObservation {
  kind: 'observation';
  observation: MergedObservation;
  /** The trace as merged when the observation completed, when a trace-create arrived by then. */
  trace?: MergedTrace;
  source: RequestSource;
  /** Exported without an end: the last time seen, used as its end. */
  incompleteEndNanos?: bigint;
  /**
   * The client sent this observation as its trace's root (an OTLP span without parent, or
   * `langfuse.internal.as_root`): it becomes the root span, and no synthetic root is made.
   */
  isClientRoot?: boolean;
}

export interface CompletedRoot {
  kind: 'root';
  /** The Langfuse trace id. */
  traceId: string;
  trace?: MergedTrace;
  firstTopLevel?: TopLevelSummary;
  /** Earliest start and latest end among the trace's observations. */
  observationsStartNanos?: bigint;
  observationsEndNanos?: bigint;
  /** How many observations of this trace were completed (for root attributes). */
  observationCount: number;
  source: RequestSource;
}

export interface CompletedScore {
  kind: 'score';
  score: MergedScore;
  source: RequestSource;
  /** A trace-level score of a trace whose root the client sent goes under that observation. */
  clientRootId?: string;
}

/**
 * An OTLP span that passes through (no `langfuse.*` attributes): already in its final form, the
 * shape of the mapping stage's SpanDraft, which `mapRecord` returns unchanged. Spelled out here
 * because assembly must not import mapping; mapRecord's return type checks that the two agree.
 */
export type PassthroughDraft = Omit<PassthroughSpanBody, 'id' | 'parentSpanId' | 'startTimeUnixNano' | 'endTimeUnixNano'> & {
  tenant?: string;
  span: { type: 'observation'; id: string };
  parent?: { type: 'observation'; id: string };
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
};

export interface CompletedPassthrough {
  kind: 'passthrough';
  span: PassthroughDraft;
}

export type CompletedRecord = CompletedObservation | CompletedRoot | CompletedScore | CompletedPassthrough;
