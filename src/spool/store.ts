// What the service opens as "the store": the three ports, built together because the export
// queue and the record of exported entities must share one atomic commit. The request log is
// independent of them (a second implementation, e.g. a broker, may replace it alone). Owns the
// lifecycle of the whole (warm-up after listening, close) and nothing of what they hold.
import type { ExportQueue } from './export-queue.js';
import type { ExportedEntities } from './exported-entities.js';
import type { RequestLog } from './request-log.js';

export interface Store {
  readonly log: RequestLog;
  readonly queue: ExportQueue;
  readonly exported: ExportedEntities;
  /**
   * What can wait until the process listens (a durable store sums its queue and loads its
   * tombstone filter); called once, before the replay. Until then the queue's sizes read 0.
   */
  warmUp(): Promise<void>;
  close(): void;
}

/** Bytes on the disk budget: log entries plus queued items. */
export function pendingBytes(store: Pick<Store, 'log' | 'queue'>): number {
  return store.log.pendingBytes() + store.queue.queuedBytes();
}
