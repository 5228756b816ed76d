// Compiles a resolved mapping file into plain functions, once at startup: paths are split,
// types resolved, content rules dropped when content capture is off. Pure.
import type { DraftAttributes, DraftAttributeValue, DraftSpanKind, DraftStatus } from './span-draft.js';
import type { ResolvedMapping } from './load-mapping.js';
import type { AttributeRuleConfig, ObservationTypeKey, SpanRuleConfig } from './mapping-schema.js';
import { compileProviderInference, type ProviderInference } from './provider-inference.js';
import { Derived, type DerivedTable, type RecordView } from './record-view.js';

export interface SpanShape {
  name: string;
  kind: DraftSpanKind;
  attributes: DraftAttributes;
  status: DraftStatus;
}

export type ShapeFn = (view: RecordView) => SpanShape;

export interface CompiledMapping {
  root: ShapeFn;
  observation: (type: ObservationTypeKey, view: RecordView) => SpanShape;
  score: ShapeFn;
  inferProvider: ProviderInference;
  /** Estimate costs from usage when the client sent none (absent: no estimates). */
  estimateCost?: boolean;
  sources: string[];
}

export interface CompileOptions {
  captureContent: boolean;
  /** BRIDGE_ESTIMATE_COST; default true. */
  estimateCost?: boolean;
  /**
   * False: attributes are added key by key, as in a process that forbids code generation from
   * strings (see {@link compileAttributeBuilder}); the same attributes either way. Default true.
   */
  generateCode?: boolean;
}

type Getter = (view: RecordView) => unknown;
type AttributeWriter = (view: RecordView, out: DraftAttributes) => void;

/**
 * One attribute rule: either one value under its fixed key (absent: undefined), or, for a
 * flattening rule, a writer that puts a variable set of keys into the attributes itself.
 */
type CompiledAttribute =
  | { key: string; value: (view: RecordView) => DraftAttributeValue | undefined; write?: undefined }
  | { key: string; write: AttributeWriter };

export function compileMapping(mapping: ResolvedMapping, options: CompileOptions): CompiledMapping {
  const spans = mapping.spans ?? {};
  const base = spans.observation ?? {};
  const byType = new Map<string, ShapeFn>();
  const compileType = (type: ObservationTypeKey): ShapeFn => {
    let fn = byType.get(type);
    if (!fn) {
      const own = spans.types?.[type] ?? {};
      fn = compileSpanRule(
        {
          kind: own.kind ?? base.kind,
          name: own.name ?? base.name,
          status: own.status ?? base.status,
          attributes: { ...base.attributes, ...own.attributes },
        },
        options,
        type,
      );
      byType.set(type, fn);
    }
    return fn;
  };
  return {
    root: compileSpanRule(spans.root ?? {}, options, 'trace'),
    observation: (type, view) => compileType(type)(view),
    score: compileSpanRule(spans.score ?? {}, options, 'score'),
    inferProvider: compileProviderInference(mapping.providers),
    estimateCost: options.estimateCost ?? true,
    sources: mapping.sources,
  };
}

function compileSpanRule(rule: SpanRuleConfig, options: CompileOptions, fallbackName: string): ShapeFn {
  const kind = rule.kind ?? 'INTERNAL';
  const names = (rule.name ?? []).map(compileTemplate);
  const buildAttributes = compileAttributeBuilder(
    Object.entries(rule.attributes ?? {})
      .filter((entry): entry is [string, Exclude<AttributeRuleConfig, null>] => entry[1] !== null)
      .filter(([, r]) => options.captureContent || typeof r === 'string' || !r.content)
      .map(([key, r]) => compileAttribute(key, r)),
    options.generateCode ?? true,
  );
  const errorWhen = rule.status ? { get: compilePath(rule.status.error_when.from), equals: rule.status.error_when.equals } : undefined;
  const message = rule.status?.message ? compilePath(rule.status.message) : undefined;
  return (view) => {
    const attributes = buildAttributes(view);
    let status: DraftStatus = { code: 'UNSET' };
    if (errorWhen && errorWhen.get(view) === errorWhen.equals) {
      const text = message?.(view);
      status = { code: 'ERROR', ...(typeof text === 'string' && text ? { message: text } : {}) };
    }
    let name: string | undefined;
    for (const template of names) {
      name = template(view);
      if (name) break;
    }
    return { name: name ?? fallbackName, kind, attributes, status };
  };
}

/** `{path}` placeholders; the template fails (undefined) when one has no non-empty value. */
function compileTemplate(template: string): (view: RecordView) => string | undefined {
  const pieces = template.split(/(\{[^}]+\})/).filter((p) => p !== '');
  const parts = pieces.map((p) => (p.startsWith('{') && p.endsWith('}') ? compilePath(p.slice(1, -1).trim()) : p));
  return (view) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else {
        const value = part(view);
        if ((typeof value !== 'string' && typeof value !== 'number') || value === '') return undefined;
        out += String(value);
      }
    }
    return out;
  };
}

function compilePath(path: string): Getter {
  const segments = path.split('.');
  const steps = segments.map(compileStep);
  if (steps.length === 1) return steps[0]!;
  if (steps.length === 2) {
    // Most paths: a field of the view (`obs`, `trace`, `derived`), then one of its fields. The
    // first step is written out here, one call fewer per path and record.
    const head = segments[0]!;
    const second = steps[1]!;
    return (view) => second(Object.prototype.hasOwnProperty.call(view, head) ? view[head] : undefined);
  }
  return (view) => {
    let current: unknown = view;
    for (const step of steps) current = step(current);
    return current;
  };
}

type Step = (current: unknown) => unknown;

/** One segment of a path: an own property of an object, or a derived value. */
function compileStep(segment: string): Step {
  // The derived value's number in the table last seen: a view's table is one of a few, fixed.
  let table: DerivedTable<unknown> | undefined;
  let index: number | undefined;
  return (current) => {
    if (current instanceof Derived) {
      if (current.table !== table) {
        table = current.table;
        index = table.index.get(segment);
      }
      return index === undefined ? undefined : current.at(index);
    }
    if (current === null || typeof current !== 'object') return undefined;
    // Own properties only: a path can never walk into a prototype.
    return Object.prototype.hasOwnProperty.call(current, segment) ? (current as Record<string, unknown>)[segment] : undefined;
  };
}

/**
 * One function that builds a span's attributes, with the rule's keys written into its code as
 * literals. Why: V8 turns an object into a slow dictionary once more than ~16 properties were
 * added under computed keys (`out[key] = value`), which a generation's ~30 attributes always did;
 * added under literal keys it stays a fast object whose key list V8 keeps. Measured (Node 20,
 * one core): 36 keys added then listed and read, 0.95 µs per object key by key, 0.48 µs with
 * literal keys; the mapping of bench/map-encode.mjs's LiteLLM records, 8.9-9.1 µs per record
 * before, 7.3 after (means of 10 rounds, runs alternated), payload digest unchanged. Keys are JSON
 * string literals (valid JavaScript whatever the key); a process that forbids code from strings
 * gets the loop below, with the same attributes (a test compares the two over the corpus).
 */
function compileAttributeBuilder(attributes: CompiledAttribute[], generateCode: boolean): (view: RecordView) => DraftAttributes {
  if (generateCode) {
    const fns = attributes.map((a) => a.write ?? a.value);
    const lines = attributes.map((a, i) =>
      a.write ? `f${i}(view, out);` : `v = f${i}(view); if (v !== undefined) out[${JSON.stringify(a.key)}] = v;`,
    );
    try {
      const factory = new Function(
        ...fns.map((_, i) => `f${i}`),
        `'use strict'; return function buildAttributes(view) { const out = {}; let v; ${lines.join(' ')} return out; };`,
      ) as (...fns: unknown[]) => (view: RecordView) => DraftAttributes;
      return factory(...fns);
    } catch (error) {
      // --disallow-code-generation-from-strings: built key by key below. Anything else is a bug here.
      if (!(error instanceof EvalError)) throw error;
    }
  }
  return (view) => {
    const out: DraftAttributes = {};
    for (const a of attributes) {
      if (a.write) a.write(view, out);
      else {
        const value = a.value(view);
        if (value !== undefined) out[a.key] = value;
      }
    }
    return out;
  };
}

function compileAttribute(key: string, rule: Exclude<AttributeRuleConfig, null>): CompiledAttribute {
  const spec = typeof rule === 'string' ? { from: rule } : rule;
  const read: Getter = spec.from !== undefined ? compilePath(spec.from) : () => spec.value;
  const table = spec.map ? new Map(Object.entries(spec.map)) : undefined;
  const get: Getter = table
    ? (view) => {
        const value = read(view);
        return typeof value === 'string' ? (table.get(value) ?? value) : value;
      }
    : read;
  const coerce = coercer(spec.type);
  const skip = new Set(spec.skip_values ?? []);
  if (spec.flatten) {
    // The flattened keys a client sends are mostly the same few: each is joined once, so that
    // the same string (its hash already computed) goes on to the span and the encoder's key table.
    const joined = new Map<string, string>();
    const joinedKey = (k: string): string => {
      let full = joined.get(k);
      if (full === undefined) {
        if (joined.size >= MAX_JOINED_KEYS) joined.clear();
        joined.set(k, (full = `${key}.${k}`));
      }
      return full;
    };
    return {
      key,
      write: (view, out) => {
        const value = get(view);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          const single = coerce(value);
          if (single !== undefined && !skip.has(single as never)) out[key] = single;
          return;
        }
        for (const [k, v] of Object.entries(value)) {
          const coerced = coerceFlattened(v);
          if (coerced !== undefined) out[joinedKey(k)] = coerced;
        }
      },
    };
  }
  if (skip.size === 0) return { key, value: (view) => coerce(get(view)) };
  return {
    key,
    value: (view) => {
      const value = coerce(get(view));
      return value === undefined || (typeof value !== 'object' && skip.has(value)) ? undefined : value;
    },
  };
}

/** Flattened keys joined and kept per flattening rule; the table starts over past this. */
const MAX_JOINED_KEYS = 256;

/** Flattened values: primitives as they are, anything nested as JSON text. */
function coerceFlattened(value: unknown): DraftAttributeValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return safeJson(value);
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function coercer(type: Exclude<AttributeRuleConfig, null | string>['type']): (value: unknown) => DraftAttributeValue | undefined {
  switch (type) {
    case 'string':
      return (v) => (v === null || v === undefined ? undefined : typeof v === 'string' ? v : typeof v === 'object' ? safeJson(v) : String(v));
    case 'int':
      return (v) => {
        const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
        return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
      };
    case 'double':
      return (v) => {
        const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
        return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
      };
    case 'bool':
      return (v) => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined);
    case 'string[]':
      return (v) => {
        if (typeof v === 'string') return [v];
        if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
        return undefined;
      };
    case 'json':
      return (v) => (v === null || v === undefined ? undefined : typeof v === 'string' ? v : safeJson(v));
    default:
      return (v) => {
        if (v === null || v === undefined) return undefined;
        if (typeof v === 'string' || typeof v === 'boolean') return v;
        if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
        if (Array.isArray(v) && v.length > 0) {
          if (v.every((x) => typeof x === 'string')) return v as string[];
          if (v.every((x) => typeof x === 'boolean')) return v as boolean[];
          if (v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as number[];
        }
        return safeJson(v);
      };
  }
}
