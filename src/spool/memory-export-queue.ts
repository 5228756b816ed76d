// In-memory export queue and record of exported entities (export-queue.ts, exported-entities.ts),
// built together because one commit writes both. Nothing survives the process.
import type { DeadLetter, ExportQueue, NewDeadLetter, QueuedItem } from './export-queue.js';
import type { ExportedEntities } from './exported-entities.js';

export interface MemoryExportStore {
  queue: ExportQueue;
  exported: ExportedEntities;
}

export function createMemoryExportStore(): MemoryExportStore {
  const items = new Map<number, QueuedItem>();
  const tombstones = new Map<string, { ids: Set<string>; atMillis: number }>();
  const deadLetters = new Map<number, DeadLetter>();
  let nextId = 1;
  let nextDeadLetter = 1;
  let bytes = 0;
  /** Items per queue (the workers ask at every wake). */
  const perQueue = new Map<string, number>();
  const count = (queue: string, delta: number) => perQueue.set(queue, (perQueue.get(queue) ?? 0) + delta);
  const addDeadLetter = (d: NewDeadLetter, atMillis: number) => {
    const id = nextDeadLetter++;
    deadLetters.set(id, { id, createdAtMillis: atMillis, ...d });
  };

  const queue: ExportQueue = {
    commit(c, atMillis) {
      for (const item of c.items) {
        items.set(nextId, { id: nextId, queue: item.queue, payload: item.payload });
        nextId++;
        bytes += item.payload.byteLength;
        count(item.queue, 1);
      }
      for (const t of c.tombstones) tombstones.set(t.key, { ids: new Set(t.envelopeIds), atMillis });
      for (const d of c.deadLetters ?? []) addDeadLetter(d, atMillis);
    },
    peek(name, afterId, limit) {
      const out: QueuedItem[] = [];
      // Map iteration is insertion order, which is id order.
      for (const item of items.values()) {
        if (out.length >= limit) break;
        if (item.queue === name && item.id > afterId) out.push(item);
      }
      return out;
    },
    dequeue(ids, deadLetter) {
      const payloads: Uint8Array[] = [];
      for (const id of ids) {
        const item = items.get(id);
        if (!item) continue;
        items.delete(id);
        bytes -= item.payload.byteLength;
        count(item.queue, -1);
        payloads.push(item.payload);
      }
      if (deadLetter && payloads.length > 0) {
        addDeadLetter({ destination: deadLetter.destination, holds: 'payloads', reason: deadLetter.reason, payloads, spanCount: payloads.length }, deadLetter.atMillis);
      }
    },
    queuedItems: (name) => (name === undefined ? items.size : (perQueue.get(name) ?? 0)),
    queuedBytes: () => bytes,
    listDeadLetters: () => [...deadLetters.values()],
    deadLetterCount: () => deadLetters.size,
    deleteDeadLetters(ids) {
      for (const id of ids) deadLetters.delete(id);
    },
  };

  const exported: ExportedEntities = {
    exportedEnvelopeIds: (key) => tombstones.get(key)?.ids,
    prune(beforeMillis) {
      let removed = 0;
      for (const [key, t] of tombstones) {
        if (t.atMillis < beforeMillis) {
          tombstones.delete(key);
          removed++;
        }
      }
      return removed;
    },
  };
  return { queue, exported };
}
