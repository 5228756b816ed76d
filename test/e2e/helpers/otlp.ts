/**
 * Decoding of OTLP JSON (as returned by Jaeger's /api/v3/traces/{id}) into flat span records
 * that are easy to assert on, plus the ids the bridge contract promises.
 */
import { createHash } from 'node:crypto';

export type AttrValue = string | number | boolean | null | AttrValue[] | { [k: string]: AttrValue };

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: OtlpKeyValue[];
  events?: Array<{ name: string; timeUnixNano?: string; attributes?: OtlpKeyValue[] }>;
  links?: unknown[];
  status?: { code?: number | string; message?: string };
}
export interface OtlpTracesData {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string; version?: string }; spans?: OtlpSpan[] }>;
  }>;
}

export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface FlatSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  scope: string | undefined;
  status: { code: number; message: string };
  events: Array<{ name: string; attributes: Record<string, AttrValue> }>;
}

function decodeValue(v: OtlpAnyValue | undefined): AttrValue {
  if (v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(decodeValue);
  if (v.kvlistValue !== undefined) return decodeAttributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

export function decodeAttributes(kvs: OtlpKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = decodeValue(kv.value);
  return out;
}

const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

function enumValue(v: number | string | undefined, names: Record<string, number>): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return names[v] ?? Number(v);
}

export function flattenTraces(data: OtlpTracesData): FlatSpan[] {
  const spans: FlatSpan[] = [];
  for (const rs of data.resourceSpans ?? []) {
    const resource = decodeAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId.toLowerCase(),
          spanId: s.spanId.toLowerCase(),
          parentSpanId: (s.parentSpanId ?? '').toLowerCase(),
          name: s.name,
          kind: enumValue(s.kind as number | string | undefined, KIND_NAMES),
          startNs: BigInt(s.startTimeUnixNano ?? '0'),
          endNs: BigInt(s.endTimeUnixNano ?? '0'),
          attributes: decodeAttributes(s.attributes),
          resource,
          scope: ss.scope?.name,
          status: { code: enumValue(s.status?.code, STATUS_NAMES), message: s.status?.message ?? '' },
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: decodeAttributes(e.attributes) })),
        });
      }
    }
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Ids promised by the bridge (DESIGN.md §4 "Ids").
// ---------------------------------------------------------------------------------------------
const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** OTel trace id for a Langfuse trace id. */
export function otelTraceId(langfuseTraceId: string): string {
  if (HEX32.test(langfuseTraceId)) return langfuseTraceId.toLowerCase();
  if (UUID.test(langfuseTraceId)) return langfuseTraceId.replace(/-/g, '').toLowerCase();
  return sha256Hex('trace:' + langfuseTraceId).slice(0, 32);
}

/** Span id of a trace's root span. */
export function rootSpanId(langfuseTraceId: string): string {
  return sha256Hex('root:' + langfuseTraceId).slice(0, 16);
}

/** Span id of an observation. */
export function observationSpanId(observationId: string): string {
  if (HEX16.test(observationId)) return observationId.toLowerCase();
  return sha256Hex('span:' + observationId).slice(0, 16);
}

/** Span id of a score. */
export function scoreSpanId(scoreId: string): string {
  return sha256Hex('score:' + scoreId).slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Tree rendering (for failure messages and the run log).
// ---------------------------------------------------------------------------------------------
export const KIND_LABEL = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const DEFAULT_KEYS = [
  'langfuse.trace.id',
  'gen_ai.operation.name',
  'gen_ai.request.model',
  'gen_ai.provider.name',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.cost',
  'gen_ai.response.time_to_first_chunk',
  'gen_ai.evaluation.name',
  'gen_ai.evaluation.score.value',
  'user.id',
  'session.id',
  'error.type',
];

/** An indented text tree of the spans: name [KIND] id status {key attributes}. */
export function renderTree(spans: FlatSpan[], keys: string[] = DEFAULT_KEYS): string {
  const byParent = new Map<string, FlatSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    const p = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : '';
    const arr = byParent.get(p) ?? [];
    arr.push(s);
    byParent.set(p, arr);
  }
  const lines: string[] = [];
  const t0 = spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), spans[0]?.startNs ?? 0n);
  const ms = (ns: bigint): string => (Number(ns) / 1e6).toFixed(3);
  const walk = (parent: string, depth: number): void => {
    const children = (byParent.get(parent) ?? []).sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
    for (const s of children) {
      const attrs = keys.filter((k) => k in s.attributes).map((k) => `${k}=${JSON.stringify(s.attributes[k])}`);
      const status = s.status.code === StatusCode.ERROR ? ` ERROR(${JSON.stringify(s.status.message)})` : '';
      const orphan = s.parentSpanId && !ids.has(s.parentSpanId) ? ` (parent ${s.parentSpanId} missing)` : '';
      lines.push(
        `${'  '.repeat(depth)}- ${s.name} [${KIND_LABEL[s.kind] ?? s.kind}] ${s.spanId} @+${ms(s.startNs - t0)}ms/${ms(s.endNs - s.startNs)}ms${status}${orphan} service=${String(s.resource['service.name'])} {${attrs.join(', ')}}`,
      );
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}

/** Parse an attribute holding JSON (e.g. gen_ai.input.messages); arrays/objects pass through. */
export function jsonAttr(value: AttrValue | undefined): unknown {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** Nanoseconds since the epoch of an ISO 8601 timestamp, keeping every fractional digit. */
export function isoToNs(iso: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/i.exec(iso);
  if (m === null) throw new Error(`not an ISO timestamp: ${iso}`);
  const wholeMs = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(wholeMs)) throw new Error(`not an ISO timestamp: ${iso}`);
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  return BigInt(wholeMs) * 1_000_000n + BigInt(frac);
}
