/**
 * Reading a GenAI span tree from Jaeger as facts: the message attributes as parsed JSON, and a
 * flat `fact → value` list (span names, kinds, parent shape, model, provider, tokens, cost,
 * messages, status, trace attributes) that two trees of the same LiteLLM call can be compared
 * on, whichever path (ingestion or OTLP) they came through.
 */
import { expect } from 'vitest';
import { KIND_LABEL as KIND, SpanKind, StatusCode, jsonAttr, type AttrValue, type FlatSpan } from './otlp.js';

export interface GenAiMessage {
  role: string;
  parts: Array<Record<string, unknown>>;
}

/** gen_ai.input.messages / gen_ai.output.messages: a JSON array of {role, parts[]}. */
export function expectMessages(value: unknown, tree: string): GenAiMessage[] {
  const parsed = jsonAttr(value as AttrValue);
  expect(Array.isArray(parsed), `messages are a JSON array: ${String(value)}\n${tree}`).toBe(true);
  const msgs = parsed as GenAiMessage[];
  for (const m of msgs) {
    expect(typeof m.role).toBe('string');
    expect(Array.isArray(m.parts)).toBe(true);
  }
  return msgs;
}

/** The tool call a LiteLLM scenario mocked (litellm_scenarios.py `tools`), as a tool_call part of the output. */
export function expectToolCallPart(outputMessages: unknown, toolCall: { id: string; name: string; arguments: string }, tree: string): void {
  const parts = expectMessages(outputMessages, tree).flatMap((m) => m.parts);
  const call = parts.find((p) => p.type === 'tool_call');
  expect(call, tree).toBeDefined();
  expect(call!.id).toBe(toolCall.id);
  expect(call!.name).toBe(toolCall.name);
  const args = typeof call!.arguments === 'string' ? JSON.parse(call!.arguments) : call!.arguments;
  expect(args).toEqual(JSON.parse(toolCall.arguments));
}

const TRACE_KEYS = [
  'langfuse.trace.name',
  'user.id',
  'session.id',
  'langfuse.trace.tags',
  'langfuse.trace.metadata.team',
  'langfuse.trace.input',
  'langfuse.trace.output',
];
const GENERATION_KEYS = [
  'gen_ai.operation.name',
  'gen_ai.request.model',
  'gen_ai.provider.name',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.cost',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.tool.definitions',
  'gen_ai.system_instructions',
  'gen_ai.request.temperature',
  'gen_ai.request.max_tokens',
  'gen_ai.request.stream',
  'gen_ai.response.model',
  // gen_ai.response.id is compared by presence only ("has …"): each mock call gets a new one.
  'gen_ai.response.finish_reasons',
  'langfuse.observation.name',
  'langfuse.observation.level',
  'error.type',
];

function byStart(a: FlatSpan, b: FlatSpan): number {
  return a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.name.localeCompare(b.name);
}

/** Printable value; numbers to 12 significant digits (0.000225 and 0.00022500000000000002 are one cost). */
function show(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'number') return String(Number(v.toPrecision(12)));
  const parsed = jsonAttr(v as AttrValue);
  return typeof parsed === 'string' ? parsed : JSON.stringify(parsed);
}

/**
 * The comparable facts of one trace, as `fact name → printable value`. Generations (CLIENT
 * spans) are numbered in start order; a span's parent is named by the parent's name and kind
 * (or "none"), so that ids, which differ by design between the paths, do not count.
 */
export function traceFacts(spans: FlatSpan[]): Map<string, string> {
  const facts = new Map<string, string>();
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const label = (s: FlatSpan | undefined): string => (s === undefined ? 'none' : `${KIND[s.kind] ?? s.kind} "${s.name}"`);
  const sorted = [...spans].sort(byStart);
  facts.set('span count', String(spans.length));
  facts.set('span tree', sorted.map((s) => `${label(s)} < ${label(byId.get(s.parentSpanId))}`).join('; '));
  const root = sorted.find((s) => s.parentSpanId === '' || !byId.has(s.parentSpanId));
  facts.set('root span', label(root));
  facts.set('service.name', show(root?.resource['service.name']));
  for (const key of TRACE_KEYS) {
    const carriers = sorted.filter((s) => key in s.attributes);
    facts.set(`trace ${key}`, show(carriers[0]?.attributes[key]));
    facts.set(`trace ${key} on`, carriers.map(label).join(', ') || '—');
  }
  sorted
    .filter((s) => s.kind === SpanKind.CLIENT)
    .forEach((g, i) => {
      const p = `generation ${i + 1}`;
      facts.set(`${p} name`, g.name);
      facts.set(`${p} kind`, KIND[g.kind] ?? String(g.kind));
      facts.set(`${p} parent`, label(byId.get(g.parentSpanId)));
      for (const key of GENERATION_KEYS) facts.set(`${p} ${key}`, show(g.attributes[key]));
      facts.set(`${p} time_to_first_chunk`, 'gen_ai.response.time_to_first_chunk' in g.attributes ? 'present' : '—');
      facts.set(`${p} status`, g.status.code === StatusCode.ERROR ? `ERROR ${g.status.message}` : g.status.code === StatusCode.OK ? 'OK' : 'UNSET');
      // Which attributes there are at all (values of the keys above are compared already).
      // Not Jaeger's own `@jaeger@warnings` (its clock-skew notes depend on the other spans' timing).
      for (const key of Object.keys(g.attributes).sort()) if (!key.startsWith('@jaeger@')) facts.set(`${p} has ${key}`, 'yes');
    });
  return facts;
}

export interface FactDifference {
  fact: string;
  legacy: string;
  current: string;
}

/** The facts whose values differ between two trees (a fact missing on one side shows as —). */
export function diffFacts(legacy: Map<string, string>, current: Map<string, string>): FactDifference[] {
  const keys = [...new Set([...legacy.keys(), ...current.keys()])];
  return keys
    .map((fact) => ({ fact, legacy: legacy.get(fact) ?? '—', current: current.get(fact) ?? '—' }))
    .filter((d) => d.legacy !== d.current);
}
