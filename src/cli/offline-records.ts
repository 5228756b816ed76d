// Offline assembly for the CLI and tests: one Langfuse ingestion body (`{batch, metadata}`) to
// the CompletedRecords the live pipeline would hand to mapping, with nothing pending: every
// entity is complete (an observation without end is exported incomplete, as on timeout).
// Runs the real stages (validation, a memory request log, the Assembler) and owns no rule of its own
// but how a whole batch settles at once. Must not touch the environment, files or the network.
import { Assembler } from '../assembly/assembler.js';
import type { CompletedRecord } from '../assembly/completed-record.js';
import { toRequestSource } from '../ingestion/request-source.js';
import { validateBatch } from '../ingestion/validate-batch.js';
import { createMemoryRequestLog } from '../spool/memory-request-log.js';

export interface OfflineRecords {
  records: CompletedRecord[];
  rejected: ReturnType<typeof validateBatch>['rejected'];
}

/** `body` is what a client POSTs to /api/public/ingestion. */
export function toOfflineRecords(body: unknown): OfflineRecords {
  const holder = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const batch = Array.isArray(holder.batch) ? holder.batch : Array.isArray(body) ? body : [];
  const { accepted, rejected } = validateBatch(batch);
  const log = createMemoryRequestLog();
  // Nothing is ever queued here, so no entity counts as exported.
  const assembler = new Assembler({
    traceIdleMillis: 0,
    observationTimeoutMillis: 1,
    exportedEnvelopeIds: () => undefined,
    readEvents: (seq, indices) => log.readEvents(seq, indices),
  });
  if (accepted.length > 0) assembler.ingest(log.append({ receivedAtMillis: 0, source: toRequestSource(holder.metadata, {}), events: accepted }), 0);
  const records: CompletedRecord[] = [];
  // Observations before their roots: a root is made once nothing of its trace is open.
  for (let round = 0; round < 3; round++) {
    const collected = assembler.collect(0, Number.MAX_SAFE_INTEGER, 'all');
    records.push(...collected.records);
    assembler.confirm(collected);
    if (assembler.pendingEntities() === 0) break;
  }
  return { records, rejected };
}
