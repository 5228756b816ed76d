// One owned partition of the gateway topic, for one destination's consumer group: its assembly
// state and THE COMMIT RULE. Plain data in (offsets and decoded records), plain data out
// (collections to queue, the offset that may be committed); knows neither kafkajs nor mapping nor
// HTTP. Dropped whole when the partition is revoked, so the assembler never needs to know partitions.
//
// The commit rule: a partition's offset (in the destination's group) is committed only up to its
// oldest record still needed, where a record is needed until
//   1. every entity with events in it was acknowledged by the destination (every lane of it; not
//      merely queued in this replica's memory), and the destination's marker of each exported
//      entity was written to the `<topic>-exported` companion partition; and
//   2. the root of every trace it touched was acknowledged likewise (a root spans its
//      observations' times, so their records stay until the root is out).
// Collections settle in the order they were made (a record released by a later collection may
// hold entities of an earlier one still in flight). Nothing is kept on this replica's disk: when
// the replica and its disk are gone, the new owner replays from the committed offset, reads the
// markers first, re-exports at most identical copies of what was exported but not yet committed,
// and counts updates for marked entities as late.
import { Assembler, type Collected, type CollectMode, type EnvelopeIds, type IngestResult } from '../assembly/assembler.js';
import { entityKey } from '../assembly/entity-key.js';
import type { Tombstone } from '../spool/exported-entities.js';
import { eventsAt, type LogEntry } from '../spool/request-log.js';
import { traceKeyOf, type GatewayRecord } from './gateway-record.js';

export interface PartitionAssemblyOptions {
  partition: number;
  /** The first offset this owner reads: the committed offset (or the log start). */
  startOffset: number;
  traceIdleMillis: number;
  observationTimeoutMillis: number;
  /** Envelope ids of an entity a previous owner exported (the companion topic's markers). */
  markedEnvelopeIds: (key: string) => EnvelopeIds | undefined;
}

/** A collection on its way out: settles once every span of it was acknowledged. */
export interface Ticket {
  readonly partition: number;
  /** Spans not yet acknowledged (or dead-lettered) by their destination. */
  unsettledSpans: number;
  /** The entities' markers, to write once every span is acknowledged. */
  readonly tombstones: readonly Tombstone[];
  /** Offsets whose every entity is in this collection (or an earlier one). */
  readonly releaseOffsets: readonly number[];
  /** Offsets held for the roots of traces taken in this collection. */
  readonly unpinOffsets: readonly number[];
  /** Markers written (or none to write): the offsets may go. */
  marked: boolean;
  /** The partition was revoked: nothing of it is committed or marked any more. */
  dropped: boolean;
}

/** Per live offset: what still holds it. */
interface Hold {
  entities: boolean;
  traces: number;
  bytes: number;
}

export class PartitionAssembly {
  readonly partition: number;
  readonly assembler: Assembler;
  /** The next offset expected: records come in order, each once. */
  nextOffset: number;
  /** Entries kept for refolding (an out-of-order event), until their offset is released. */
  private readonly entries = new Map<number, LogEntry>();
  /** Offsets not yet released, in offset order (Map keeps insertion order; offsets only grow). */
  private readonly holds = new Map<number, Hold>();
  /** Trace entity key (tenant included) → offsets held for its root, since the trace was last taken. */
  private readonly traceHolds = new Map<string, number[]>();
  /** Tombstones of entities this owner queued (the assembler's view of "already exported"). */
  private readonly queued = new Map<string, ReadonlySet<string>>();
  private readonly tickets: Ticket[] = [];
  /** Markers written, oldest first: their local tombstones go once the markers reader has them. */
  private readonly written: Array<{ lastOffset: number; keys: string[] }> = [];
  private heldBytes = 0;
  dropped = false;

  constructor(private readonly options: PartitionAssemblyOptions) {
    this.partition = options.partition;
    this.nextOffset = options.startOffset;
    this.assembler = new Assembler({
      traceIdleMillis: options.traceIdleMillis,
      observationTimeoutMillis: options.observationTimeoutMillis,
      exportedEnvelopeIds: (key) => this.queued.get(key) ?? options.markedEnvelopeIds(key),
      readEvents: (seq, indices) => eventsAt(this.entries.get(seq), indices),
    });
  }

  /** Bytes of the records this partition still holds in memory. */
  bytes(): number {
    return this.heldBytes;
  }

  /** Assembles the record at `offset` (the next one). */
  ingest(offset: number, record: GatewayRecord, sizeBytes: number, nowMillis: number): IngestResult {
    const entry: LogEntry = { seq: offset, receivedAtMillis: record.receivedAtMillis, source: record.source, events: record.events, bytes: sizeBytes };
    this.nextOffset = offset + 1;
    this.entries.set(offset, entry);
    const hold: Hold = { entities: true, traces: 0, bytes: sizeBytes };
    this.holds.set(offset, hold);
    this.heldBytes += sizeBytes;
    const result = this.assembler.ingest(entry, nowMillis);
    for (const traceId of new Set(record.events.map(traceKeyOf))) {
      if (!this.assembler.holdsTrace(traceId, record.source.tenant)) continue;
      // By the trace's entity key: with tenants, two tenants' equal trace ids are two traces.
      const key = entityKey('trace', traceId, record.source.tenant);
      let held = this.traceHolds.get(key);
      if (!held) this.traceHolds.set(key, (held = []));
      held.push(offset);
      hold.traces++;
    }
    if (result.releasable) {
      hold.entities = false;
      this.entries.delete(offset);
      this.forgetIfFree(offset, hold);
    }
    return result;
  }

  /** An unreadable record at `offset`: nothing to hold. */
  skip(offset: number): void {
    this.nextOffset = offset + 1;
  }

  /** What is complete now (see Assembler.collect); queue it, then `confirm`. */
  collect(nowMillis: number, limit: number, mode: CollectMode): Collected {
    if (this.dropped) return { records: [], tombstones: [], releaseSeqs: [], keys: [] };
    return this.assembler.collect(nowMillis, limit, mode);
  }

  /** The collection is queued: the assembler forgets it, and a ticket tracks its acknowledgement. */
  confirm(collected: Collected, spanCount: number): Ticket {
    this.assembler.confirm(collected);
    for (const t of collected.tombstones) this.queued.set(t.key, new Set(t.envelopeIds));
    const unpinOffsets: number[] = [];
    for (const key of collected.keys) {
      if (!key.startsWith('trace:') && !key.startsWith('trace@')) continue;
      const held = this.traceHolds.get(key);
      if (held) {
        unpinOffsets.push(...held);
        this.traceHolds.delete(key);
      }
    }
    const ticket: Ticket = {
      partition: this.partition,
      unsettledSpans: spanCount,
      tombstones: collected.tombstones,
      releaseOffsets: collected.releaseSeqs,
      unpinOffsets,
      marked: false,
      dropped: false,
    };
    this.tickets.push(ticket);
    return ticket;
  }

  /** Tickets whose spans are all acknowledged and whose markers are not written yet, oldest first. */
  toMark(): Ticket[] {
    return this.tickets.filter((t) => t.unsettledSpans === 0 && !t.marked);
  }

  /**
   * The ticket's markers were written up to `lastMarkerOffset` of the companion partition (-1:
   * none to write). From here on the markers reader is the record of these entities.
   */
  marked(ticket: Ticket, lastMarkerOffset: number): void {
    ticket.marked = true;
    if (lastMarkerOffset >= 0) this.written.push({ lastOffset: lastMarkerOffset, keys: ticket.tombstones.map((t) => t.key) });
  }

  /** The markers reader has read the companion partition up to (not including) `position`. */
  markersReadUpTo(position: number): void {
    while (this.written.length > 0 && this.written[0]!.lastOffset < position) {
      for (const key of this.written.shift()!.keys) this.queued.delete(key);
    }
  }

  /** Releases what settled tickets hold, in the order the tickets were made. */
  settle(): void {
    while (this.tickets.length > 0 && this.tickets[0]!.marked) {
      const ticket = this.tickets.shift()!;
      for (const offset of ticket.releaseOffsets) {
        const hold = this.holds.get(offset);
        if (!hold) continue;
        hold.entities = false;
        this.entries.delete(offset);
        this.forgetIfFree(offset, hold);
      }
      for (const offset of ticket.unpinOffsets) {
        const hold = this.holds.get(offset);
        if (!hold) continue;
        hold.traces--;
        this.forgetIfFree(offset, hold);
      }
    }
  }

  /** The offset to commit: the oldest still needed, or the next to read when nothing is. */
  committableOffset(): number {
    for (const offset of this.holds.keys()) return offset;
    return this.nextOffset;
  }

  /** Collections not yet settled (acknowledged and marked). */
  unsettledTickets(): number {
    return this.tickets.length;
  }

  /** Revoked: every ticket is abandoned (its spans may still be sent; nothing is committed). */
  drop(): void {
    this.dropped = true;
    for (const ticket of this.tickets) ticket.dropped = true;
    this.tickets.length = 0;
    this.entries.clear();
    this.holds.clear();
    this.traceHolds.clear();
    this.queued.clear();
    this.written.length = 0;
    this.heldBytes = 0;
  }

  private forgetIfFree(offset: number, hold: Hold): void {
    if (hold.entities || hold.traces > 0) return;
    this.holds.delete(offset);
    this.heldBytes -= hold.bytes;
  }
}
