// In-memory Spool: same contract as the SQLite one, nothing survives the process.
// For tests and BRIDGE_STORE=memory.
import type { DeadLetter, Spool, SpoolEntry, Tombstone } from './spool.js';

export function createMemorySpool(): Spool {
  const entries = new Map<number, SpoolEntry>();
  const tombstones = new Map<string, { ids: Set<string>; atMillis: number }>();
  const deadLetters = new Map<number, DeadLetter>();
  let nextSeq = 1;
  let nextDeadLetter = 1;
  let bytes = 0;
  return {
    durable: false,
    append(entry) {
      // Sized as the SQLite spool stores it, so that BRIDGE_SPOOL_MAX_BYTES means the same thing.
      const stored: SpoolEntry = { ...entry, seq: nextSeq++, bytes: Buffer.byteLength(JSON.stringify(entry.events)) };
      entries.set(stored.seq, stored);
      bytes += stored.bytes;
      return stored;
    },
    replay: () => [...entries.values()].sort((a, b) => a.seq - b.seq),
    release(seqs) {
      for (const seq of seqs) {
        const entry = entries.get(seq);
        if (!entry) continue;
        bytes -= entry.bytes;
        entries.delete(seq);
      }
    },
    pendingBytes: () => bytes,
    pendingEntries: () => entries.size,
    addTombstones(items: readonly Tombstone[], atMillis) {
      for (const item of items) {
        const existing = tombstones.get(item.key);
        if (existing) {
          for (const id of item.envelopeIds) existing.ids.add(id);
          existing.atMillis = atMillis;
        } else tombstones.set(item.key, { ids: new Set(item.envelopeIds), atMillis });
      }
    },
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
    addDeadLetter(reason, payload, spanCount, atMillis) {
      const id = nextDeadLetter++;
      deadLetters.set(id, { id, createdAtMillis: atMillis, reason, payload, spanCount });
    },
    listDeadLetters: () => [...deadLetters.values()],
    takeDeadLetters(ids) {
      const chosen = ids ? ids.map((id) => deadLetters.get(id)).filter((d): d is DeadLetter => !!d) : [...deadLetters.values()];
      for (const d of chosen) deadLetters.delete(d.id);
      return chosen;
    },
    close() {},
  };
}
