// store-gated-sink.ts: no send while the store could not record it (disk full): the worker gets a
// retryable outcome and backs off, and the spans stay queued; with room, sends go through.
import { expect, it } from 'vitest';
import { gateSinkOnStore } from '../../../src/pipeline/store-gated-sink.js';
import { createInMemorySink } from '../../helpers/in-memory-sink.js';
import { makeDraft } from '../../helpers/make-draft.js';

it('holds sends while the store has no room to record them', async () => {
  const sink = createInMemorySink();
  let room = false;
  const gated = gateSinkOnStore(sink, () => room);
  const payload = sink.encode(makeDraft());
  expect(await gated.send([payload])).toMatchObject({ kind: 'retryable', retryAfterMillis: 2000 });
  expect(sink.attempts).toBe(0);
  room = true;
  expect(await gated.send([payload])).toEqual({ kind: 'success', rejectedSpans: 0 });
  expect(sink.drafts).toHaveLength(1);
});
