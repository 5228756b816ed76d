// The export-queue port: encoded payloads per queue (a destination's spans, or its scores),
// kept until that destination accepted them (the Collector's persistent queue, placed after our
// assembly), and the dead letters the backends refused. Its `commit` is the one atomic step that
// moves completed entities out of assembly: payloads, their tombstones (the record of exported
// entities, exported-entities.ts) and dead letters together. Implementations: memory-export-queue.ts
// and sqlite-export-queue.ts. Must not know assembly, mapping or OTel; the row layout is its own.
import type { Tombstone } from './exported-entities.js';

/** One payload, encoded for one queue, waiting to be sent. */
export interface QueuedItem {
  /** Increasing per store; export order. */
  id: number;
  /** A destination's name, or its scores queue (`<name>#scores`). */
  queue: string;
  /** A self-contained payload (an OTLP span, a score), as the queue's sink sends it. */
  payload: Uint8Array;
}

/**
 * What a dead letter holds: `payloads` are queue payloads as they would have been sent (resent
 * through the queue's sink); a `record` is one completed record that could not be mapped or
 * encoded, as JSON (assembly/record-codec.ts): re-mapped on retry, never sent as it is.
 */
export type DeadLetterHolds = 'payloads' | 'record';

export interface DeadLetter {
  id: number;
  createdAtMillis: number;
  /** The queue the payloads were taken from (`payloads`), or the destination that could not map the record. */
  destination: string;
  holds: DeadLetterHolds;
  /** Why the backend refused them (status and answer). */
  reason: string;
  /** The payloads, as they would have been sent; or the record's JSON, alone. */
  payloads: Uint8Array[];
  spanCount: number;
}

export type NewDeadLetter = Omit<DeadLetter, 'id' | 'createdAtMillis'>;

/** What one `commit` adds, atomically. */
export interface QueueCommit {
  items: ReadonlyArray<{ queue: string; payload: Uint8Array }>;
  /** The entities these items export (their tombstones). */
  tombstones: readonly Tombstone[];
  deadLetters?: readonly NewDeadLetter[];
}

export interface ExportQueue {
  /** Adds items, tombstones and dead letters in one atomic step. */
  commit(commit: QueueCommit, atMillis: number): void;
  /** The oldest items of a queue with `id > afterId`, at most `limit`. */
  peek(queue: string, afterId: number, limit: number): QueuedItem[];
  /** Removes items (exported, or dead-lettered with `deadLetter`: a letter holding their payloads), atomically. */
  dequeue(ids: readonly number[], deadLetter?: { destination: string; reason: string; atMillis: number }): void;
  /** Items waiting, in one queue or all. */
  queuedItems(queue?: string): number;
  /** Bytes of the items waiting (the disk budget's queue part). */
  queuedBytes(): number;
  listDeadLetters(): DeadLetter[];
  deadLetterCount(): number;
  /** Removes the given dead letters, e.g. once resent. */
  deleteDeadLetters(ids: readonly number[]): void;
}
