// The memory budget's one reading and one rule, shared by the ingest pipeline (refuses with 503)
// and the gateway consumer (pauses fetching). Owns nothing else: callers decide what "over" means
// for their callers and how often to look.
import { getHeapStatistics } from 'node:v8';

export interface MemoryReading {
  rssBytes: number;
  /** V8 heap in use and its limit: under a cgroup limit V8 sizes its heap below the RSS budget. */
  heapUsedBytes: number;
  heapLimitBytes: number;
}

/** This process's memory. */
export function processMemory(): MemoryReading {
  const heap = getHeapStatistics();
  return { rssBytes: process.memoryUsage.rss(), heapUsedBytes: heap.used_heap_size, heapLimitBytes: heap.heap_size_limit };
}

/**
 * The heap's share that counts as full. Measured (bench:outage, 512 MiB cgroup): Node 20 sets a
 * 259 MiB heap limit there, so an RSS budget of 410 MiB alone let V8 abort first; 85% leaves the
 * garbage collector room to work before the limit.
 */
const HEAP_FULL_RATIO = 0.85;

/** Whether a reading is past the budget: the RSS limit, or the heap near V8's own limit. */
export function exceedsMemoryBudget(m: MemoryReading, memoryLimitBytes: number): boolean {
  return m.rssBytes >= memoryLimitBytes || m.heapUsedBytes >= m.heapLimitBytes * HEAP_FULL_RATIO;
}
