// Span drafts as JSON text (the in-memory sink's queue payloads): bigint nanosecond times travel as decimal strings.
import type { SpanDraft } from '../../src/mapping/span-draft.js';

export function encodeDrafts(drafts: readonly SpanDraft[]): string {
  return JSON.stringify(drafts, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

export function decodeDrafts(text: string): SpanDraft[] {
  const raw = JSON.parse(text) as Array<Omit<SpanDraft, 'startTimeUnixNano' | 'endTimeUnixNano'> & { startTimeUnixNano: string; endTimeUnixNano: string }>;
  return raw.map((d) => ({ ...d, startTimeUnixNano: BigInt(d.startTimeUnixNano), endTimeUnixNano: BigInt(d.endTimeUnixNano) }));
}
