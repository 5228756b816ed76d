// Turns merged Langfuse records into span drafts with a compiled mapping: names, kinds,
// attributes, status, parents, times and resource. Pure; OTel ids are derived later, in export/.
import type { CompletedRecord, TopLevelSummary } from '../assembly/completed-record.js';
import type { MergedObservation, MergedScore, MergedTrace } from '../assembly/merge.js';
import type { RequestSource } from '../ingestion/request-source.js';
import type { CompiledMapping } from './compile-mapping.js';
import type { ObservationTypeKey } from './mapping-schema.js';
import { observationView, rootView, scoreView } from './record-view.js';
import type { DraftAttributes, SpanDraft } from './span-draft.js';

/** Resource attributes for the sender of a batch (DESIGN §4 "Resource"). */
function toResourceAttributes(source: RequestSource | undefined, environment: string | undefined): DraftAttributes {
  // Consecutive records mostly come from one sender: its frozen attributes are handed out again,
  // one object, which the encoder and the GenAI metrics then recognise by identity.
  const last = lastResource;
  if (
    last !== undefined &&
    last.integration === source?.sdkIntegration &&
    last.sdkName === source?.sdkName &&
    last.sdkVersion === source?.sdkVersion &&
    last.environment === environment
  ) {
    return last.attributes;
  }
  // Integrations are named per language (`LANGCHAIN` from JS, `langchain` from Python): one
  // service either way. The JS SDK sends `DEFAULT`, which names no integration.
  const integration = source?.sdkIntegration?.trim().toLowerCase();
  const serviceName = integration && integration !== 'default' ? integration : 'langfuse';
  const attributes: DraftAttributes = { 'service.name': serviceName };
  if (environment && environment !== 'default') attributes['deployment.environment.name'] = environment;
  if (source?.sdkName) attributes['langfuse.sdk.name'] = source.sdkName;
  if (source?.sdkVersion) attributes['langfuse.sdk.version'] = source.sdkVersion;
  Object.freeze(attributes);
  lastResource = { integration: source?.sdkIntegration, sdkName: source?.sdkName, sdkVersion: source?.sdkVersion, environment, attributes };
  return attributes;
}

/** The last sender's resource attributes, and what they were made from. */
let lastResource:
  | { integration: string | undefined; sdkName: string | undefined; sdkVersion: string | undefined; environment: string | undefined; attributes: DraftAttributes }
  | undefined;

export interface ObservationDraftOptions {
  source?: RequestSource;
  /** The observation's trace as merged so far (name and trace context). */
  trace?: MergedTrace;
  /** Exported without an end: `endTimeNanos` is the last time seen. */
  incompleteEndNanos?: bigint;
}

export function toObservationDraft(mapping: CompiledMapping, obs: MergedObservation, options: ObservationDraftOptions = {}): SpanDraft {
  const incomplete = obs.endTimeNanos === undefined;
  const view = observationView(obs, { inferProvider: mapping.inferProvider, estimateCost: mapping.estimateCost === true, trace: options.trace, incomplete });
  const shape = mapping.observation(obs.type.toLowerCase() as ObservationTypeKey, view);
  let end = obs.endTimeNanos ?? options.incompleteEndNanos ?? obs.startTimeNanos;
  if (end < obs.startTimeNanos) end = obs.startTimeNanos;
  return {
    traceId: obs.traceId,
    span: { type: 'observation', id: obs.id },
    parent: obs.parentObservationId
      ? { type: 'observation', id: obs.parentObservationId }
      : { type: 'root', traceId: obs.traceId },
    name: shape.name,
    kind: shape.kind,
    startTimeUnixNano: obs.startTimeNanos,
    endTimeUnixNano: end,
    attributes: shape.attributes,
    status: shape.status,
    resource: toResourceAttributes(options.source, obs.environment),
  };
}

export interface RootDraftInput {
  traceId: string;
  trace?: MergedTrace;
  /** Earliest observation without a parent: names a root that has no trace-create. */
  firstTopLevel?: TopLevelSummary;
  /** Earliest start and latest end among the trace's observations. */
  observationsStartNanos?: bigint;
  observationsEndNanos?: bigint;
  source?: RequestSource;
}

/**
 * The root span spans its observations, as Langfuse computes a trace's latency from them: a
 * trace-create sent late (Dify's background task, seconds after the workflow) must not stretch
 * it. Only a trace without observations takes its time from the trace timestamp.
 */
export function toRootDraft(mapping: CompiledMapping, input: RootDraftInput): SpanDraft {
  const shape = mapping.root(rootView(input.trace, input.traceId, input.firstTopLevel));
  const start = input.observationsStartNanos ?? input.trace?.timestampNanos ?? input.observationsEndNanos ?? 0n;
  const latest = input.observationsEndNanos ?? (input.observationsStartNanos === undefined ? input.trace?.timestampNanos : undefined);
  const end = latest !== undefined && latest > start ? latest : start;
  return {
    traceId: input.traceId,
    span: { type: 'root', traceId: input.traceId },
    name: shape.name,
    kind: shape.kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: shape.attributes,
    status: shape.status,
    resource: toResourceAttributes(input.source, input.trace?.environment ?? input.firstTopLevel?.environment),
  };
}

/**
 * A score: zero-duration, under the scored observation or the trace's root span. A score with no
 * trace (session or dataset-run scores) becomes a trace of its own, keyed `score:<id>`.
 */
export function toScoreDraft(mapping: CompiledMapping, score: MergedScore, source?: RequestSource): SpanDraft {
  const shape = mapping.score(scoreView(score));
  const traceId = score.traceId ?? `score:${score.id}`;
  const draft: SpanDraft = {
    traceId,
    span: { type: 'score', id: score.id },
    name: shape.name,
    kind: shape.kind,
    startTimeUnixNano: score.timestampNanos,
    endTimeUnixNano: score.timestampNanos,
    attributes: shape.attributes,
    status: shape.status,
    resource: toResourceAttributes(source, score.environment),
  };
  if (score.traceId) {
    draft.parent = score.observationId ? { type: 'observation', id: score.observationId } : { type: 'root', traceId };
  }
  return draft;
}

/**
 * The client's own root (OTLP span without parent, or `langfuse.internal.as_root`): no parent, and
 * it carries what a synthetic root would (trace name, user, session, tags, …) under its own
 * attributes, since no synthetic root is made for its trace.
 */
function asClientRoot(mapping: CompiledMapping, draft: SpanDraft, record: Extract<CompletedRecord, { kind: 'observation' }>): SpanDraft {
  const { parent: _parent, ...rest } = draft;
  const obs = record.observation;
  const root = mapping.root(rootView(record.trace, obs.traceId, obs));
  const { 'langfuse.trace.synthetic': _synthetic, ...traceAttributes } = root.attributes;
  // Langfuse gives a root's trace its observation's input and output: on the same span they would
  // only repeat the messages.
  if (sameJson(record.trace?.input, obs.input)) delete traceAttributes['langfuse.trace.input'];
  if (sameJson(record.trace?.output, obs.output)) delete traceAttributes['langfuse.trace.output'];
  return { ...rest, attributes: { ...traceAttributes, ...draft.attributes } };
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** The one entry point of the mapping stage: a completed record to its span draft (with its tenant, if any). */
export function mapRecord(mapping: CompiledMapping, record: CompletedRecord): SpanDraft {
  if (record.kind === 'passthrough') return record.span;
  const draft = mapEntity(mapping, record);
  return record.source.tenant !== undefined ? { ...draft, tenant: record.source.tenant } : draft;
}

function mapEntity(mapping: CompiledMapping, record: Exclude<CompletedRecord, { kind: 'passthrough' }>): SpanDraft {
  switch (record.kind) {
    case 'observation': {
      // Absent fields passed as undefined, not spread in: this runs once per record.
      const draft = toObservationDraft(mapping, record.observation, { source: record.source, trace: record.trace, incompleteEndNanos: record.incompleteEndNanos });
      return record.isClientRoot ? asClientRoot(mapping, draft, record) : draft;
    }
    case 'root':
      return toRootDraft(mapping, record);
    case 'score': {
      const draft = toScoreDraft(mapping, record.score, record.source);
      if (record.clientRootId !== undefined && !record.score.observationId) draft.parent = { type: 'observation', id: record.clientRootId };
      return draft;
    }
  }
}
