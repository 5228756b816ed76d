// Assembly state across requests: groups events per entity (trace, observation, score), decides
// when each is complete, and hands out span drafts to export. Holds state in memory only; what
// makes it durable is the spool (entries are replayed into `ingest` on start).
// Must not know HTTP or OTel types; calls the mapping stage to build drafts.
import type { IngestionEvent, ObservationEvent, PassthroughSpanEvent, ScoreEvent, TraceEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import { parseTimestampNanos } from '../ingestion/timestamp.js';
import { isUpdateType } from '../ingestion/validate-batch.js';
import { mapRecord, toObservationDraft, toRootDraft, toScoreDraft } from '../mapping/apply-mapping.js';
import type { CompiledMapping } from '../mapping/compile-mapping.js';
import type { SpanDraft } from '../mapping/span-draft.js';
import type { SpoolEntry } from '../spool/spool.js';
import type { PassthroughDraft } from './completed-record.js';
import { mergeObservationEvents, mergeScoreEvents, mergeTraceEvents, type MergedObservation, type MergedTrace } from './merge.js';

// 'pass': an OTLP span passed through as it came (issue 9); whole on arrival, like a score.
type EntityKind = 'obs' | 'trace' | 'score' | 'pass';

interface Entity {
  key: string;
  kind: EntityKind;
  id: string;
  events: IngestionEvent[];
  envelopeIds: Set<string>;
  /** Spool entries holding this entity's events. */
  seqs: Set<number>;
  source: RequestSource;
  lastEventMillis: number;
  /** Latest envelope/start/end time seen, for an observation exported without an end. */
  lastSeenNanos: bigint;
  ended: boolean;
  /** A create event arrived (an update alone may be overtaking its create). */
  created: boolean;
  /** The Langfuse trace the entity belongs to, once an event named it. */
  traceId?: string;
  /** Envelope ids of the snapshot being exported, while an export is in flight. */
  inflight?: Set<string>;
  /** An observation the client sent as its trace's root (OTLP; issue 9). */
  clientRoot?: boolean;
}

interface TraceState {
  traceId: string;
  /** Observations of this trace not yet exported and without an end. */
  open: Set<string>;
  /** Observations known (pending or exported) since this state was created. */
  startNanos?: bigint;
  endNanos?: bigint;
  firstTopLevel?: MergedObservation;
  /** Earliest score time: the root's time when the trace has nothing else. */
  scoreNanos?: bigint;
  /** Observations the client sent as this trace's root: they are its root, no synthetic one is made. */
  clientRoots?: Set<string>;
  lastEventMillis: number;
  source: RequestSource;
}

/** One draft ready for export, with what is needed to settle it afterwards. */
export interface ReadyItem {
  draft: SpanDraft;
  entityKey: string;
  /** Entities settled with this one without a span of their own (a trace whose root the client sent). */
  alsoSettles?: string[];
}

export interface AssemblerOptions {
  mapping: CompiledMapping;
  traceIdleMillis: number;
  observationTimeoutMillis: number;
  /** Is this entity already exported? Returns the envelope ids that made up the exported span. */
  exportedEnvelopeIds: (key: string) => ReadonlySet<string> | undefined;
}

export interface IngestResult {
  /** Events for entities already exported, with envelope ids not seen before. */
  lateUpdates: number;
  /** Events whose envelope id was already merged (client resends). */
  duplicates: number;
  /** Events Langfuse accepts but drops (no body id). */
  dropped: number;
}

export interface SettleResult {
  /** Spool entries whose every entity is now exported or dead-lettered. */
  releasableSeqs: number[];
  /** Tombstones to persist: entity key and the envelope ids of what was exported. */
  tombstones: Array<{ key: string; envelopeIds: string[] }>;
  /** Events that arrived while their entity was being exported. */
  lateUpdates: number;
}

export class Assembler {
  private readonly entities = new Map<string, Entity>();
  private readonly traces = new Map<string, TraceState>();
  /** Spool seq → number of pending entities holding events from it. */
  private readonly seqRefs = new Map<number, number>();

  constructor(private readonly options: AssemblerOptions) {}

  /** Entities waiting to be exported (for metrics and shutdown decisions). */
  pendingEntities(): number {
    return this.entities.size;
  }

  /**
   * Feeds one spool entry. Returns counts; `releasable` is true when the entry holds nothing that
   * still needs exporting (all duplicates, late or dropped), so the spool can drop it at once.
   */
  ingest(entry: SpoolEntry, nowMillis: number): IngestResult & { releasable: boolean } {
    const result: IngestResult = { lateUpdates: 0, duplicates: 0, dropped: 0 };
    const touched = new Set<Entity>();
    for (const event of entry.events) {
      const id = event.body.id;
      if (!id) {
        result.dropped++;
        continue;
      }
      const kind: EntityKind =
        event.type === 'trace-create' ? 'trace' : event.type === 'score-create' ? 'score' : event.type === 'otel-span' ? 'pass' : 'obs';
      const key = `${kind}:${id}`;
      let entity = this.entities.get(key);
      if (!entity) {
        const exported = this.options.exportedEnvelopeIds(key);
        if (exported) {
          if (exported.has(event.id)) {
            result.duplicates++;
            // Replayed after a restart: the observation was exported, but its trace's root may
            // not be; the root must still span it.
            if (kind === 'obs') this.widenFromExported(event as ObservationEvent, entry.source, nowMillis);
          } else result.lateUpdates++;
          continue;
        }
        entity = newEntity(kind, id, entry.source, nowMillis);
        this.entities.set(key, entity);
      }
      if (entity.envelopeIds.has(event.id)) {
        result.duplicates++;
        continue;
      }
      entity.events.push(event);
      entity.envelopeIds.add(event.id);
      entity.lastEventMillis = nowMillis;
      if (!entity.seqs.has(entry.seq)) {
        entity.seqs.add(entry.seq);
        this.seqRefs.set(entry.seq, (this.seqRefs.get(entry.seq) ?? 0) + 1);
      }
      touched.add(entity);
      this.observeEvent(entity, event, nowMillis);
    }
    for (const entity of touched) this.afterChange(entity);
    return { ...result, releasable: !this.seqRefs.has(entry.seq) };
  }

  private observeEvent(entity: Entity, event: IngestionEvent, nowMillis: number): void {
    const times = [event.timestamp];
    if (entity.kind === 'obs') {
      const body = (event as ObservationEvent).body;
      if (body.startTime) times.push(body.startTime);
      if (body.endTime) {
        times.push(body.endTime);
        entity.ended = true;
      }
      if (event.type === 'event-create') entity.ended = true;
      if (!isUpdateType(event.type)) entity.created = true;
      if ((event as ObservationEvent).clientRoot) entity.clientRoot = true;
    }
    for (const t of times) {
      const ns = parseTimestampNanos(t);
      if (ns > entity.lastSeenNanos) entity.lastSeenNanos = ns;
    }
    const traceId = this.traceIdOf(entity, event);
    entity.traceId = traceId;
    if (traceId !== undefined) {
      const state = this.traceState(traceId, entity.source, nowMillis);
      state.lastEventMillis = nowMillis;
      // A score is a time of the trace only when nothing else gives one (a trace known only
      // through scores); otherwise it would stretch the root past its observations.
      if (entity.kind === 'score') {
        const at = parseTimestampNanos(event.timestamp);
        if (state.scoreNanos === undefined || at < state.scoreNanos) state.scoreNanos = at;
      }
    }
  }

  /** Widens a not-yet-exported root by an exported observation's own times. */
  private widenFromExported(event: ObservationEvent, source: RequestSource, nowMillis: number): void {
    const traceId = event.body.traceId;
    if (!traceId || this.options.exportedEnvelopeIds(`trace:${traceId}`)) return;
    const state = this.traceState(traceId, source, nowMillis);
    for (const time of [event.body.startTime, event.body.endTime]) {
      if (!time) continue;
      const nanos = parseTimestampNanos(time);
      widenRange(state, nanos, nanos);
    }
  }

  private traceIdOf(entity: Entity, event: IngestionEvent): string | undefined {
    if (entity.kind === 'trace') return entity.id;
    if (entity.kind === 'score') return (event as ScoreEvent).body.traceId ?? undefined;
    // A passed-through span has no Langfuse trace to complete.
    if (entity.kind === 'pass') return undefined;
    return (entity.events.find((e) => (e as ObservationEvent).body.traceId) as ObservationEvent | undefined)?.body.traceId ?? `orphan:${entity.id}`;
  }

  private traceState(traceId: string, source: RequestSource, nowMillis: number): TraceState {
    let state = this.traces.get(traceId);
    if (!state) {
      state = { traceId, open: new Set(), lastEventMillis: nowMillis, source };
      this.traces.set(traceId, state);
    }
    return state;
  }

  /** Keeps the trace's bookkeeping (open observations, time range) in step with an entity. */
  private afterChange(entity: Entity): void {
    if (entity.kind !== 'obs') return;
    const obs = mergeObservationEvents(entity.id, entity.events as ObservationEvent[]);
    const state = this.traceState(obs.traceId, entity.source, entity.lastEventMillis);
    if (entity.ended) state.open.delete(entity.id);
    else state.open.add(entity.id);
    if (entity.clientRoot) (state.clientRoots ??= new Set()).add(entity.id);
    this.widen(state, obs);
  }

  private widen(state: TraceState, obs: MergedObservation): void {
    widenRange(state, obs.startTimeNanos, obs.endTimeNanos ?? obs.startTimeNanos);
    if (!obs.parentObservationId && (!state.firstTopLevel || obs.startTimeNanos < state.firstTopLevel.startTimeNanos)) {
      state.firstTopLevel = obs;
    }
  }

  /**
   * Drafts for everything complete at `nowMillis`, at most `limit`. With `force`, open observations
   * and traces not yet idle are taken too (shutdown of a store that cannot keep them).
   */
  collectReady(nowMillis: number, limit: number, force = false): ReadyItem[] {
    const ready: ReadyItem[] = [];
    const { observationTimeoutMillis, traceIdleMillis, mapping } = this.options;
    for (const entity of this.entities.values()) {
      if (ready.length >= limit) return ready;
      if (entity.inflight || entity.kind === 'trace') continue;
      if (entity.kind === 'score') {
        const score = mergeScoreEvents(entity.id, entity.events as ScoreEvent[]);
        const state = score.traceId && !score.observationId ? this.traces.get(score.traceId) : undefined;
        // A trace-level score for a trace nothing else told of yet (the Langfuse SDKs v3+ post
        // scores before their OTLP flush) waits like a root, to learn whether the client sends one.
        const unknownTrace = state && state.startNanos === undefined && !this.entities.has(`trace:${state.traceId}`);
        if (unknownTrace && nowMillis - state.lastEventMillis < traceIdleMillis && !force) continue;
        const draft = toScoreDraft(mapping, score, entity.source);
        // A trace-level score of a trace whose root the client sent goes under that root.
        const clientRoot = state?.clientRoots?.values().next().value;
        if (clientRoot !== undefined) draft.parent = { type: 'observation', id: clientRoot };
        ready.push(this.take(entity, draft));
        continue;
      }
      if (entity.kind === 'pass') {
        ready.push(this.take(entity, mapRecord(mapping, { kind: 'passthrough', span: toPassthroughDraft(entity.events[0] as PassthroughSpanEvent) })));
        continue;
      }
      const quietMillis = nowMillis - entity.lastEventMillis;
      const timedOut = quietMillis >= observationTimeoutMillis;
      if (!entity.ended && !timedOut && !force) continue;
      // An ended observation seen only through updates may be overtaking its create (client
      // retries reorder batches): it waits as long as a trace does before it is taken as whole.
      if (!entity.created && quietMillis < traceIdleMillis && !timedOut && !force) continue;
      // The client's root waits for its trace to be idle, like a synthetic root (see below).
      if (entity.clientRoot && !timedOut && !force) continue;
      const obs = mergeObservationEvents(entity.id, entity.events as ObservationEvent[]);
      if (entity.clientRoot) {
        ready.push(this.takeClientRoot(entity, obs));
        continue;
      }
      const trace = this.entities.get(`trace:${obs.traceId}`);
      const draft = toObservationDraft(mapping, obs, {
        source: entity.source,
        ...(trace && trace.events.length > 0 ? { trace: mergeTraceEvents(trace.id, trace.events as TraceEvent[]) } : {}),
        incompleteEndNanos: entity.lastSeenNanos,
      });
      ready.push(this.take(entity, draft));
    }
    for (const state of this.traces.values()) {
      if (ready.length >= limit) return ready;
      if (state.open.size > 0 && !force) continue;
      if (nowMillis - state.lastEventMillis < traceIdleMillis && !force) continue;
      const key = `trace:${state.traceId}`;
      const traceEntity = this.entities.get(key);
      if (traceEntity?.inflight) continue;
      if (state.clientRoots) {
        // The client sent its root: that observation is the root span, no synthetic one is made.
        const pending = [...state.clientRoots].map((id) => this.entities.get(`obs:${id}`)).filter((e): e is Entity => e !== undefined);
        for (const rootEntity of pending) {
          if (rootEntity.inflight || ready.length >= limit) continue;
          ready.push(this.takeClientRoot(rootEntity, mergeObservationEvents(rootEntity.id, rootEntity.events as ObservationEvent[])));
        }
        if (pending.length > 0) continue;
        // Its root went already (timed out while its trace-create was in flight): only bookkeeping
        // is left, or a trace entity that is exported as a synthetic root below rather than kept.
        if (!traceEntity) {
          this.traces.delete(state.traceId);
          continue;
        }
      }
      const start = state.startNanos ?? state.scoreNanos;
      const end = state.endNanos ?? state.scoreNanos;
      // No trace-create and no time: bookkeeping left by an event whose trace id changed (an update
      // before its create); nothing belongs to it, and a root could not be built without a time.
      if (!traceEntity && start === undefined) {
        this.traces.delete(state.traceId);
        continue;
      }
      if (!traceEntity && this.options.exportedEnvelopeIds(key)) {
        // The root was exported earlier: only the bookkeeping is left.
        this.traces.delete(state.traceId);
        continue;
      }
      const trace = mergedTrace(traceEntity);
      const draft = toRootDraft(mapping, {
        traceId: state.traceId,
        ...(trace ? { trace } : {}),
        ...(state.firstTopLevel ? { firstTopLevel: state.firstTopLevel } : {}),
        ...(start !== undefined ? { observationsStartNanos: start } : {}),
        ...(end !== undefined ? { observationsEndNanos: end } : {}),
        source: traceEntity?.source ?? state.source,
      });
      // Without trace-create the root is an entity with no events of its own (it settles the same way).
      const entity = traceEntity ?? newEntity('trace', state.traceId, state.source, state.lastEventMillis);
      this.entities.set(key, entity);
      ready.push(this.take(entity, draft));
    }
    return ready;
  }

  private take(entity: Entity, draft: SpanDraft): ReadyItem {
    entity.inflight = new Set(entity.envelopeIds);
    return { draft, entityKey: entity.key };
  }

  /** The client's root observation, exported with its trace's events settled alongside. */
  private takeClientRoot(entity: Entity, obs: MergedObservation): ReadyItem {
    const traceEntity = this.entities.get(`trace:${obs.traceId}`);
    const trace = mergedTrace(traceEntity);
    const draft = mapRecord(this.options.mapping, {
      kind: 'observation',
      observation: obs,
      ...(trace ? { trace } : {}),
      source: entity.source,
      incompleteEndNanos: entity.lastSeenNanos,
      isClientRoot: true,
    });
    const item = this.take(entity, draft);
    if (traceEntity && !traceEntity.inflight) {
      traceEntity.inflight = new Set(traceEntity.envelopeIds);
      item.alsoSettles = [traceEntity.key];
    }
    return item;
  }

  /** The export failed but may succeed later: the entities become pending again. */
  retryLater(items: readonly ReadyItem[]): void {
    for (const item of items) {
      for (const key of [item.entityKey, ...(item.alsoSettles ?? [])]) {
        const entity = this.entities.get(key);
        if (entity) delete entity.inflight;
      }
    }
  }

  /** Exported (or dead-lettered): forget the entities, report spool entries that can go. */
  settle(items: readonly ReadyItem[]): SettleResult {
    const result: SettleResult = { releasableSeqs: [], tombstones: [], lateUpdates: 0 };
    for (const key of items.flatMap((item) => [item.entityKey, ...(item.alsoSettles ?? [])])) {
      const entity = this.entities.get(key);
      if (!entity?.inflight) continue;
      result.lateUpdates += entity.envelopeIds.size - entity.inflight.size;
      result.tombstones.push({ key: entity.key, envelopeIds: [...entity.inflight] });
      this.entities.delete(entity.key);
      if (entity.kind === 'trace') this.traces.delete(entity.id);
      else if (entity.kind === 'obs' && entity.traceId !== undefined) this.traces.get(entity.traceId)?.open.delete(entity.id);
      for (const seq of entity.seqs) {
        const refs = (this.seqRefs.get(seq) ?? 1) - 1;
        if (refs <= 0) {
          this.seqRefs.delete(seq);
          result.releasableSeqs.push(seq);
        } else this.seqRefs.set(seq, refs);
      }
    }
    return result;
  }
}

function newEntity(kind: EntityKind, id: string, source: RequestSource, nowMillis: number): Entity {
  return {
    key: `${kind}:${id}`,
    kind,
    id,
    events: [],
    envelopeIds: new Set(),
    seqs: new Set(),
    source,
    lastEventMillis: nowMillis,
    lastSeenNanos: 0n,
    // Traces and scores are whole as soon as they arrive; observations wait for an end and a create.
    ended: kind !== 'obs',
    created: kind !== 'obs',
  };
}

/** The merged trace, when the entity holds trace-create events (a synthetic root has none). */
function mergedTrace(entity: Entity | undefined): MergedTrace | undefined {
  return entity && entity.events.length > 0 ? mergeTraceEvents(entity.id, entity.events as TraceEvent[]) : undefined;
}

function widenRange(state: TraceState, startNanos: bigint, endNanos: bigint): void {
  if (state.startNanos === undefined || startNanos < state.startNanos) state.startNanos = startNanos;
  if (state.endNanos === undefined || endNanos > state.endNanos) state.endNanos = endNanos;
}

/** A passed-through span's stored body as the draft it is exported as (times back to bigint). */
function toPassthroughDraft(event: PassthroughSpanEvent): PassthroughDraft {
  const b = event.body;
  return {
    traceId: b.traceId,
    span: { type: 'observation', id: b.id },
    ...(b.parentSpanId !== undefined ? { parent: { type: 'observation' as const, id: b.parentSpanId } } : {}),
    name: b.name,
    kind: b.kind,
    startTimeUnixNano: BigInt(b.startTimeUnixNano),
    endTimeUnixNano: BigInt(b.endTimeUnixNano),
    attributes: b.attributes,
    status: b.status,
    resource: b.resource,
    scope: b.scope,
  };
}
