// A queue sink that does not send while the store could not record the send (disk full, no reserve
// left): with the export queue a send is done only once `dequeue` removed its spans, and spans sent
// but still queued would go again (after a restart at the latest). It answers `retryable` instead,
// so the destination's export worker backs off and the spans stay queued until there is room.
// Owns nothing else; the real sink encodes and sends.
import type { QueueSink } from '../export/span-sink.js';

const WAIT_FOR_ROOM_MILLIS = 2000;

export function gateSinkOnStore(sink: QueueSink, canRecordExports: () => boolean): QueueSink {
  return {
    async send(payloads) {
      if (!canRecordExports()) {
        return { kind: 'retryable', reason: 'the store has no room to record exports (disk full)', retryAfterMillis: WAIT_FOR_ROOM_MILLIS };
      }
      return sink.send(payloads);
    },
    shutdown: () => sink.shutdown(),
  };
}
