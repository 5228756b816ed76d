// In-memory request log: the RequestLog contract (request-log.ts), nothing survives the process.
// For tests, the CLI's offline assembly and BRIDGE_STORE=memory.
import { eventsAt, storedSize, type LogEntry, type RequestLog } from './request-log.js';

export function createMemoryRequestLog(): RequestLog {
  // Map iteration is insertion order, which is seq order.
  const entries = new Map<number, LogEntry>();
  let nextSeq = 1;
  let bytes = 0;
  return {
    durable: false,
    append(entry) {
      const stored: LogEntry = { ...entry, seq: nextSeq++, bytes: storedSize(entry.events) };
      entries.set(stored.seq, stored);
      bytes += stored.bytes;
      return stored;
    },
    *replay() {
      for (const entry of [...entries.values()]) if (entries.has(entry.seq)) yield entry;
    },
    readEntries: (seqs) => seqs.map((seq) => entries.get(seq)).filter((e): e is LogEntry => e !== undefined),
    readEvents: (seq, indices) => eventsAt(entries.get(seq), indices),
    release(seqs) {
      for (const seq of seqs) {
        const entry = entries.get(seq);
        if (!entry) continue;
        bytes -= entry.bytes;
        entries.delete(seq);
      }
    },
    pendingEntries: () => entries.size,
    pendingBytes: () => bytes,
    quarantinedEntries: () => 0,
  };
}
