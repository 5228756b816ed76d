// Exports drafts through a SpanSink in one attempt, the way a queue would carry them: each draft
// encoded, then all payloads sent together. For the sink tests, which have no queue in between.
import type { ExportOutcome } from '../../src/export/export-outcome.js';
import type { SpanSink } from '../../src/export/span-sink.js';
import type { SpanDraft } from '../../src/mapping/span-draft.js';

/** A draft that cannot be encoded is a `permanent` outcome, as the pipeline dead-letters it. */
export async function exportDrafts(sink: SpanSink, drafts: readonly SpanDraft[]): Promise<ExportOutcome> {
  let payloads: Uint8Array[];
  try {
    payloads = drafts.map((draft) => sink.encode(draft));
  } catch (error) {
    return { kind: 'permanent', reason: `could not encode spans: ${error instanceof Error ? error.message : String(error)}` };
  }
  return sink.send(payloads);
}
