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
  /** The given entries still held, whole (tests; assembly reads single events, `readEvents`). */
  readEntries(seqs: readonly number[]): LogEntry[];
  /**
   * Events of one entry still held, by their index in its `events`, in the order asked (to finish
   * or refold an entity whose open state dropped its payloads). Only those events are parsed: an
   * entity uses one or a few of an entry's ~200. Empty when the entry is gone.
   */
  readEvents(seq: number, indices: readonly number[]): IngestionEvent[];
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

/**
 * An entry's events as stored: the UTF-8 of `JSON.stringify(events)`, and where each event ends
 * in it (byte offsets, so that one event is read back from its slice alone). Both logs size an
 * entry by it, so that BRIDGE_SPOOL_MAX_BYTES means one thing.
 */
export interface StoredEvents {
  /** The JSON array's UTF-8 bytes. */
  text: Buffer;
  /** Event i spans `[i === 0 ? 1 : ends[i - 1] + 1, ends[i])` of `text` (a comma between). */
  ends: Uint32Array;
}

/**
 * Each event stringified on its own and written into one buffer: the offsets come from the
 * writes. Measured against JSON.stringify of the array, Buffer.byteLength and a TEXT bind (100
 * entries of 200 bench events into SQLite, CPU per entry, taskset -c 0): 960-1070 µs this way,
 * 980-1070 µs that way; joining the strings instead, with a byteLength per event, 1230-1350 µs.
 */
export function storeEvents(events: readonly IngestionEvent[]): StoredEvents {
  const n = events.length;
  const parts = new Array<string>(n);
  let chars = 2 + Math.max(0, n - 1);
  for (let i = 0; i < n; i++) {
    const part = JSON.stringify(events[i]);
    parts[i] = part;
    chars += part.length;
  }
  // A UTF-16 unit takes at most 3 UTF-8 bytes (a surrogate pair, 2 units, takes 4).
  const buffer = Buffer.allocUnsafe(chars * 3);
  const ends = new Uint32Array(n);
  let pos = 0;
  buffer[pos++] = 0x5b; // [
  for (let i = 0; i < n; i++) {
    if (i > 0) buffer[pos++] = 0x2c; // ,
    pos += buffer.write(parts[i]!, pos);
    ends[i] = pos;
  }
  buffer[pos++] = 0x5d; // ]
  return { text: buffer.subarray(0, pos), ends };
}

/** `storeEvents(events).text.length`, for a log that keeps no text (the memory log). */
export function storedSize(events: readonly IngestionEvent[]): number {
  return Buffer.byteLength(JSON.stringify(events));
}

/** The offsets as stored beside the text: little-endian u32s, whatever the platform. */
export function packEnds(ends: Uint32Array): Buffer {
  const out = Buffer.allocUnsafe(ends.length * 4);
  for (let i = 0; i < ends.length; i++) out.writeUInt32LE(ends[i]!, i * 4);
  return out;
}

/** `packEnds`' output read back (once per row read, not per event). */
export function unpackEnds(packed: Uint8Array): Uint32Array {
  if (packed.byteLength % 4 !== 0) throw new Error('the event offsets are not whole u32s');
  const view = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const ends = new Uint32Array(packed.byteLength >>> 2);
  for (let i = 0; i < ends.length; i++) ends[i] = view.readUInt32LE(i * 4);
  return ends;
}

/**
 * Event `index` parsed from its slice of a stored entry; throws when the offsets do not fit the
 * text or the slice is not an event.
 */
export function readStoredEvent(text: Buffer, ends: Uint32Array, index: number): IngestionEvent {
  if (!Number.isInteger(index) || index < 0 || index >= ends.length) throw new Error(`no event ${index} in an entry of ${ends.length}`);
  const start = index === 0 ? 1 : ends[index - 1]! + 1;
  const end = ends[index]!;
  if (end > text.length || start > end) throw new Error('an event offset runs past its entry');
  const event = JSON.parse(text.toString('utf8', start, end)) as unknown;
  checkEvent(event);
  return event as IngestionEvent;
}

/** `readEvents` over an entry kept parsed (memory logs): the same events, nothing copied. */
export function eventsAt(entry: { readonly events: readonly IngestionEvent[] } | undefined, indices: readonly number[]): IngestionEvent[] {
  if (!entry) return [];
  return indices.map((index) => {
    const event = entry.events[index];
    if (!event) throw new Error(`no event ${index} in an entry of ${entry.events.length}`);
    return event;
  });
}

/** What a stored event must have to be assembled (the log wrote it; this catches a damaged row). */
export function checkEvent(event: unknown): void {
  const e = event as Partial<IngestionEvent> | null;
  if (typeof e !== 'object' || e === null || typeof e.id !== 'string' || typeof e.type !== 'string' || typeof e.timestamp !== 'string' || typeof e.body !== 'object' || e.body === null) {
    throw new Error('an event lacks its id, type, timestamp or body');
  }
}
