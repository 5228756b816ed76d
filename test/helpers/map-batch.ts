// Maps one ingestion body (`{batch, metadata}`) to span drafts offline, through the same stages
// the `convert` command runs: validation, assembly's merge rules, mapRecord.
import { toOfflineRecords } from '../../src/cli/offline-records.js';
import { mapRecord } from '../../src/mapping/apply-mapping.js';
import { compileMapping, type CompileOptions } from '../../src/mapping/compile-mapping.js';
import { loadMapping } from '../../src/mapping/load-mapping.js';
import type { SpanDraft } from '../../src/mapping/span-draft.js';

export function mapBatch(body: unknown, mappingName = 'genai', options: Partial<CompileOptions> = {}): SpanDraft[] {
  const mapping = compileMapping(loadMapping(mappingName), { captureContent: true, ...options });
  const { records, rejected } = toOfflineRecords(body);
  if (rejected.length > 0) throw new Error(`test batch has invalid events: ${JSON.stringify(rejected)}`);
  return records.map((record) => mapRecord(mapping, record));
}

export const spanOfObservation = (drafts: SpanDraft[], id: string): SpanDraft => {
  const draft = drafts.find((d) => d.span.type === 'observation' && d.span.id === id);
  if (!draft) throw new Error(`no span for observation ${id}`);
  return draft;
};

export const rootSpan = (drafts: SpanDraft[]): SpanDraft => {
  const draft = drafts.find((d) => d.span.type === 'root');
  if (!draft) throw new Error('no root span');
  return draft;
};
