// Exports drafts through a SpanSink in one attempt, whichever generation of the seam it has:
// `export(drafts)`, or `encode`/`send` (the durable export queue's). Lets these tests run on
// both sides of that change; once only `encode`/`send` is left, `exportDrafts` in span-sink.ts
// does the same.
import type { ExportOutcome } from '../../src/export/export-outcome.js';
import type { SpanSink } from '../../src/export/span-sink.js';
import type { SpanDraft } from '../../src/mapping/span-draft.js';

type EitherSink = {
  export?: (drafts: readonly SpanDraft[]) => Promise<ExportOutcome>;
  encode?: (draft: SpanDraft) => Uint8Array;
  send?: (payloads: readonly Uint8Array[]) => Promise<ExportOutcome>;
};

export function exportThrough(sink: SpanSink, drafts: readonly SpanDraft[]): Promise<ExportOutcome> {
  const either = sink as unknown as EitherSink;
  if (either.encode && either.send) return either.send(drafts.map((draft) => either.encode!(draft)));
  return either.export!(drafts);
}
