// The durability contract: what the pipeline needs from a store. Implementations: memory-spool.ts
// (tests, ephemeral use) and sqlite-spool.ts (default). Must not know about assembly or OTel.
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

export interface DeadLetter {
  id: number;
  createdAtMillis: number;
  /** Why the backend refused them (status and answer). */
  reason: string;
  /** The span drafts, JSON-encoded with bigint times as strings (see draft-codec.ts). */
  payload: string;
  spanCount: number;
}

export interface Tombstone {
  /** `obs:<id>`, `trace:<id>`, `score:<id>`. */
  key: string;
  /** Envelope ids merged into the exported span: a resend of these is a duplicate, anything else a late update. */
  envelopeIds: string[];
}

export interface Spool {
  /** Whether entries survive the process (and so may wait for a restart). */
  readonly durable: boolean;
  /** Appends a request; durable (committed) when it returns. The spool sizes and numbers it. */
  append(entry: Omit<SpoolEntry, 'seq' | 'bytes'>): SpoolEntry;
  /** Every entry not yet released, in seq order (replay on start). */
  replay(): SpoolEntry[];
  /** Drops entries whose every entity was exported or dead-lettered. */
  release(seqs: readonly number[]): void;
  pendingBytes(): number;
  pendingEntries(): number;

  addTombstones(tombstones: readonly Tombstone[], atMillis: number): void;
  getTombstone(key: string): ReadonlySet<string> | undefined;
  /** Forgets tombstones written before `beforeMillis`; returns how many. */
  pruneTombstones(beforeMillis: number): number;

  addDeadLetter(reason: string, payload: string, spanCount: number, atMillis: number): void;
  listDeadLetters(): DeadLetter[];
  /** Removes and returns the given dead letters (all when `ids` is absent), e.g. to resend them. */
  takeDeadLetters(ids?: readonly number[]): DeadLetter[];

  close(): void;
}
