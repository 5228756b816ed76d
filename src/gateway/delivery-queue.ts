// One destination's export queue in the gateway: encoded payloads per lane (its spans, a tenant's,
// or its scores), in this replica's memory,
// bounded (BRIDGE_KAFKA_MAX_QUEUED_SPANS per queue; past it the consumer pauses fetching). Each
// span belongs to a ticket (partition-assembly.ts); a ticket settles when every span of it was
// acknowledged or dead-lettered by its destination, which is what lets the partition's offset be
// committed. Nothing here survives the process: the topic does (see partition-assembly.ts).
// Dead letters are counted and logged by the workers; the spans themselves are not kept.
import type { ExportQueueView } from '../pipeline/export-worker.js';
import type { QueuedItem } from '../spool/export-queue.js';
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

  dequeue(ids: readonly number[]): void {
    for (const id of ids) {
      for (const q of this.queues.values()) {
        const span = q.get(id);
        if (!span) continue;
        q.delete(id);
        this.total--;
        span.ticket.unsettledSpans--;
        if (span.ticket.unsettledSpans === 0 && !span.ticket.dropped) this.onSettled(span.ticket);
        break;
      }
    }
  }

  /** Dead letters are logged and counted by the workers; the payloads are not kept (see above). */
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
