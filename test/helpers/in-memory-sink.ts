// A SpanSink that keeps what it is given, and can be told to fail: the seam tests swap in for OTLP.
// Its queue payloads are the drafts as JSON (draft-codec), so tests read back whole drafts.
import type { ExportOutcome } from '../../src/export/export-outcome.js';
import type { SpanSink } from '../../src/export/span-sink.js';
import type { SpanDraft } from '../../src/mapping/span-draft.js';
import { decodeDrafts, encodeDrafts } from './draft-codec.js';

export interface InMemorySink extends SpanSink {
  readonly drafts: SpanDraft[];
  /** Attempts made, including failed ones. */
  attempts: number;
  /** The outcome of the next attempts; `success` keeps the drafts. */
  respondWith(outcome: ExportOutcome | ((drafts: readonly SpanDraft[]) => ExportOutcome)): void;
}

export function createInMemorySink(): InMemorySink {
  let respond: (drafts: readonly SpanDraft[]) => ExportOutcome = () => ({ kind: 'success', rejectedSpans: 0 });
  const sink: InMemorySink = {
    drafts: [],
    attempts: 0,
    respondWith(outcome) {
      respond = typeof outcome === 'function' ? outcome : () => outcome;
    },
    encode: (draft) => Buffer.from(encodeDrafts([draft])),
    async send(payloads) {
      sink.attempts++;
      const drafts = payloads.flatMap((p) => decodeDrafts(Buffer.from(p).toString('utf8')));
      const outcome = respond(drafts);
      if (outcome.kind === 'success') sink.drafts.push(...drafts);
      return outcome;
    },
    async shutdown() {},
  };
  return sink;
}
