// The mapping stage, as the pipeline runs it: one completed record, for one destination, becomes
// the payload of that destination's queue. A span is mapped with the destination's compiled
// mapping and encoded with its encoder; a score goes to the scores queue of a destination that
// has a scores API (Langfuse), encoded for it. With a tenants list each destination is one lane per
// tenant, and a lane takes only its tenant's records. Destinations are plain data built once at start.
// Owns no mapping rule (mapping/) and no wire format (export/).
import type { CompletedRecord } from '../assembly/completed-record.js';
import type { MergedScore } from '../assembly/merge.js';
import { mapRecord } from '../mapping/apply-mapping.js';
import type { CompiledMapping } from '../mapping/compile-mapping.js';
import type { SpanDraft } from '../mapping/span-draft.js';

/** One place records go, as the pipeline needs it: a destination, or one tenant's lane of it. */
export interface PipelineDestination {
  /** Its queue: the destination's name, or `<name>@<tenant>` for a tenant's lane. */
  name: string;
  /** A tenant's lane: it takes only that tenant's records. */
  scopedTo?: string;
  /** Its drafts feed the GenAI metrics. @defaultValue only the first destination's */
  feedsMetrics?: boolean;
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

/** The tenant of a completed record, if it has one. */
export function tenantOfRecord(record: CompletedRecord): string | undefined {
  return record.kind === 'passthrough' ? record.span.tenant : record.source.tenant;
}

/** Whether a destination takes a record: a tenant's lane takes only that tenant's (and, to refuse it, one without a tenant). */
export function takesRecord(destination: Pick<PipelineDestination, 'scopedTo'>, record: CompletedRecord): boolean {
  if (destination.scopedTo === undefined) return true;
  const tenant = tenantOfRecord(record);
  return tenant === undefined || tenant === destination.scopedTo;
}

/**
 * Maps and encodes one record for one destination. Throws when it cannot (the same record would
 * fail again), and for a tenant's lane when the record has no tenant (stored before the tenants
 * list existed): it is never given to some tenant's backend.
 */
export function mapAndEncode(destination: PipelineDestination, record: CompletedRecord): QueuedPayload {
  if (destination.scopedTo !== undefined && tenantOfRecord(record) === undefined) {
    throw new Error('the record has no tenant, and tenants are configured (it was stored before the tenants list existed)');
  }
  const item = toDestinationItem(destination, record);
  if (item.kind === 'score') return { queue: scoresQueueOf(destination.name), payload: destination.encodeScore!(item.score) };
  return { queue: destination.name, payload: destination.encodeSpan(item.draft), draft: item.draft };
}
