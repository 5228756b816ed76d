// Sliced validation gives validateBatch's result event for event, and yields to the event loop
// between slices (driven by an injected clock, not by wall time).
import { expect, it } from 'vitest';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';
import { SLICED_VALIDATION_ABOVE, validateBatchSliced } from '../../../src/ingestion/validate-batch-sliced.js';
import { envelope } from '../../helpers/ingestion-events.js';

function mixedBatch(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) =>
    i % 3 === 0
      ? envelope('span-create', {}, { id: `bad-${i}`, timestamp: 'not a time' })
      : envelope('span-create', { id: `s-${i}`, traceId: 't', name: 'n' }, { id: `ev-${i}`, timestamp: '2026-12-01T10:00:00.000Z' }),
  );
}

it('gives the same result as validateBatch for a large batch', async () => {
  const batch = mixedBatch(1000);
  expect(await validateBatchSliced(batch)).toEqual(validateBatch(batch));
});

it('yields between slices: other work runs while a large batch is validated', async () => {
  let clock = 0;
  // Every look at the clock is one millisecond later: a 1 ms slice yields at each look.
  const now = () => clock++;
  const batch = mixedBatch(SLICED_VALIDATION_ABOVE * 4);
  let interleaved = 0;
  const other = (async () => {
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      interleaved++;
    }
  })();
  const result = await validateBatchSliced(batch, undefined, { sliceMillis: 1, checkEvery: 16, now });
  // Counted before waiting for the other task: a validation that never yields leaves it at 0.
  const interleavedDuring = interleaved;
  await other;
  expect(result.accepted.length + result.rejected.length).toBe(batch.length);
  expect(interleavedDuring).toBeGreaterThan(5);
});

it('validates a small batch in one go', async () => {
  let looks = 0;
  const batch = mixedBatch(10);
  await validateBatchSliced(batch, undefined, { now: () => looks++ });
  expect(looks).toBe(0);
});
