// validateBatch for large batches without holding the event loop: events are validated in slices
// of a few milliseconds, yielding to other requests (setImmediate) between them. Same result as
// validateBatch, event for event. Must not touch HTTP, storage or OTel.
import type { BatchValidation } from './ingestion-event.js';
import { resolveLimits, validateRange, type ValidationLimits } from './validate-batch.js';

export interface SliceOptions {
  /** Longest stretch of validation between two yields. */
  sliceMillis?: number;
  /** Events validated between two looks at the clock. */
  checkEvery?: number;
  now?: () => number;
}

/** Up to this many events a batch is validated in one go (an SDK batch: 15 to a few hundred). */
export const SLICED_VALIDATION_ABOVE = 256;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function validateBatchSliced(
  batch: readonly unknown[],
  limits?: Partial<ValidationLimits>,
  options: SliceOptions = {},
): Promise<BatchValidation> {
  const into: BatchValidation = { accepted: [], sdkLogs: 0, rejected: [] };
  if (!Array.isArray(batch)) return into;
  const resolved = resolveLimits(limits);
  if (batch.length <= SLICED_VALIDATION_ABOVE) {
    validateRange(batch, 0, batch.length, resolved, into);
    return into;
  }
  const sliceMillis = options.sliceMillis ?? 5;
  // An invalid event can take 0.2 ms (zod collects and formats its issues): look at the clock often.
  const checkEvery = Math.max(1, options.checkEvery ?? 8);
  const now = options.now ?? performance.now.bind(performance);
  let sliceStart = now();
  for (let start = 0; start < batch.length; start += checkEvery) {
    validateRange(batch, start, Math.min(batch.length, start + checkEvery), resolved, into);
    if (now() - sliceStart >= sliceMillis && start + checkEvery < batch.length) {
      await yieldToLoop();
      sliceStart = now();
    }
  }
  return into;
}
