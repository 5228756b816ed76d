// A typed SpanDraft builder for export tests: a finished CLIENT generation span under its root.
import type { SpanDraft } from '../../src/mapping/span-draft.js';

export function makeDraft(overrides: Partial<SpanDraft> = {}): SpanDraft {
  return {
    traceId: 'trace-1',
    span: { type: 'observation', id: 'gen-1' },
    parent: { type: 'root', traceId: 'trace-1' },
    name: 'chat gpt-4o',
    kind: 'CLIENT',
    startTimeUnixNano: 1737566350957072123n,
    endTimeUnixNano: 1737566352000000001n,
    attributes: { 'gen_ai.request.model': 'gpt-4o' },
    status: { code: 'UNSET' },
    resource: { 'service.name': 'litellm' },
    ...overrides,
  };
}
