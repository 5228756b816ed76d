// The `console` destination (and OTEL_TRACES_EXPORTER=console): span drafts printed as a readable
// tree, one tree per trace, so a new user sees the bridge work without a backend.
// The root of a trace is exported once the trace is idle, after its observations were queued, so
// the sink holds a trace's spans until its top span (one without parent) arrives, then prints them
// all at once, each once. The hold is bounded: a trace whose top does not come within
// `holdMillis`, and the oldest traces when more than `maxHeldBytes` are held, are printed as they
// are (a span whose parent is missing starts a tree of its own, naming its parent). Spans held
// here are already acknowledged to the export queue: a crash loses them from the terminal only.
// Writes through the function it is given (stdout in production); never fails an export.
import { systemClock, type Clock } from '../clock.js';
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
  /** Timers for the hold. @defaultValue systemClock */
  clock?: Clock;
  /** How long a trace's spans wait for its top span. @defaultValue 60_000 */
  holdMillis?: number;
  /** Most encoded bytes held for all traces together; past it the oldest trace is printed. @defaultValue 8 MiB */
  maxHeldBytes?: number;
}

const DEFAULT_MAX_VALUE_CHARS = 160;
const DEFAULT_HOLD_MILLIS = 60_000;
const DEFAULT_MAX_HELD_BYTES = 8 * 1024 * 1024;
/** Traces already printed, remembered so that a late span prints at once instead of waiting. */
const PRINTED_TRACES_REMEMBERED = 1024;

interface HeldTrace {
  payloads: Uint8Array[];
  bytes: number;
  cancel: () => void;
}
const NANOS_PER_MILLI = 1_000_000n;

/**
 * `encode(draft)` is a queueable payload (the draft as JSON, times as strings); `send(payloads)`
 * prints the tree of the drafts they hold.
 */
export function createConsoleSpanSink(options: ConsoleSinkOptions): SpanSink {
  const clock = options.clock ?? systemClock;
  const holdMillis = options.holdMillis ?? DEFAULT_HOLD_MILLIS;
  const maxHeldBytes = options.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
  const held = new Map<string, HeldTrace>();
  const printed = new Set<string>();
  let heldBytes = 0;
  let isShutDown = false;

  const write = (drafts: readonly SpanDraft[]) => {
    if (drafts.length > 0) options.write(formatSpanTree(drafts, options));
  };
  /** Takes a trace out of the hold: its spans, decoded. */
  const release = (traceId: string): SpanDraft[] => {
    const trace = held.get(traceId);
    if (!trace) return [];
    held.delete(traceId);
    heldBytes -= trace.bytes;
    trace.cancel();
    return trace.payloads.map(decodePayload);
  };
  const remember = (traceId: string) => {
    printed.add(traceId);
    if (printed.size > PRINTED_TRACES_REMEMBERED) printed.delete(printed.values().next().value!);
  };
  /** Prints a trace's held spans without their top (it did not come in time, or memory is short). */
  const flush = (traceId: string) => {
    write(release(traceId));
    remember(traceId);
  };

  const print = async (payloads: readonly Uint8Array[]): Promise<ExportOutcome> => {
    if (isShutDown) return { kind: 'retryable', reason: 'the span sink is shut down' };
    const byTrace = new Map<string, { drafts: SpanDraft[]; payloads: Uint8Array[] }>();
    for (const payload of payloads) {
      const draft = decodePayload(payload);
      const traceId = toTraceId(draft.traceId);
      const group = byTrace.get(traceId) ?? { drafts: [], payloads: [] };
      group.drafts.push(draft);
      group.payloads.push(payload);
      byTrace.set(traceId, group);
    }
    const now: SpanDraft[] = [];
    for (const [traceId, group] of byTrace) {
      if (printed.has(traceId)) {
        now.push(...group.drafts);
      } else if (group.drafts.some((d) => d.parent === undefined)) {
        now.push(...release(traceId), ...group.drafts);
        remember(traceId);
      } else {
        const trace = held.get(traceId) ?? { payloads: [], bytes: 0, cancel: clock.setTimer(() => flush(traceId), holdMillis) };
        for (const payload of group.payloads) {
          trace.payloads.push(payload);
          trace.bytes += payload.byteLength;
          heldBytes += payload.byteLength;
        }
        held.set(traceId, trace);
      }
    }
    write(now);
    // Over the budget: the oldest traces are printed as they are.
    for (const traceId of held.keys()) {
      if (heldBytes <= maxHeldBytes) break;
      flush(traceId);
    }
    return { kind: 'success', rejectedSpans: 0 };
  };
  const sink = {
    encode: encodeDraft,
    send: print,
    async shutdown() {
      if (isShutDown) return;
      isShutDown = true;
      for (const traceId of [...held.keys()]) write(release(traceId));
    },
  };
  return sink;
}

function encodeDraft(draft: SpanDraft): Uint8Array {
  return Buffer.from(JSON.stringify(draft, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)));
}

function decodePayload(payload: Uint8Array): SpanDraft {
  const draft = JSON.parse(Buffer.from(payload).toString('utf8')) as SpanDraft & { startTimeUnixNano: string; endTimeUnixNano: string };
  return { ...draft, startTimeUnixNano: BigInt(draft.startTimeUnixNano), endTimeUnixNano: BigInt(draft.endTimeUnixNano) };
}

/**
 * One block per trace: the trace id, then its spans nested under their parents, ordered by start.
 * A span whose parent is not in these drafts starts a tree of its own, with its parent's span id.
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
    // A span whose parent was never sent (LiteLLM's `parent_observation_id` names one it never
    // sends) is shown under the trace's root, marked, rather than beside it.
    const root = spans.find((d) => d.parent === undefined);
    const rootId = root ? toSpanId(root.span, root.tenant) : undefined;
    const children = new Map<string, SpanDraft[]>();
    const tops: SpanDraft[] = [];
    for (const draft of spans) {
      const parent = draft.parent ? toSpanId(draft.parent, draft.tenant) : undefined;
      const under = parent !== undefined && ids.has(parent) ? parent : parent !== undefined ? rootId : undefined;
      if (under !== undefined) children.set(under, [...(children.get(under) ?? []), draft]);
      else tops.push(draft);
    }
    const service = spans[0]?.resource['service.name'];
    lines.push(`trace ${traceId}${service !== undefined ? ` (${String(service)})` : ''}, langfuse trace ${spans[0]!.traceId}`);
    const walk = (list: SpanDraft[], indent: string): void => {
      const sorted = [...list].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
      sorted.forEach((draft, i) => {
        const last = i === sorted.length - 1;
        lines.push(`${indent}${last ? '└─ ' : '├─ '}${spanLine(draft, ids)}`);
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

function spanLine(draft: SpanDraft, shown: ReadonlySet<string>): string {
  const millis = Number((draft.endTimeUnixNano - draft.startTimeUnixNano) / 1000n) / 1000;
  const start = new Date(Number(draft.startTimeUnixNano / NANOS_PER_MILLI)).toISOString();
  const status = draft.status.code === 'ERROR' ? `  ERROR${draft.status.message ? `: ${draft.status.message}` : ''}` : '';
  const parentId = draft.parent ? toSpanId(draft.parent, draft.tenant) : undefined;
  const parent = draft.parent ? `, parent ${parentId}${describeRef(draft.parent)}${shown.has(parentId!) ? '' : ', not sent'}` : '';
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
