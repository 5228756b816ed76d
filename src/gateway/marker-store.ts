// The exported-entity markers in a replica's memory (gateway mode), as a budget: what
// exported-markers.ts read from the `<topic>-exported` companion topic, held compactly and capped.
// Plain data; knows neither kafkajs nor assembly's internals.
//
// Compact: an entry is the 53-bit hash of (partition, marker key) → [atMillis, 53-bit hashes of
// the envelope ids merged into the span], a Map<number, number[]>, instead of the key string and a
// Set of id strings (measured by bench/markers-memory.mjs; see the README, "Scale out"). Hashes
// collide with a chance of about n / 2^53 per lookup (n markers held): a million markers, one
// lookup in 9 billion would take a new entity for a marked one (counted late).
// Capped: past `maxMarkers`, the oldest-inserted markers are evicted first, counted. An evicted
// marker is as a marker past the retention: a late update for that entity is exported as its own
// span, a resend of it as a second, identical copy.
import type { EnvelopeIds } from '../assembly/assembler.js';
import { hash53 } from '../spool/key-hash.js';

export { hash53 };

/** The envelope ids of one marker, by their hashes. */
class HashedEnvelopeIds implements EnvelopeIds {
  constructor(private readonly entry: readonly number[]) {}
  has(id: string): boolean {
    const h = hash53(id);
    // entry[0] is the marker's time.
    for (let i = 1; i < this.entry.length; i++) if (this.entry[i] === h) return true;
    return false;
  }
}

export class MarkerStore {
  /** Key hash → [atMillis, envelope id hashes…]; Map order is insertion order (oldest first). */
  private readonly entries = new Map<number, number[]>();
  private evictedTotal = 0;

  constructor(private readonly maxMarkers: number) {
    if (!(maxMarkers >= 1)) throw new Error(`maxMarkers must be at least 1 (actual: ${maxMarkers})`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Markers evicted at the cap since the store was made. */
  get evicted(): number {
    return this.evictedTotal;
  }

  /** Records (or replaces) a marker; evicts the oldest while over the cap. */
  set(partition: number, key: string, envelopeIds: readonly string[], atMillis: number): void {
    const h = hash53(key, partition);
    const entry = new Array<number>(envelopeIds.length + 1);
    entry[0] = atMillis;
    for (let i = 0; i < envelopeIds.length; i++) entry[i + 1] = hash53(envelopeIds[i]!);
    // Delete first: a replaced marker moves to the young end.
    this.entries.delete(h);
    this.entries.set(h, entry);
    while (this.entries.size > this.maxMarkers) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.evictedTotal++;
    }
  }

  /** A null-valued marker (a compaction delete). */
  delete(partition: number, key: string): void {
    this.entries.delete(hash53(key, partition));
  }

  get(partition: number, key: string): EnvelopeIds | undefined {
    const entry = this.entries.get(hash53(key, partition));
    return entry ? new HashedEnvelopeIds(entry) : undefined;
  }

  /** Forgets markers written before `beforeMillis`; returns how many. */
  prune(beforeMillis: number): number {
    let n = 0;
    // Insertion order is only about time order (partitions are read side by side): a full pass.
    for (const [h, entry] of this.entries) {
      if (entry[0]! < beforeMillis) {
        this.entries.delete(h);
        n++;
      }
    }
    return n;
  }
}
