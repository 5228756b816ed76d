// A SpanSink that does not export while the store could not record the export (disk full, no
// reserve left): a span sent then could not be marked exported and would be sent again after a
// restart. It answers `retryable` instead, so the export worker backs off and the spans stay
// pending until there is room. Owns nothing else; the real sink does the exporting.
import type { SpanSink } from '../export/span-sink.js';

const WAIT_FOR_ROOM_MILLIS = 2000;

export function gateSinkOnStore(sink: SpanSink, canRecordExports: () => boolean): SpanSink {
  return {
    async export(drafts) {
      if (!canRecordExports()) {
        return { kind: 'retryable', reason: 'the store has no room to record exports (disk full)', retryAfterMillis: WAIT_FOR_ROOM_MILLIS };
      }
      return sink.export(drafts);
    },
    shutdown: () => sink.shutdown(),
  };
}
