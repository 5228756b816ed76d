// The Assembler on a memory store, fed and settled the way the pipeline does it, for the assembly
// unit tests: `feed` logs a request and assembles it (releasing an entry that holds nothing to
// export), `settle` queues what `collect` hands out (tombstones), confirms it, then releases.
import { Assembler, type Collected } from '../../src/assembly/assembler.js';
import type { IngestionEvent } from '../../src/ingestion/ingestion-event.js';
import { createMemoryStore } from '../../src/spool/memory-store.js';

export function createAssemblyHarness(traceIdleMillis: number) {
  const { log, queue, exported } = createMemoryStore();
  const assembler = new Assembler({
    traceIdleMillis,
    observationTimeoutMillis: 60_000,
    exportedEnvelopeIds: (key) => exported.exportedEnvelopeIds(key),
    readEntries: (seqs) => log.readEntries(seqs),
  });
  const feed = (events: IngestionEvent[], nowMillis: number) => {
    const entry = log.append({ receivedAtMillis: nowMillis, source: {}, events });
    const result = assembler.ingest(entry, nowMillis);
    if (result.releasable) log.release([entry.seq]);
    return { entry, result };
  };
  const settle = (nowMillis: number): Collected => {
    const collected = assembler.collect(nowMillis, 1_000, 'due');
    queue.commit({ items: [], tombstones: collected.tombstones }, nowMillis);
    assembler.confirm(collected);
    log.release(collected.releaseSeqs);
    return collected;
  };
  return { assembler, log, feed, settle };
}
