// A readable text tree of span drafts (the `convert --format tree` output): one block per trace,
// children under their parent, times relative to the trace's first span. Pure.
import type { DraftAttributeValue, SpanDraft, SpanRef } from '../mapping/span-draft.js';

const refKey = (ref: SpanRef): string => (ref.type === 'root' ? `root:${ref.traceId}` : `${ref.type}:${ref.id}`);

/** Longest attribute value shown; the OTLP output keeps everything. */
const MAX_VALUE_CHARS = 160;

export function formatSpanTree(drafts: readonly SpanDraft[]): string {
  const byTrace = new Map<string, SpanDraft[]>();
  for (const draft of drafts) {
    const list = byTrace.get(draft.traceId) ?? [];
    list.push(draft);
    byTrace.set(draft.traceId, list);
  }
  const lines: string[] = [];
  for (const [traceId, spans] of byTrace) {
    const known = new Set(spans.map((s) => refKey(s.span)));
    const children = new Map<string, SpanDraft[]>();
    const tops: SpanDraft[] = [];
    for (const span of spans) {
      const parent = span.parent ? refKey(span.parent) : undefined;
      if (parent && known.has(parent)) children.set(parent, [...(children.get(parent) ?? []), span]);
      else tops.push(span);
    }
    const origin = spans.reduce((min, s) => (s.startTimeUnixNano < min ? s.startTimeUnixNano : min), spans[0]!.startTimeUnixNano);
    const resource = spans[0]!.resource;
    lines.push(`trace ${traceId}  (${Object.entries(resource).map(([k, v]) => `${k}=${String(v)}`).join(', ')})`);
    const walk = (span: SpanDraft, depth: number) => {
      const indent = '  '.repeat(depth + 1);
      const from = seconds(span.startTimeUnixNano - origin);
      const to = seconds(span.endTimeUnixNano - origin);
      const status = span.status.code === 'UNSET' ? '' : `  ${span.status.code}${span.status.message ? `: ${truncate(span.status.message)}` : ''}`;
      lines.push(`${indent}${span.name}  [${span.kind}]  +${from}s → +${to}s${status}`);
      for (const [key, value] of Object.entries(span.attributes).sort(([a], [b]) => (a < b ? -1 : 1))) {
        lines.push(`${indent}  · ${key} = ${formatValue(value)}`);
      }
      const own = (children.get(refKey(span.span)) ?? []).sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
      for (const child of own) walk(child, depth + 1);
    };
    for (const top of tops.sort((a, b) => (a.span.type === 'root' ? -1 : b.span.type === 'root' ? 1 : a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1))) walk(top, 0);
    lines.push('');
  }
  return lines.join('\n');
}

function seconds(nanos: bigint): string {
  return (Number(nanos) / 1e9).toFixed(3);
}

function truncate(text: string): string {
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length} chars)` : text;
}

function formatValue(value: DraftAttributeValue): string {
  return typeof value === 'string' ? JSON.stringify(truncate(value)) : JSON.stringify(value);
}
