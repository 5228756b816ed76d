// The Store (store.ts) with nothing durable: a memory log beside a memory export queue.
import { createMemoryExportStore } from './memory-export-queue.js';
import { createMemoryRequestLog } from './memory-request-log.js';
import type { Store } from './store.js';

export function createMemoryStore(): Store {
  return { log: createMemoryRequestLog(), ...createMemoryExportStore(), warmUp: async () => {}, close() {} };
}
