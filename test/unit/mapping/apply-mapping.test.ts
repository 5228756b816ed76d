// apply-mapping.ts: one CompletedRecord to one SpanDraft with a compiled mapping. Each record kind
// becomes its span: an observation under its trace's root, the root itself, a score as a span
// under its trace (where no scores API takes it), a passed-through OTLP span unchanged.
import { describe, expect, it } from 'vitest';
import type { CompletedPassthrough } from '../../../src/assembly/completed-record.js';
import { mapRecord } from '../../../src/mapping/apply-mapping.js';
import { compileDestinationMapping } from '../../../src/mapping/destination-mappings.js';
import { makeDraft } from '../../helpers/make-draft.js';
import { observationRecord, rootRecord, scoreRecord } from '../../helpers/records.js';

const GENAI = compileDestinationMapping({ name: 'd', mapping: 'genai', captureContent: true });
const LANGFUSE = compileDestinationMapping({ name: 'd', mapping: 'langfuse', captureContent: true });

describe('mapRecord', () => {
  it('maps an observation under its root, with its times', () => {
    const draft = mapRecord(GENAI, observationRecord());
    expect(draft).toMatchObject({
      traceId: 'trace-1',
      span: { type: 'observation', id: 'gen-1' },
      parent: { type: 'root', traceId: 'trace-1' },
      startTimeUnixNano: 1737566350957072000n,
      endTimeUnixNano: 1737566351234200000n,
    });
    expect(draft.attributes).toHaveProperty('gen_ai.input.messages');
  });

  it('maps the root over its observations’ time range, named after its trace', () => {
    const draft = mapRecord(GENAI, rootRecord());
    expect(draft).toMatchObject({ traceId: 'trace-1', span: { type: 'root', traceId: 'trace-1' }, name: 'chat' });
    expect(draft.parent).toBeUndefined();
    expect(draft.endTimeUnixNano).toBe(1737566351234200000n);
  });

  it('maps a score as a span of its trace, and each mapping its own way', () => {
    const genai = mapRecord(GENAI, scoreRecord());
    expect(genai.traceId).toBe('trace-1');
    expect(genai.startTimeUnixNano).toBe(1737566351234200000n);
    const langfuse = mapRecord(LANGFUSE, observationRecord());
    expect(langfuse.attributes).toMatchObject({ 'langfuse.observation.type': 'generation', 'user.id': 'u-1' });
  });

  it('returns a passed-through span unchanged', () => {
    const record: CompletedPassthrough = {
      kind: 'passthrough',
      span: makeDraft({ span: { type: 'observation', id: 'b7ad6b7169203331' }, attributes: { 'db.system': 'postgresql' } }) as unknown as CompletedPassthrough['span'],
    };
    expect(mapRecord(GENAI, record)).toBe(record.span);
  });
});
