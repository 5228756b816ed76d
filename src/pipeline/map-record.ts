// The mapping stage, as the pipeline runs it: one completed record, for one destination, becomes
// the payload of that destination's queue. A span is mapped with the destination's compiled
// mapping and encoded with its encoder; a score goes to the scores queue of a destination that
// has a scores API (Langfuse), encoded for it. Destinations are plain data built once at start.
// Owns no mapping rule (mapping/) and no wire format (export/).
import type { CompletedRecord } from '../assembly/completed-record.js';
import type { MergedScore } from '../assembly/merge.js';
import { mapRecord } from '../mapping/apply-mapping.js';
import type { CompiledMapping } from '../mapping/compile-mapping.js';
import type { SpanDraft } from '../mapping/span-draft.js';

/** One place records go, as the pipeline needs it. */
export interface PipelineDestination {
  name: string;
  mapping: CompiledMapping;
  /** This destination's span encoder (export/). Throws when the draft cannot be encoded. */
  encodeSpan: (draft: SpanDraft) => Uint8Array;
  /** Present when scores go to a scores API instead of becoming spans (Langfuse). */
  encodeScore?: (score: MergedScore) => Uint8Array;
}

/** What one completed record is for one destination: a span draft, or a score for its scores API. */
export type DestinationItem = { kind: 'span'; draft: SpanDraft } | { kind: 'score'; score: MergedScore };

/** A payload for one queue, and the draft it encodes (spans only). */
export interface QueuedPayload {
  queue: string;
  payload: Uint8Array;
  draft?: SpanDraft;
}

/** The queue of a destination's scores (sent to its scores API, not as spans). */
export function scoresQueueOf(destination: string): string {
  return `${destination}#scores`;
}

/** The record as this destination takes it. Pure; throws when it cannot be mapped. */
export function toDestinationItem(destination: Pick<PipelineDestination, 'mapping' | 'encodeScore'>, record: CompletedRecord): DestinationItem {
  if (record.kind === 'score' && destination.encodeScore) return { kind: 'score', score: record.score };
  return { kind: 'span', draft: mapRecord(destination.mapping, record) };
}

/** Maps and encodes one record for one destination. Throws when it cannot (the same record would fail again). */
export function mapAndEncode(destination: PipelineDestination, record: CompletedRecord): QueuedPayload {
  const item = toDestinationItem(destination, record);
  if (item.kind === 'score') return { queue: scoresQueueOf(destination.name), payload: destination.encodeScore!(item.score) };
  return { queue: destination.name, payload: destination.encodeSpan(item.draft), draft: item.draft };
}
