// The request-log port: one entry per accepted request, durable before the 207 goes out, kept
// until every entity it touched is queued for export. Implementations: memory-request-log.ts
// (tests, BRIDGE_STORE=memory) and sqlite-request-log.ts (default); a broker-backed log (Kafka)
// implements the same port. Must not know assembly, the export queue or OTel: moving work to the
// queue is the queue's own atomic step, and releasing entries afterwards is a separate,
// idempotent step (a replay after a crash between the two is deduplicated by the tombstones).
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';

/** One accepted request, as written before the 207 goes out. */
export interface LogEntry {
  /** Increasing per log; replay order. */
  seq: number;
  receivedAtMillis: number;
  source: RequestSource;
  events: IngestionEvent[];
  /** Size of the stored entry, counted against BRIDGE_SPOOL_MAX_BYTES. */
  bytes: number;
}

/** A stored entry that could not be read back (set aside in quarantine, never replayed). */
export interface UnreadableEntry {
  seq: number;
  unreadable: string;
}

export interface RequestLog {
  /** Whether entries survive the process (and so may wait for a restart). */
  readonly durable: boolean;
  /** Appends a request; durable when it returns. The log sizes and numbers it. */
  append(entry: Omit<LogEntry, 'seq' | 'bytes'>): LogEntry;
  /**
   * Every entry not yet released, in seq order, one at a time (replay on start). An entry that
   * cannot be read is set aside and yielded as `UnreadableEntry`; it never stops a start.
   */
  replay(): IterableIterator<LogEntry | UnreadableEntry>;
  /** The given entries still held (to refold an entity whose events arrived out of order). */
  readEntries(seqs: readonly number[]): LogEntry[];
  /** Forgets entries whose entities are all queued (or hold nothing to export). Idempotent. */
  release(seqs: readonly number[]): void;
  /** Entries not yet released. */
  pendingEntries(): number;
  /** Bytes of the entries not yet released (the disk budget's log part). */
  pendingBytes(): number;
  /** Entries set aside because they could not be read. */
  quarantinedEntries(): number;
}

export function isUnreadable(entry: LogEntry | UnreadableEntry): entry is UnreadableEntry {
  return 'unreadable' in entry;
}

/** How the memory and SQLite logs size an entry, so that BRIDGE_SPOOL_MAX_BYTES means one thing. */
export function storedEventsText(events: readonly IngestionEvent[]): string {
  return JSON.stringify(events);
}
