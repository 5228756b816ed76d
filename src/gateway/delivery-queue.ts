// One destination's export queue in the gateway: encoded payloads per lane (its spans, a tenant's,
// or its scores), in this replica's memory,
// bounded (BRIDGE_KAFKA_MAX_QUEUED_SPANS per queue; past it the consumer pauses fetching). Each
// span belongs to a ticket (partition-assembly.ts); a ticket settles when every span of it was
// acknowledged or dead-lettered by its destination, which is what lets the partition's offset be
// committed. Nothing here survives the process: the topic does (see partition-assembly.ts).
// Dead letters (spans the destination refused for good, records that could not be mapped) go to
// the durable `<topic>-dead-letters` topic (kafka-dead-letters.ts); their spans settle once the
// broker acknowledged the letter, so the offset never passes a letter not yet written.
import type { ExportQueueView } from '../pipeline/export-worker.js';
import type { NewDeadLetter, QueuedItem } from '../spool/export-queue.js';
import type { Ticket } from './partition-assembly.js';

interface Entry extends QueuedItem {
  ticket: Ticket;
}

export class DeliveryQueue implements ExportQueueView {
  private readonly queues = new Map<string, Map<number, Entry>>();
  private nextId = 1;
  private total = 0;

  constructor(
    private readonly maxPerQueue: number,
    /** A ticket's last span was settled. */
    private readonly onSettled: (ticket: Ticket) => void,
    /** Writes a dead letter durably; resolves once written (rejects only at shutdown). */
    private readonly writeDeadLetter: (letter: NewDeadLetter, atMillis: number) => Promise<void>,
  ) {}

  add(queue: string, payload: Uint8Array, ticket: Ticket): void {
    let q = this.queues.get(queue);
    if (!q) this.queues.set(queue, (q = new Map()));
    const id = this.nextId++;
    q.set(id, { id, queue, payload, ticket });
    this.total++;
  }

  /** A queue at its bound: fetching should pause until it drains. */
  full(): boolean {
    for (const q of this.queues.values()) if (q.size >= this.maxPerQueue) return true;
    return false;
  }

  peek(queue: string, afterId: number, limit: number): QueuedItem[] {
    const out: QueuedItem[] = [];
    const q = this.queues.get(queue);
    if (!q) return out;
    // Insertion order is id order.
    for (const span of q.values()) {
      if (out.length >= limit) break;
      if (span.id > afterId) out.push(span);
    }
    return out;
  }

  /**
   * Removes sent spans: they settle now, or, with `deadLetter` (refused for good), once the letter
   * holding their payloads is written.
   */
  dequeue(ids: readonly number[], deadLetter?: { destination: string; reason: string; atMillis: number }): void {
    const removed: Entry[] = [];
    for (const id of ids) {
      for (const q of this.queues.values()) {
        const span = q.get(id);
        if (!span) continue;
        q.delete(id);
        this.total--;
        removed.push(span);
        break;
      }
    }
    if (!deadLetter) {
      for (const span of removed) this.settle(span.ticket);
      return;
    }
    if (removed.length === 0) return;
    const letter: NewDeadLetter = { destination: deadLetter.destination, holds: 'payloads', reason: deadLetter.reason, payloads: removed.map((s) => s.payload), spanCount: removed.length };
    this.writeDeadLetter(letter, deadLetter.atMillis).then(
      () => {
        for (const span of removed) this.settle(span.ticket);
      },
      // Shut down first: the offsets wait; the next owner meets the same refusal.
      () => undefined,
    );
  }

  /** A record of `ticket` that could not be mapped: one unit of the ticket, settled once its letter is written. */
  deadLetterRecord(letter: NewDeadLetter, atMillis: number, ticket: Ticket): void {
    this.writeDeadLetter(letter, atMillis).then(
      () => this.settle(ticket),
      () => undefined,
    );
  }

  private settle(ticket: Ticket): void {
    ticket.unsettledSpans--;
    if (ticket.unsettledSpans === 0 && !ticket.dropped) this.onSettled(ticket);
  }

  queuedItems(queue?: string): number {
    if (queue === undefined) return this.total;
    return this.queues.get(queue)?.size ?? 0;
  }

  /** Removes the spans of a revoked partition not yet sent (its new owner exports them). */
  dropPartition(partition: number): void {
    for (const q of this.queues.values()) {
      for (const [id, span] of q) {
        if (span.ticket.partition !== partition || !span.ticket.dropped) continue;
        q.delete(id);
        this.total--;
      }
    }
  }
}
