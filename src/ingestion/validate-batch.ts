// Per-event validation of a Langfuse ingestion batch: the bridge's size/depth hardening, then the
// Langfuse schemas. Returns plain data ({accepted, sdkLogs, rejected}); must not touch HTTP, storage or OTel.

/*
 * Hardening (the bridge's own limits, stricter than Langfuse, which has none per event):
 *  - maxDepth: nesting of arrays/objects anywhere in one event (the envelope object is level 1).
 *  - maxStringLength: length (UTF-16 code units) of any string value or object key in one event.
 * They are checked by an ITERATIVE walk before zod, so hostile nesting never reaches a recursive
 * step (zod's own recursion is bounded by the schema; later stages may recurse over metadata).
 * An event over a limit is rejected on its own, in the same 400 shape as a schema failure.
 * First, validate-event-fast.ts tries the common event types in one pass (limits, checks and the
 * output together; its recursion stops at maxDepth); it only ever accepts, with exactly the value
 * the general path (this walk + zod) would return, and leaves everything else to that path.
 * Nothing thrown while validating one event (getters, proxies, bugs) escapes: it becomes a rejection.
 */

import type {
  BatchValidation,
  EventRejection,
  IngestionEvent,
  ObservationEvent,
  ScoreEvent,
  TraceEvent,
} from './ingestion-event.js';
import { OBSERVATION_UPDATE_TYPES } from './ingestion-event.js';
import { ingestionEventSchema } from './ingestion-schema.js';
import type { ParsedIngestionEvent } from './ingestion-schema.js';
import { validateEventFast } from './validate-event-fast.js';

export interface ValidationLimits {
  /** Maximum nesting of arrays/objects in one event, the envelope itself being level 1. */
  maxDepth: number;
  /** Maximum length of any string (value or key) in one event, in characters (UTF-16 units). */
  maxStringLength: number;
}

/** 64 levels is far beyond any SDK payload; 1,000,000 characters matches the SDKs' 1 MB per-event cap. */
export const DEFAULT_VALIDATION_LIMITS: Readonly<ValidationLimits> = Object.freeze({
  maxDepth: 64,
  maxStringLength: 1_000_000,
});

const UPDATE_TYPES: ReadonlySet<string> = new Set(OBSERVATION_UPDATE_TYPES);

/** True for `span-update`, `generation-update` and `observation-update`: Langfuse orders these last. */
export function isUpdateType(type: string): boolean {
  return UPDATE_TYPES.has(type);
}

/** A zod-shaped issue, so limit rejections read like schema rejections. */
export interface LimitIssue {
  code: 'custom';
  path: (string | number)[];
  message: string;
}

interface PathNode {
  key: string | number;
  parent: PathNode | undefined;
}

function toPath(node: PathNode | undefined): (string | number)[] {
  const path: (string | number)[] = [];
  for (let n = node; n !== undefined; n = n.parent) path.push(n.key);
  return path.reverse();
}

/**
 * First limit violation in `value`, or undefined. Iterative depth-first walk (explicit stack), so
 * neither deep nesting nor cycles can overflow the stack: a cycle just exceeds `maxDepth`.
 * JSON.parse output is a tree; a value shared by several parents (possible only for in-process
 * callers) is walked once per path.
 */
export function findLimitViolation(value: unknown, limits: ValidationLimits): LimitIssue | undefined {
  const { maxDepth, maxStringLength } = limits;
  const tooDeep = (node: PathNode | undefined): LimitIssue => ({
    code: 'custom',
    path: toPath(node),
    message: `nesting deeper than ${maxDepth} levels`,
  });
  const tooLong = (node: PathNode | undefined, what: string): LimitIssue => ({
    code: 'custom',
    path: toPath(node),
    message: `${what} longer than ${maxStringLength} characters`,
  });

  if (typeof value === 'string') return value.length > maxStringLength ? tooLong(undefined, 'string') : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (maxDepth < 1) return tooDeep(undefined);

  const containers: object[] = [value];
  const depths: number[] = [1];
  const paths: (PathNode | undefined)[] = [undefined];
  while (containers.length > 0) {
    const container = containers.pop() as object;
    const depth = depths.pop() as number;
    const path = paths.pop();
    const visit = (key: string | number, child: unknown): LimitIssue | undefined => {
      if (typeof child === 'string') {
        return child.length > maxStringLength ? tooLong({ key, parent: path }, 'string') : undefined;
      }
      if (typeof child !== 'object' || child === null) return undefined;
      const childPath: PathNode = { key, parent: path };
      if (depth + 1 > maxDepth) return tooDeep(childPath);
      containers.push(child);
      depths.push(depth + 1);
      paths.push(childPath);
      return undefined;
    };
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const issue = visit(i, container[i]);
        if (issue) return issue;
      }
    } else {
      const record = container as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        // The path names the object holding the key: echoing a huge key back would bloat the reply.
        if (key.length > maxStringLength) return tooLong(path, 'object key');
        const issue = visit(key, record[key]);
        if (issue) return issue;
      }
    }
  }
  return undefined;
}

export function resolveLimits(limits: Partial<ValidationLimits> | undefined): ValidationLimits {
  // Only positive numbers count; anything else (undefined, NaN, 0, junk) falls back to the default.
  const pick = (v: unknown, fallback: number): number => (typeof v === 'number' && v > 0 ? v : fallback);
  return {
    maxDepth: pick(limits?.maxDepth, DEFAULT_VALIDATION_LIMITS.maxDepth),
    maxStringLength: pick(limits?.maxStringLength, DEFAULT_VALIDATION_LIMITS.maxStringLength),
  };
}

/** The envelope's `id`/`type` when it is a string, else `"unknown"`; never throws. */
function envelopeString(raw: unknown, key: 'id' | 'type'): string {
  try {
    if (typeof raw === 'object' && raw !== null) {
      const v: unknown = (raw as Record<string, unknown>)[key];
      if (typeof v === 'string') return v;
    }
  } catch {
    // A throwing getter or proxy trap: report the event as "unknown".
  }
  return 'unknown';
}

/** zod v4's `ZodError.message` format: the issue array as JSON, 2-space indent, no input values. */
function formatIssues(issues: readonly object[]): string {
  return JSON.stringify(issues, null, 2);
}

function reject(raw: unknown, error: string): EventRejection {
  return {
    id: envelopeString(raw, 'id'),
    status: 400,
    message: 'Invalid request data',
    error,
    type: envelopeString(raw, 'type'),
  };
}

function describeThrown(err: unknown): string {
  try {
    if (err instanceof Error && typeof err.message === 'string') return err.message;
    return typeof err === 'string' ? err : 'unknown error';
  } catch {
    return 'unknown error';
  }
}

/** Drops the ignored envelope `metadata`; the output has exactly the IngestionEvent fields. */
function toIngestionEvent(event: Exclude<ParsedIngestionEvent, { type: 'sdk-log' | 'dataset-run-item-create' }>): IngestionEvent {
  switch (event.type) {
    case 'trace-create': {
      const out: TraceEvent = { id: event.id, type: event.type, timestamp: event.timestamp, body: event.body };
      return out;
    }
    case 'score-create': {
      const out: ScoreEvent = { id: event.id, type: event.type, timestamp: event.timestamp, body: event.body };
      return out;
    }
    default: {
      const out: ObservationEvent = { id: event.id, type: event.type, timestamp: event.timestamp, body: event.body };
      return out;
    }
  }
}

export type EventOutcome =
  | { kind: 'accepted'; event: IngestionEvent }
  | { kind: 'sdk-log' }
  | { kind: 'rejected'; rejection: EventRejection };

function validateEvent(raw: unknown, limits: ValidationLimits): EventOutcome {
  // The common, valid events are decided in one pass; everything else (invalid events included,
  // so every rejection stays zod's) takes the general path.
  const fast = validateEventFast(raw, limits);
  return fast !== undefined ? { kind: 'accepted', event: fast } : validateEventBySchema(raw, limits);
}

/** The general path: the limit walk, then zod. Exported for the tests that hold the fast path equal to it. */
export function validateEventBySchema(raw: unknown, limits: ValidationLimits): EventOutcome {
  const violation = findLimitViolation(raw, limits);
  if (violation) return { kind: 'rejected', rejection: reject(raw, formatIssues([violation])) };

  const result = ingestionEventSchema.safeParse(raw);
  if (!result.success) {
    // zod 4.1's ZodError.message is exactly formatIssues(issues) (inputs are not reported).
    return { kind: 'rejected', rejection: reject(raw, result.error.message) };
  }
  const event = result.data;
  if (event.type === 'sdk-log') return { kind: 'sdk-log' };
  if (event.type === 'dataset-run-item-create') {
    // Unreachable: the schema always refuses it. Kept so a schema change cannot let it through.
    return { kind: 'rejected', rejection: reject(raw, formatIssues([{ code: 'custom', path: [], message: 'unsupported event type' }])) };
  }
  return { kind: 'accepted', event: toIngestionEvent(event) };
}

/**
 * Validates every event of a batch on its own, like Langfuse's `processEventBatch`: invalid events
 * never block valid ones. `accepted` keeps input order (Langfuse's reply order is the receiver's
 * business); valid `sdk-log` events are only counted. Never throws, whatever `batch` holds.
 */
export function validateBatch(batch: readonly unknown[], limits?: Partial<ValidationLimits>): BatchValidation {
  const into: BatchValidation = { accepted: [], sdkLogs: 0, rejected: [] };
  if (!Array.isArray(batch)) return into;
  validateRange(batch, 0, batch.length, resolveLimits(limits), into);
  return into;
}

/** Validates `batch[start..end)` into `into` (the same rules as validateBatch); for sliced callers. */
export function validateRange(batch: readonly unknown[], start: number, end: number, limits: ValidationLimits, into: BatchValidation): void {
  const { accepted, rejected } = into;
  for (let i = start; i < end; i++) {
    const raw: unknown = batch[i];
    let outcome: EventOutcome;
    try {
      outcome = validateEvent(raw, limits);
    } catch (err) {
      const issue: LimitIssue = { code: 'custom', path: [], message: `event could not be validated: ${describeThrown(err)}` };
      outcome = { kind: 'rejected', rejection: reject(raw, formatIssues([issue])) };
    }
    if (outcome.kind === 'accepted') accepted.push(outcome.event);
    else if (outcome.kind === 'sdk-log') into.sdkLogs++;
    else rejected.push(outcome.rejection);
  }
}
