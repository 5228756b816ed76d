// In-memory Spool: same contract as the SQLite one, nothing survives the process.
// For tests and BRIDGE_STORE=memory.
import type { DeadLetter, QueuedSpan, Spool, SpoolEntry } from './spool.js';

export function createMemorySpool(): Spool {
  const entries = new Map<number, SpoolEntry>();
  const queue = new Map<number, QueuedSpan>();
  const tombstones = new Map<string, { ids: Set<string>; atMillis: number }>();
  const deadLetters = new Map<number, DeadLetter>();
  let nextSeq = 1;
  let nextQueueId = 1;
  let nextDeadLetter = 1;
  let logBytes = 0;
  let queueBytes = 0;
  /** Queued spans per destination (the workers ask at every wake). */
  const queuedPer = new Map<string, number>();
  const countQueued = (destination: string, delta: number) => queuedPer.set(destination, (queuedPer.get(destination) ?? 0) + delta);

  const release = (seqs: readonly number[]) => {
    for (const seq of seqs) {
      const entry = entries.get(seq);
      if (!entry) continue;
      logBytes -= entry.bytes;
      entries.delete(seq);
    }
  };
  const addDeadLetter = (d: Omit<DeadLetter, 'id'>) => {
    const id = nextDeadLetter++;
    deadLetters.set(id, { id, ...d });
  };

  return {
    durable: false,
    append(entry) {
      // Sized as the SQLite spool stores it, so that BRIDGE_SPOOL_MAX_BYTES means the same thing.
      const stored: SpoolEntry = { ...entry, seq: nextSeq++, bytes: Buffer.byteLength(JSON.stringify(entry.events)) };
      entries.set(stored.seq, stored);
      logBytes += stored.bytes;
      return stored;
    },
    *replay() {
      for (const seq of [...entries.keys()].sort((a, b) => a - b)) {
        const entry = entries.get(seq);
        if (entry) yield entry;
      }
    },
    readEntries: (seqs) => seqs.map((seq) => entries.get(seq)).filter((e): e is SpoolEntry => e !== undefined),
    commit(c, atMillis) {
      for (const span of c.spans) {
        queue.set(nextQueueId, { id: nextQueueId, destination: span.destination, payload: span.payload });
        nextQueueId++;
        queueBytes += span.payload.byteLength;
        countQueued(span.destination, 1);
      }
      for (const t of c.tombstones) tombstones.set(t.key, { ids: new Set(t.envelopeIds), atMillis });
      for (const d of c.deadLetters ?? []) addDeadLetter({ ...d, createdAtMillis: atMillis });
      release(c.releaseSeqs);
    },
    release,
    peekQueue(destination, afterId, limit) {
      const out: QueuedSpan[] = [];
      // Map iteration is insertion order, which is id order.
      for (const span of queue.values()) {
        if (out.length >= limit) break;
        if (span.destination === destination && span.id > afterId) out.push(span);
      }
      return out;
    },
    dequeue(ids, deadLetter) {
      const payloads: Uint8Array[] = [];
      for (const id of ids) {
        const span = queue.get(id);
        if (!span) continue;
        queue.delete(id);
        queueBytes -= span.payload.byteLength;
        countQueued(span.destination, -1);
        payloads.push(span.payload);
      }
      if (deadLetter && payloads.length > 0) {
        addDeadLetter({ createdAtMillis: deadLetter.atMillis, destination: deadLetter.destination, reason: deadLetter.reason, payloads, spanCount: payloads.length });
      }
    },
    queuedSpans: (destination) => (destination === undefined ? queue.size : (queuedPer.get(destination) ?? 0)),
    pendingBytes: () => logBytes + queueBytes,
    pendingEntries: () => entries.size,
    quarantinedEntries: () => 0,
    getTombstone: (key) => tombstones.get(key)?.ids,
    pruneTombstones(beforeMillis) {
      let removed = 0;
      for (const [key, t] of tombstones) {
        if (t.atMillis < beforeMillis) {
          tombstones.delete(key);
          removed++;
        }
      }
      return removed;
    },
    listDeadLetters: () => [...deadLetters.values()],
    deadLetterCount: () => deadLetters.size,
    deleteDeadLetters(ids) {
      for (const id of ids) deadLetters.delete(id);
    },
    close() {},
  };
}
