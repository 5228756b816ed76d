// The Assembler on a memory store, built and fed the way the service and the pipeline do it.
// `createAssembler` wires it to a request log and a record of exported entities as service.ts
// does; `createAssemblyHarness`, for the assembly unit tests: `feed` logs a request and assembles
// it (releasing an entry that holds nothing to export), `settle` queues what `collect` hands out
// (tombstones), confirms it, then releases.
import { Assembler, type Collected } from '../../src/assembly/assembler.js';
import type { IngestionEvent } from '../../src/ingestion/ingestion-event.js';
import type { ExportedEntities } from '../../src/spool/exported-entities.js';
import { createMemoryStore } from '../../src/spool/memory-store.js';
import type { RequestLog } from '../../src/spool/request-log.js';

export function createAssembler(traceIdleMillis: number, log: RequestLog, exported: ExportedEntities): Assembler {
  return new Assembler({
    traceIdleMillis,
    observationTimeoutMillis: 60_000,
    exportedEnvelopeIds: (key) => exported.exportedEnvelopeIds(key),
    readEvents: (seq, indices) => log.readEvents(seq, indices),
  });
}

export function createAssemblyHarness(traceIdleMillis: number) {
  const { log, queue, exported } = createMemoryStore();
  const assembler = createAssembler(traceIdleMillis, log, exported);
  const feed = (events: IngestionEvent[], nowMillis: number, tenant?: string) => {
    const entry = log.append({ receivedAtMillis: nowMillis, source: tenant === undefined ? {} : { tenant }, events });
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
