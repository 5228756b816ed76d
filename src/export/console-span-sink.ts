// The `console` destination (and OTEL_TRACES_EXPORTER=console): span drafts printed as a readable
// tree, one block per trace of each export, so a new user sees the bridge work without a backend.
// Writes through the function it is given (stdout in production); never fails an export.
import type { DraftAttributeValue, SpanDraft, SpanRef } from '../mapping/span-draft.js';
import type { ExportOutcome } from './export-outcome.js';
import { toSpanId, toTraceId } from './ids.js';
import type { SpanSink } from './span-sink.js';
import { truncateString } from './to-readable-span.js';

export interface ConsoleSinkOptions {
  /** Where the text goes, e.g. `(text) => process.stdout.write(text)`. */
  write: (text: string) => void;
  /** OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT / attribute_value_length_limit. */
  attributeValueLengthLimit?: number;
  /** Longest value shown, in characters; longer ones end in `…`. @defaultValue 160 */
  maxValueChars?: number;
}

const DEFAULT_MAX_VALUE_CHARS = 160;
const NANOS_PER_MILLI = 1_000_000n;

/**
 * `encode(draft)` is a queueable payload (the draft as JSON, times as strings); `send(payloads)`
 * prints the tree of the drafts they hold.
 */
export function createConsoleSpanSink(options: ConsoleSinkOptions): SpanSink {
  let isShutDown = false;
  const print = async (drafts: readonly SpanDraft[]): Promise<ExportOutcome> => {
    if (isShutDown) return { kind: 'retryable', reason: 'the span sink is shut down' };
    if (drafts.length > 0) options.write(formatSpanTree(drafts, options));
    return { kind: 'success', rejectedSpans: 0 };
  };
  const sink = {
    encode: (draft: SpanDraft): Uint8Array => Buffer.from(JSON.stringify(draft, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))),
    send: (payloads: readonly Uint8Array[]): Promise<ExportOutcome> => print(payloads.map(decodePayload)),
    async shutdown() {
      isShutDown = true;
    },
  };
  return sink;
}

function decodePayload(payload: Uint8Array): SpanDraft {
  const draft = JSON.parse(Buffer.from(payload).toString('utf8')) as SpanDraft & { startTimeUnixNano: string; endTimeUnixNano: string };
  return { ...draft, startTimeUnixNano: BigInt(draft.startTimeUnixNano), endTimeUnixNano: BigInt(draft.endTimeUnixNano) };
}

/**
 * One block per trace: the trace id, then its spans nested under their parents, ordered by start.
 * A span whose parent is not in these drafts (the root is exported once the trace is idle, after
 * its observations) starts a tree of its own, with its parent's span id.
 */
export function formatSpanTree(drafts: readonly SpanDraft[], options: Omit<ConsoleSinkOptions, 'write'> = {}): string {
  const maxChars = options.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS;
  const limit = options.attributeValueLengthLimit;
  const byTrace = new Map<string, SpanDraft[]>();
  for (const draft of drafts) {
    const traceId = toTraceId(draft.traceId, draft.tenant);
    byTrace.set(traceId, [...(byTrace.get(traceId) ?? []), draft]);
  }
  const lines: string[] = [];
  for (const [traceId, spans] of byTrace) {
    const ids = new Set(spans.map((d) => toSpanId(d.span, d.tenant)));
    const children = new Map<string, SpanDraft[]>();
    const tops: SpanDraft[] = [];
    for (const draft of spans) {
      const parent = draft.parent ? toSpanId(draft.parent, draft.tenant) : undefined;
      if (parent !== undefined && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), draft]);
      else tops.push(draft);
    }
    const service = spans[0]?.resource['service.name'];
    lines.push(`trace ${traceId}${service !== undefined ? ` (${String(service)})` : ''}, langfuse trace ${spans[0]!.traceId}`);
    const walk = (list: SpanDraft[], indent: string): void => {
      const sorted = [...list].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
      sorted.forEach((draft, i) => {
        const last = i === sorted.length - 1;
        lines.push(`${indent}${last ? '└─ ' : '├─ '}${spanLine(draft)}`);
        const inner = `${indent}${last ? '   ' : '│  '}`;
        const kids = children.get(toSpanId(draft.span, draft.tenant)) ?? [];
        const attributeIndent = `${inner}${kids.length > 0 ? '│ ' : '  '}`;
        for (const [key, value] of Object.entries(draft.attributes).sort(([a], [b]) => (a < b ? -1 : 1))) {
          lines.push(`${attributeIndent}${key} = ${formatValue(value, limit, maxChars)}`);
        }
        walk(kids, inner);
      });
    };
    walk(tops, '');
  }
  return `${lines.join('\n')}\n`;
}

function spanLine(draft: SpanDraft): string {
  const millis = Number((draft.endTimeUnixNano - draft.startTimeUnixNano) / 1000n) / 1000;
  const start = new Date(Number(draft.startTimeUnixNano / NANOS_PER_MILLI)).toISOString();
  const status = draft.status.code === 'ERROR' ? `  ERROR${draft.status.message ? `: ${draft.status.message}` : ''}` : '';
  const parent = draft.parent ? `, parent ${toSpanId(draft.parent, draft.tenant)}${describeRef(draft.parent)}` : '';
  return `${draft.name}  [${draft.kind}]  ${start}  ${millis} ms  (span ${toSpanId(draft.span, draft.tenant)}${parent})${status}`;
}

function describeRef(ref: SpanRef): string {
  return ref.type === 'root' ? ' = root' : '';
}

/** The value as exported (cut at the attribute length limit), then shortened for the screen. */
function formatValue(value: DraftAttributeValue, limit: number | undefined, maxChars: number): string {
  const limited = limit === undefined ? value : typeof value === 'string' ? truncateString(value, limit) : value;
  const text = typeof limited === 'string' || Array.isArray(limited) ? JSON.stringify(limited) : String(limited);
  return text.length > maxChars ? `${truncateString(text, maxChars)}…` : text;
}
