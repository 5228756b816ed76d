// The durability contract: what the pipeline needs from a store. Implementations: memory-spool.ts
// (tests, ephemeral use) and sqlite-spool.ts (default). Must not know about assembly or OTel.
//
// Two durable parts, in pipeline order:
// - the log: one entry per accepted request, kept until every entity it touched is queued;
// - the export queue: encoded spans per destination, kept until that destination accepted them
//   (the Collector's persistent queue, placed after our assembly).
// Moving completed entities from the log to the queue is one transaction (`commit`), so a crash
// at any point loses nothing: before it the log replays, after it the queue exports.
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';

/** One accepted request, as written before the 207 goes out. */
export interface SpoolEntry {
  /** Increasing; replay order. */
  seq: number;
  receivedAtMillis: number;
  source: RequestSource;
  events: IngestionEvent[];
  /** Size of the stored entry, counted against BRIDGE_SPOOL_MAX_BYTES. */
  bytes: number;
}

/** A stored log row that could not be read back (set aside in quarantine, never replayed). */
export interface UnreadableEntry {
  seq: number;
  unreadable: string;
}

/** One span, encoded for one destination, waiting in the export queue. */
export interface QueuedSpan {
  /** Increasing per store; export order. */
  id: number;
  destination: string;
  /** A self-contained OTLP payload for this span (see export/span-encoder.ts). */
  payload: Uint8Array;
}

export interface DeadLetter {
  id: number;
  createdAtMillis: number;
  destination: string;
  /** Why the backend refused them (status and answer). */
  reason: string;
  /** The spans' queue payloads, as they would have been sent (see export/span-encoder.ts). */
  payloads: Uint8Array[];
  spanCount: number;
}

export interface Tombstone {
  /** `obs:<id>`, `trace:<id>`, `score:<id>`. */
  key: string;
  /** Envelope ids merged into the exported span: a resend of these is a duplicate, anything else a late update. */
  envelopeIds: string[];
}

/** What moves from the log to the queue in one transaction. */
export interface Commit {
  spans: ReadonlyArray<{ destination: string; payload: Uint8Array }>;
  tombstones: readonly Tombstone[];
  /** Log entries whose every entity is now queued. */
  releaseSeqs: readonly number[];
  deadLetters?: ReadonlyArray<{ destination: string; reason: string; payloads: Uint8Array[]; spanCount: number }>;
}

export interface Spool {
  /** Whether entries survive the process (and so may wait for a restart). */
  readonly durable: boolean;
  /**
   * What can wait until the process listens (a durable store sums its queue and loads its
   * tombstone filter); called once, before `replay`. Until then sizes of the queue read 0.
   */
  warmUp?(): Promise<void>;
  /** Appends a request; durable (committed) when it returns. The spool sizes and numbers it. */
  append(entry: Omit<SpoolEntry, 'seq' | 'bytes'>): SpoolEntry;
  /**
   * Every log entry not yet released, in seq order, one at a time (replay on start). A row that
   * cannot be read is moved to quarantine and yielded as `UnreadableEntry`; it never stops a start.
   */
  replay(): IterableIterator<SpoolEntry | UnreadableEntry>;
  /** The given log entries, for refolding an entity whose events arrived out of order. */
  readEntries(seqs: readonly number[]): SpoolEntry[];
  /** Moves completed work from the log to the queue, atomically. */
  commit(commit: Commit, atMillis: number): void;
  /** Drops log entries that hold nothing to export (all duplicates or late updates). */
  release(seqs: readonly number[]): void;

  /** The oldest queued spans of a destination with `id > afterId`, at most `limit`. */
  peekQueue(destination: string, afterId: number, limit: number): QueuedSpan[];
  /** Removes queued spans (exported, or dead-lettered with `deadLetter`), atomically. */
  dequeue(ids: readonly number[], deadLetter?: { destination: string; reason: string; atMillis: number }): void;
  /** Queued spans, of one destination or all. */
  queuedSpans(destination?: string): number;

  /** Bytes on the disk budget: log entries plus queued spans. */
  pendingBytes(): number;
  /** Log entries not yet released. */
  pendingEntries(): number;
  /** Log rows set aside because they could not be read. */
  quarantinedEntries(): number;

  getTombstone(key: string): ReadonlySet<string> | undefined;
  /** Forgets tombstones written before `beforeMillis`; returns how many. */
  pruneTombstones(beforeMillis: number): number;

  listDeadLetters(): DeadLetter[];
  deadLetterCount(): number;
  /** Removes the given dead letters, e.g. once resent. */
  deleteDeadLetters(ids: readonly number[]): void;

  close(): void;
}

export function isUnreadable(entry: SpoolEntry | UnreadableEntry): entry is UnreadableEntry {
  return 'unreadable' in entry;
}
