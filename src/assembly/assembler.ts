// Assembly state across requests: one merged record per open entity (trace, observation, score),
// updated as each event arrives with Langfuse's merge rules; decides when each is complete and
// hands out CompletedRecords. Holds only open state in memory: a completed entity is forgotten
// once the pipeline has queued it (`confirm`), and a trace whose observations are all queued keeps
// only what its root needs (name, context, time range, counts). Durability is the spool's: entries
// are replayed into `ingest` on start, and an out-of-order event refolds from the stored entries.
// Open state holds no payloads (issue 16): an entity that stays open after the request that
// touched it has its fold's input, output and metadata dropped, and is refolded from its log
// entries (the port's `readEvents`) when it completes, so memory per open entity does not depend
// on payload size, whatever log is behind the port. What completes at once (an observation sent
// ended, and its trace until that observation is queued) keeps them for the few milliseconds until
// the next slice: reading those back would cost a parse for nothing. An entity knows where its
// events are (entry seq and index in it), and reads back only those (the port's `readEvents`);
// entries just ingested stay parsed in a small cache bounded in bytes (ENTRY_CACHE_BYTES), left as
// soon as nothing open needs them.
// A tenant (the request source's) is a boundary: every key includes it, so events of different
// tenants never merge, whatever their ids. Must not know HTTP, mapping or OTel.
import type { IngestionEvent, ObservationEvent, PassthroughSpanEvent, ScoreEvent, TraceEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import { validatedTimestampNanos } from '../ingestion/timestamp.js';
import { isUpdateType } from '../ingestion/validate-batch.js';
import type { Tombstone } from '../spool/exported-entities.js';
import { eventsAt, type LogEntry } from '../spool/request-log.js';
import type { CompletedObservation, CompletedRecord, CompletedRoot, PassthroughDraft, TopLevelSummary } from './completed-record.js';
import { entityKey, kindOfEvent, type EntityKind } from './entity-key.js';
import {
  compareOrderKeys,
  finishObservation,
  finishScore,
  finishTrace,
  foldObservationEvent,
  foldScoreEvent,
  foldTraceEvent,
  orderKeyOf,
  sortEvents,
  type EventOrderKey,
  type ObservationFold,
  type ScoreFold,
  type TraceFold,
} from './merge.js';

/**
 * Stored bytes of ingested entries kept parsed for read-backs: a hit costs nothing, a miss reads
 * the entity's own events from the log (one row read per entry, then a parse of each event's
 * slice). Measured when entries were read back whole (npm run bench, 100,000 events, two runs
 * each): 8 MiB peaked at 291 and 286 MB RSS, 2 MiB at 265 and 254 MB, throughput within the noise
 * of a shared machine.
 */
const ENTRY_CACHE_BYTES = 2 * 1024 * 1024;

/** What every entity with events of its own keeps, whatever its kind. */
interface Tracked {
  key: string;
  id: string;
  /**
   * Envelope ids merged: none, one (most entities), or a Set of several. Not a Set per entity:
   * Sets were the largest share of what assembly allocates per event (allocation sampling).
   */
  envelopeIds: EnvelopeIdSet;
  /**
   * Spool entries holding this entity's events, without repeats; ascending as entries are
   * ingested in seq order. An array: most entities have one or two entries, for which a Set per
   * entity is a larger allocation doing the same.
   */
  seqs: number[];
  /**
   * Where each event merged is stored: pairs of entry seq and index in the entry's events, in the
   * order merged. What a read-back asks the log for (one or a few events of an entry, not all).
   */
  refs: number[];
  /** Order key of the last event folded: an earlier one means refolding. */
  lastKey?: EventOrderKey;
  /** The fold dropped its payloads (input, output, metadata): refold from the log to finish. */
  elided?: boolean;
}

interface ObservationEntity extends Tracked {
  kind: 'obs';
  fold?: ObservationFold;
  source: RequestSource;
  lastEventMillis: number;
  /** Latest envelope/start/end time seen, for an observation exported without an end. */
  lastSeenNanos: bigint;
  ended: boolean;
  /** A create event arrived (an update alone may be overtaking its create). */
  created: boolean;
  /** The trace whose bookkeeping counts this observation. */
  traceId?: string;
  /** `traceId`'s entity key (built once, not per lookup). */
  traceKey?: string;
  /** The client sent this observation as its trace's root (OTLP). */
  clientRoot: boolean;
}

interface ScoreEntity extends Tracked {
  kind: 'score';
  fold?: ScoreFold;
  source: RequestSource;
}

/** An OTLP span without `langfuse.*`: exported as it came, whole on arrival. */
interface PassEntity extends Tracked {
  kind: 'pass';
  event?: PassthroughSpanEvent;
  tenant?: string;
}

/** A trace's own events (trace-create) plus the bookkeeping its root needs. */
interface TraceState extends Tracked {
  fold?: TraceFold;
  /** `finishTrace(fold)`, kept until the next trace event. */
  finished?: ReturnType<typeof finishTrace>;
  source: RequestSource;
  /** Observations of this trace not yet queued and without an end (made on the first). */
  open?: Set<string>;
  startNanos?: bigint;
  endNanos?: bigint;
  firstTopLevel?: TopLevelSummary;
  /** Earliest score time: the root's time when the trace has nothing else. */
  scoreNanos?: bigint;
  lastEventMillis: number;
  observationCount: number;
  /** The root span was queued in an earlier life of this state: only bookkeeping is left. */
  rootExported: boolean;
  /** The client sent its own root observation: no synthetic root is made. */
  clientRootIds?: Set<string>;
}

type EnvelopeIdSet = undefined | string | Set<string>;

function hasEnvelopeId(ids: EnvelopeIdSet, id: string): boolean {
  return ids === undefined ? false : typeof ids === 'string' ? ids === id : ids.has(id);
}

function withEnvelopeId(ids: EnvelopeIdSet, id: string): EnvelopeIdSet {
  if (ids === undefined) return id;
  if (typeof ids === 'string') return new Set([ids, id]);
  ids.add(id);
  return ids;
}

function envelopeIdList(ids: EnvelopeIdSet): string[] {
  return ids === undefined ? [] : typeof ids === 'string' ? [ids] : [...ids];
}

/** The envelope ids that made up an exported span: only membership is asked (a Set, or hashes of them). */
export type EnvelopeIds = Pick<ReadonlySet<string>, 'has'>;

export interface AssemblerOptions {
  traceIdleMillis: number;
  observationTimeoutMillis: number;
  /** Is this entity already queued? Returns the envelope ids that made up its span. */
  exportedEnvelopeIds: (key: string) => EnvelopeIds | undefined;
  /** Stored events of entry `seq` by index (to finish or refold an entity without its payloads). */
  readEvents: (seq: number, indices: readonly number[]) => IngestionEvent[];
}

export interface IngestResult {
  /** Events for entities already queued, with envelope ids not seen before. */
  lateUpdates: number;
  /** Events whose envelope id was already merged (client resends). */
  duplicates: number;
  /** Events Langfuse accepts but drops (no body id). */
  dropped: number;
  /** Events that arrived before an event already merged (refolded from the store). */
  refolds: number;
  /** The entry holds nothing that still needs exporting, so the spool can drop it at once. */
  releasable: boolean;
}

/** Records complete at one moment, and what queuing them settles. */
export interface Collected {
  records: CompletedRecord[];
  tombstones: Tombstone[];
  /** Spool entries whose every entity is in `records` or already queued. */
  releaseSeqs: number[];
  /** Entity keys, for `confirm`. */
  keys: string[];
}

/**
 * `ready`: only what became complete on arrival (after each request: cheap); `due`: also what
 * waited long enough (a timer's turn); `all`: everything, complete or not (shutdown of a store that
 * cannot keep state).
 */
export type CollectMode = 'ready' | 'due' | 'all';


export class Assembler {
  private readonly entities = new Map<string, ObservationEntity | ScoreEntity | PassEntity>();
  /** By trace entity key (`trace:<id>`, or `trace@<tenant>:<id>`). */
  private readonly traces = new Map<string, TraceState>();
  /** Entities complete as soon as they arrived (scores, ended observations with their create). */
  private readonly ready = new Set<string>();
  /** Spool seq → number of pending entities holding events from it. */
  private readonly seqRefs = new Map<number, number>();
  /** Entries ingested that something open still reads back, within ENTRY_CACHE_BYTES. */
  private readonly entryCache = new Map<number, LogEntry>();
  private entryCacheBytes = 0;
  /** Traces finished with their payloads during one `collect`. */
  private collectTraces = new Map<string, ReturnType<typeof finishTrace>>();

  constructor(private readonly options: AssemblerOptions) {}

  /** Entities and traces waiting to be queued (metrics, shutdown decisions). */
  pendingEntities(): number {
    return this.entities.size + this.traces.size;
  }

  /** Whether the trace still has state here (its root, or its bookkeeping, is not queued yet). */
  holdsTrace(traceId: string, tenant?: string): boolean {
    return this.traces.has(entityKey('trace', traceId, tenant));
  }

  /** Observations that have not ended yet. */
  openObservations(): number {
    let open = 0;
    for (const state of this.traces.values()) open += state.open?.size ?? 0;
    return open;
  }

  /** Entities that only wait to be idle: complete traces, ended observations without a create. */
  settlingEntities(): number {
    let n = 0;
    for (const state of this.traces.values()) if (!state.open?.size) n++;
    for (const entity of this.entities.values()) if (entity.kind === 'obs' && entity.ended) n++;
    return n;
  }

  ingest(entry: LogEntry, nowMillis: number): IngestResult {
    const result: IngestResult = { lateUpdates: 0, duplicates: 0, dropped: 0, refolds: 0, releasable: false };
    const touched = new Set<ObservationEntity>();
    const touchedTraces: TraceState[] = [];
    const seq = entry.seq;
    let refs = 0;
    const events = entry.events;
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      const id = event.body.id;
      if (!id) {
        result.dropped++;
        continue;
      }
      const kind = kindOfEvent(event.type);
      const key = entityKey(kind, id, entry.source.tenant);
      const target = this.targetFor(kind, key, id, event, entry.source, nowMillis, result);
      if (!target) continue;
      if (hasEnvelopeId(target.envelopeIds, event.id)) {
        result.duplicates++;
        continue;
      }
      target.envelopeIds = withEnvelopeId(target.envelopeIds, event.id);
      if (!hasSeq(target.seqs, seq)) {
        // A literal for the first: push onto an empty array allocates room for 16.
        if (target.seqs.length === 0) target.seqs = [seq];
        else target.seqs.push(seq);
        refs++;
      }
      if (target.refs.length === 0) target.refs = [seq, index];
      else target.refs.push(seq, index);
      const orderKey = orderKeyOf(event);
      const inOrder = !target.lastKey || compareOrderKeys(orderKey, target.lastKey) >= 0;
      if (!inOrder) result.refolds++;
      if (inOrder) target.lastKey = orderKey;
      if (kind === 'trace') {
        this.foldTrace(target as TraceState, event as TraceEvent, inOrder, nowMillis);
        touchedTraces.push(target as TraceState);
      } else if (kind === 'pass') {
        (target as PassEntity).event = event as PassthroughSpanEvent;
        this.ready.add(target.key);
      } else if (kind === 'score') this.foldScore(target as ScoreEntity, event as ScoreEvent, inOrder, nowMillis);
      else {
        this.foldObservation(target as ObservationEntity, event as ObservationEvent, orderKey, inOrder, nowMillis);
        touched.add(target as ObservationEntity);
      }
    }
    if (refs > 0) this.seqRefs.set(seq, (this.seqRefs.get(seq) ?? 0) + refs);
    for (const entity of touched) this.trackObservation(entity, nowMillis);
    this.elideOpen(touched, touchedTraces);
    // What stays open here reads its payloads back from this entry when it completes (a trace's
    // root, once idle, included): the entry stays parsed meanwhile, within the cache's bound (the
    // bound keeps memory per open entity independent of payload size).
    if (this.seqRefs.has(seq)) this.remember(entry);
    result.releasable = !this.seqRefs.has(seq);
    return result;
  }

  /**
   * Drops the payloads of the entities an entry touched that stay open: observations not ready,
   * and traces none of whose observations is ready (those keep theirs until `confirm`).
   */
  private elideOpen(touched: ReadonlySet<ObservationEntity>, touchedTraces: readonly TraceState[]): void {
    for (const entity of touched) if (!this.ready.has(entity.key)) elideObservation(entity);
    if (touchedTraces.length === 0) return;
    const keepTraces = new Set<string>();
    for (const key of this.ready) {
      const entity = this.entities.get(key);
      if (entity?.kind === 'obs' && entity.traceKey !== undefined) keepTraces.add(entity.traceKey);
    }
    for (const state of touchedTraces) if (!keepTraces.has(state.key)) elideTrace(state);
  }

  /** The entity an event merges into, or undefined when it is a duplicate or late (counted). */
  private targetFor(
    kind: EntityKind,
    key: string,
    id: string,
    event: IngestionEvent,
    source: RequestSource,
    nowMillis: number,
    result: IngestResult,
  ): Tracked | undefined {
    if (kind === 'trace') {
      // A trace-create for a root queued before is a resend or late, like any queued entity's event.
      const state = this.traces.get(key) ?? this.newTraceState(key, id, source, nowMillis);
      if (!state.rootExported) return state;
      if (this.options.exportedEnvelopeIds(key)?.has(event.id)) result.duplicates++;
      else result.lateUpdates++;
      return undefined;
    }
    const existing = this.entities.get(key);
    if (existing) return existing;
    const exported = this.options.exportedEnvelopeIds(key);
    if (exported) {
      if (exported.has(event.id)) {
        result.duplicates++;
        // Replayed after a restart: the observation was queued, but its trace's root may not be;
        // the root must still span it.
        if (kind === 'obs') this.widenFromExported(event as ObservationEvent, source, nowMillis);
      } else result.lateUpdates++;
      return undefined;
    }
    // Literals, not spreads of a common part: one object per entity, of one shape per kind.
    const entity: ObservationEntity | ScoreEntity | PassEntity =
      kind === 'obs'
        ? { key, id, envelopeIds: undefined, seqs: [], refs: [], kind, source, lastEventMillis: nowMillis, lastSeenNanos: 0n, ended: false, created: false, clientRoot: false }
        : kind === 'score'
          ? { key, id, envelopeIds: undefined, seqs: [], refs: [], kind, source }
          : source.tenant !== undefined
            ? { key, id, envelopeIds: undefined, seqs: [], refs: [], kind: 'pass', tenant: source.tenant }
            : { key, id, envelopeIds: undefined, seqs: [], refs: [], kind: 'pass' };
    this.entities.set(key, entity);
    return entity;
  }

  /**
   * Folds `event` into `current` when it arrived in order; otherwise folds every stored event of
   * the entity again, in Langfuse's order (the event itself is stored by then).
   */
  private refold<E extends IngestionEvent, F>(target: Tracked, event: E, inOrder: boolean, current: F | undefined, step: (fold: F | undefined, event: E) => F): F {
    if (inOrder) return step(current, event);
    let fold: F | undefined;
    for (const e of this.storedEvents<E>(target, true)) fold = step(fold, e);
    return fold ?? step(undefined, event);
  }

  /**
   * Every stored event of an entity, in Langfuse's order (refolding after an out-of-order event:
   * `updateLastKey`, the order key of the last one becomes the entity's).
   */
  private storedEvents<E extends IngestionEvent>(target: Tracked, updateLastKey: boolean): E[] {
    const refs = target.refs;
    let events: E[];
    if (refs.length === 2) events = this.eventsOf(refs[0]!, [refs[1]!]) as E[];
    else {
      // Grouped by entry in one pass: an entity touched by many requests (a long trace) has as
      // many seqs as refs, and a scan of the refs per seq would be quadratic.
      const bySeq = new Map<number, number[]>();
      for (let i = 0; i < refs.length; i += 2) {
        const indices = bySeq.get(refs[i]!);
        if (indices) indices.push(refs[i + 1]!);
        else bySeq.set(refs[i]!, [refs[i + 1]!]);
      }
      events = [];
      for (const seq of target.seqs.length > 1 ? [...target.seqs].sort((a, b) => a - b) : target.seqs) {
        for (const event of this.eventsOf(seq, bySeq.get(seq) ?? [])) events.push(event as E);
      }
    }
    // A resend inside the stored entries merges once, as it did the first time.
    const seen = events.length > 1 ? new Set<string>() : undefined;
    const sorted = seen ? sortEvents(events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)))) : events;
    const last = sorted[sorted.length - 1];
    if (last && updateLastKey) target.lastKey = orderKeyOf(last);
    return sorted;
  }

  /** Events of entry `seq` by index: from the entry itself while it is cached, else from the log. */
  private eventsOf(seq: number, indices: readonly number[]): IngestionEvent[] {
    const cached = this.entryCache.get(seq);
    return cached ? eventsAt(cached, indices) : this.options.readEvents(seq, indices);
  }

  /**
   * Keeps an entry parsed for read-backs while there is room within ENTRY_CACHE_BYTES; a full
   * cache takes no more until entries leave it (`unref`, once nothing open reads them). Entities
   * complete roughly in the order they arrived (roots once their trace is idle), so the oldest
   * entries cached are the next read; evicting them for the newest made nearly every root miss
   * once the idle window held more than the cache. bench/read-back.mjs, 150 entries of 200 bench
   * events, roots read from the log (of 15,000) with 8, 12, 25, 50 entries in the idle window:
   * evicting the oldest 0, 14,100, 14,100, 14,100; refusing the newest 0, 4,400, 9,600, 12,300.
   */
  private remember(entry: LogEntry): void {
    if (this.entryCache.has(entry.seq) || this.entryCacheBytes + entry.bytes > ENTRY_CACHE_BYTES) return;
    this.entryCache.set(entry.seq, entry);
    this.entryCacheBytes += entry.bytes;
  }

  private forget(seq: number, cached: LogEntry): void {
    this.entryCache.delete(seq);
    this.entryCacheBytes -= cached.bytes;
  }

  /** A fold with every stored event, payloads included (an entity whose open fold dropped them). */
  private fullFold<E extends IngestionEvent, F>(target: Tracked, current: F, step: (fold: F | undefined, event: E) => F): F {
    if (!target.elided) return current;
    let fold: F | undefined;
    for (const e of this.storedEvents<E>(target, false)) fold = step(fold, e);
    return fold ?? current;
  }

  private foldTrace(state: TraceState, event: TraceEvent, inOrder: boolean, nowMillis: number): void {
    // In order (nearly always), the step is called directly: no closure per event.
    state.fold = inOrder ? foldTraceEvent(state.fold, state.id, event) : this.refold(state, event, inOrder, state.fold, (f, e: TraceEvent) => foldTraceEvent(f, state.id, e));
    // Refolded from every stored event: payloads are back (they go again at the end of the
    // request unless used at once). In order, a fold that had dropped them still lacks them.
    if (!inOrder) state.elided = false;
    // Assigned, not deleted: a delete turns the state into a slow dictionary object.
    state.finished = undefined;
    state.lastEventMillis = nowMillis;
  }

  private foldScore(entity: ScoreEntity, event: ScoreEvent, inOrder: boolean, nowMillis: number): void {
    const fold = inOrder ? foldScoreEvent(entity.fold, event) : this.refold(entity, event, inOrder, entity.fold, foldScoreEvent);
    entity.fold = fold;
    this.ready.add(entity.key);
    const traceId = fold.first.traceId ?? fold.last.traceId;
    if (traceId == null) return;
    const state = this.traceState(traceId, entity.source, nowMillis);
    state.lastEventMillis = nowMillis;
    // A score is a time of the trace only when nothing else gives one (a trace known only through
    // scores); otherwise it would stretch the root past its observations.
    if (state.scoreNanos === undefined || fold.timestampNanos < state.scoreNanos) state.scoreNanos = fold.timestampNanos;
  }

  private foldObservation(entity: ObservationEntity, event: ObservationEvent, orderKey: EventOrderKey, inOrder: boolean, nowMillis: number): void {
    const fold = inOrder ? foldObservationEvent(entity.fold, entity.id, event, orderKey.atNanos) : this.refold(entity, event, inOrder, entity.fold, (f, e: ObservationEvent) => foldObservationEvent(f, entity.id, e));
    entity.fold = fold;
    if (!inOrder) entity.elided = false;
    const obs = fold.obs;
    entity.lastEventMillis = nowMillis;
    if (event.body.endTime || event.type === 'event-create') entity.ended = true;
    if (!isUpdateType(event.type)) entity.created = true;
    if (event.clientRoot) entity.clientRoot = true;
    if (orderKey.atNanos > entity.lastSeenNanos) entity.lastSeenNanos = orderKey.atNanos;
    if (obs.startTimeNanos > entity.lastSeenNanos) entity.lastSeenNanos = obs.startTimeNanos;
    if (obs.endTimeNanos !== undefined && obs.endTimeNanos > entity.lastSeenNanos) entity.lastSeenNanos = obs.endTimeNanos;
  }

  /**
   * Keeps the trace's bookkeeping (open observations, time range, first top-level observation) in
   * step with an observation, once per request that touched it: within a request an update may
   * come before its create (the JS SDK v3 queues them so), and the start such an update implies
   * (its envelope time) must not stretch the root.
   */
  private trackObservation(entity: ObservationEntity, nowMillis: number): void {
    const obs = entity.fold!.obs;
    // The trace id can change once: from `orphan:<id>` to the one a later-folded event names.
    if (entity.traceId !== obs.traceId) {
      if (entity.traceId !== undefined) this.traceOf(entity)?.open?.delete(entity.id);
      entity.traceId = obs.traceId;
      entity.traceKey = entityKey('trace', obs.traceId, entity.source.tenant);
    }
    const state = this.traces.get(entity.traceKey!) ?? this.newTraceState(entity.traceKey!, obs.traceId, entity.source, nowMillis);
    state.lastEventMillis = nowMillis;
    if (entity.ended) state.open?.delete(entity.id);
    else (state.open ??= new Set()).add(entity.id);
    // Several parent-less spans may share a trace (LiteLLM calls with one trace_id): each is a root.
    if (entity.clientRoot) (state.clientRootIds ??= new Set()).add(entity.id);
    const end = obs.endTimeNanos !== undefined && obs.endTimeNanos > obs.startTimeNanos ? obs.endTimeNanos : obs.startTimeNanos;
    widenRange(state, obs.startTimeNanos, end);
    if (!obs.parentObservationId && (!state.firstTopLevel || obs.startTimeNanos < state.firstTopLevel.startTimeNanos)) {
      const first: TopLevelSummary = { id: obs.id, type: obs.type, startTimeNanos: obs.startTimeNanos, environment: obs.environment };
      if (obs.name !== undefined) first.name = obs.name;
      state.firstTopLevel = first;
    }
    // The client's own root waits for its trace to be idle, as a synthetic root does, so that it
    // carries the trace's context however late that arrives.
    if (entity.ended && entity.created && !entity.clientRoot) this.ready.add(entity.key);
  }

  /** Widens a root not yet queued by an already queued observation's own times. */
  private widenFromExported(event: ObservationEvent, source: RequestSource, nowMillis: number): void {
    const traceId = event.body.traceId;
    if (!traceId) return;
    const state = this.traceState(traceId, source, nowMillis);
    if (state.rootExported) return;
    for (const time of [event.body.startTime, event.body.endTime]) {
      if (!time) continue;
      const nanos = validatedTimestampNanos(time);
      widenRange(state, nanos, nanos);
    }
  }

  /** The trace state an observation's bookkeeping is in (same tenant), if any. */
  private traceOf(entity: ObservationEntity): TraceState | undefined {
    return entity.traceKey !== undefined ? this.traces.get(entity.traceKey) : undefined;
  }

  private traceState(traceId: string, source: RequestSource, nowMillis: number): TraceState {
    const key = entityKey('trace', traceId, source.tenant);
    return this.traces.get(key) ?? this.newTraceState(key, traceId, source, nowMillis);
  }

  private newTraceState(key: string, traceId: string, source: RequestSource, nowMillis: number): TraceState {
    const state: TraceState = {
      key,
      id: traceId,
      envelopeIds: undefined,
      seqs: [],
      refs: [],
      source,
      lastEventMillis: nowMillis,
      observationCount: 0,
      rootExported: this.options.exportedEnvelopeIds(key) !== undefined,
    };
    this.traces.set(key, state);
    return state;
  }

  /** The trace as merged so far, payloads included (read back once per `collect`). */
  private mergedTrace(state: TraceState | undefined): ReturnType<typeof finishTrace> | undefined {
    if (!state?.fold) return undefined;
    if (!state.elided) {
      state.finished ??= finishTrace(state.fold);
      return state.finished;
    }
    let finished = this.collectTraces.get(state.key);
    if (!finished) {
      finished = finishTrace(this.fullFold(state, state.fold, (f, e: TraceEvent) => foldTraceEvent(f, state.id, e)));
      this.collectTraces.set(state.key, finished);
    }
    return finished;
  }

  /**
   * Records complete at `nowMillis`, at most `limit`. With `force`, open observations and traces
   * not yet idle are taken too (shutdown of a store that cannot keep them). Changes nothing: the
   * pipeline queues the records, then calls `confirm`.
   */
  collect(nowMillis: number, limit: number, mode: CollectMode = 'due'): Collected {
    // Traces finished with payloads are held for this collection only.
    this.collectTraces = new Map();
    try {
      return this.collectNow(nowMillis, limit, mode);
    } finally {
      this.collectTraces = new Map();
    }
  }

  private collectNow(nowMillis: number, limit: number, mode: CollectMode): Collected {
    const force = mode === 'all';
    const collected: Collected = { records: [], tombstones: [], releaseSeqs: [], keys: [] };
    const takenPerSeq = new Map<number, number>();
    const taken = new Set<string>();
    /** Takes an entity with its record; without one, only its bookkeeping goes. */
    const take = (target: Tracked, record: CompletedRecord | undefined) => {
      if (record) collected.records.push(record);
      collected.keys.push(target.key);
      taken.add(target.key);
      if (record || target.envelopeIds !== undefined) collected.tombstones.push({ key: target.key, envelopeIds: envelopeIdList(target.envelopeIds) });
      for (const seq of target.seqs) {
        const n = (takenPerSeq.get(seq) ?? 0) + 1;
        takenPerSeq.set(seq, n);
        if (n === this.seqRefs.get(seq)) collected.releaseSeqs.push(seq);
      }
    };
    const { observationTimeoutMillis, traceIdleMillis } = this.options;

    const takeObservation = (entity: ObservationEntity) => {
      const trace = this.mergedTrace(this.traceOf(entity));
      const observation = finishObservation(this.fullFold(entity, entity.fold!, (f, e: ObservationEvent) => foldObservationEvent(f, entity.id, e)));
      // Optional fields assigned in order rather than spread from temporary objects (garbage per record).
      const record = { kind: 'observation', observation } as CompletedObservation;
      if (trace) record.trace = trace;
      record.source = entity.source;
      if (observation.endTimeNanos === undefined) record.incompleteEndNanos = entity.lastSeenNanos;
      if (entity.clientRoot) record.isClientRoot = true;
      take(entity, record);
    };

    for (const key of this.ready) {
      if (collected.records.length >= limit) return collected;
      const entity = this.entities.get(key);
      if (entity?.kind === 'pass') {
        if (entity.event) take(entity, { kind: 'passthrough', span: toPassthroughDraft(entity.event, entity.tenant) });
      } else if (entity?.kind === 'score' && entity.fold) this.takeScore(entity, nowMillis, force, take);
      else if (entity?.kind === 'obs' && entity.fold) takeObservation(entity);
    }
    if (mode === 'ready') return collected;
    // Observations that wait: ended but seen only through updates (the create may be overtaken by
    // a client's retry: wait as long as a trace does), or still open (until the timeout).
    for (const entity of this.entities.values()) {
      if (collected.records.length >= limit) return collected;
      if (entity.kind !== 'obs' || this.ready.has(entity.key) || !entity.fold) continue;
      const quietMillis = nowMillis - entity.lastEventMillis;
      const timedOut = quietMillis >= observationTimeoutMillis;
      // A client root is taken with its trace (below), unless it timed out.
      if (entity.clientRoot && !timedOut && !force) continue;
      if (!force && !timedOut && !(entity.ended && quietMillis >= traceIdleMillis)) continue;
      takeObservation(entity);
    }
    for (const state of this.traces.values()) {
      if (collected.records.length >= limit) return collected;
      if (!force && ((state.open?.size ?? 0) > 0 || nowMillis - state.lastEventMillis < traceIdleMillis)) continue;
      if (state.rootExported || state.clientRootIds !== undefined) {
        // No root to make: it was queued before, or the client sent its own, which is taken now
        // with the trace's context; the trace's own events settle with it.
        for (const id of state.clientRootIds ?? []) {
          const clientRoot = this.entities.get(entityKey('obs', id, state.source.tenant));
          if (clientRoot?.kind === 'obs' && clientRoot.fold && !taken.has(clientRoot.key)) takeObservation(clientRoot);
        }
        take(state, undefined);
        continue;
      }
      const start = state.startNanos ?? state.scoreNanos;
      // No trace-create and no time: bookkeeping left by an event whose trace id changed (an update
      // before its create); nothing belongs to it, and a root could not be built without a time.
      if (!state.fold && start === undefined) {
        take(state, undefined);
        continue;
      }
      this.takeRoot(state, take);
    }
    return collected;
  }

  /**
   * A trace-level score of a trace nothing else told of yet waits as a root does (the Langfuse
   * SDKs v3+ post scores before their OTLP flush), to learn whether the client sends its own root.
   */
  private takeScore(entity: ScoreEntity, nowMillis: number, force: boolean, take: (target: Tracked, record: CompletedRecord | undefined) => void): void {
    const score = finishScore(entity.fold!, entity.id);
    const state = score.traceId !== undefined && !score.observationId ? this.traces.get(entityKey('trace', score.traceId, entity.source.tenant)) : undefined;
    const unknownTrace = state !== undefined && state.startNanos === undefined && !state.fold && !state.rootExported;
    if (unknownTrace && !force && nowMillis - state.lastEventMillis < this.options.traceIdleMillis) return;
    // Under the (first) root the client sent, when it sent one.
    const clientRootId = state?.clientRootIds?.values().next().value;
    take(entity, { kind: 'score', score, source: entity.source, ...(clientRootId !== undefined ? { clientRootId } : {}) });
  }

  private takeRoot(state: TraceState, take: (target: Tracked, record: CompletedRecord | undefined) => void): void {
    const trace = this.mergedTrace(state);
    const start = state.startNanos ?? state.scoreNanos;
    const end = state.endNanos ?? state.scoreNanos;
    // Optional fields assigned in order rather than spread from temporary objects (garbage per record).
    const record: CompletedRoot = { kind: 'root', traceId: state.id } as CompletedRoot;
    if (trace) record.trace = trace;
    if (state.firstTopLevel) record.firstTopLevel = state.firstTopLevel;
    if (start !== undefined) record.observationsStartNanos = start;
    if (end !== undefined) record.observationsEndNanos = end;
    record.observationCount = state.observationCount;
    record.source = state.source;
    take(state, record);
  }

  /** The collected records are queued: forget them and release their seq references. */
  confirm(collected: Collected): void {
    for (const key of collected.keys) {
      const entity = this.entities.get(key);
      if (entity) {
        this.entities.delete(key);
        this.ready.delete(key);
        this.unref(entity.seqs);
        if (entity.kind === 'obs') {
          const state = this.traceOf(entity);
          if (state) {
            state.open?.delete(entity.id);
            state.observationCount++;
            // Kept for its ready observations; the next one reads it back (from the entry cache).
            elideTrace(state);
          }
        }
        continue;
      }
      const state = this.traces.get(key);
      if (state) {
        this.traces.delete(key);
        this.unref(state.seqs);
      }
    }
  }

  private unref(seqs: readonly number[]): void {
    for (const seq of seqs) {
      const refs = (this.seqRefs.get(seq) ?? 1) - 1;
      if (refs > 0) {
        this.seqRefs.set(seq, refs);
        continue;
      }
      this.seqRefs.delete(seq);
      // Nothing open reads it back any more: its room goes to entries that will be.
      const cached = this.entryCache.get(seq);
      if (cached) this.forget(seq, cached);
    }
  }
}

/** A passed-through span's stored body as the draft it is exported as (times back to bigint). */
function toPassthroughDraft(event: PassthroughSpanEvent, tenant: string | undefined): PassthroughDraft {
  const b = event.body;
  return {
    traceId: b.traceId,
    ...(tenant !== undefined ? { tenant } : {}),
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

// Eliding assigns undefined rather than deleting (a delete turns the object into a slow
// dictionary one): an elided fold is never finished as it is, only refolded from the log
// (`fullFold`), so the undefined fields never reach a record.
function elideTrace(state: TraceState): void {
  if (state.elided || !state.fold) return;
  state.fold.trace.input = undefined;
  state.fold.trace.output = undefined;
  state.fold.trace.metadata = undefined;
  state.finished = undefined;
  state.elided = true;
}

function elideObservation(entity: ObservationEntity): void {
  if (entity.elided || !entity.fold) return;
  entity.fold.obs.input = undefined;
  entity.fold.obs.output = undefined;
  entity.fold.obs.metadata = undefined;
  entity.elided = true;
}

/** Whether `seqs` holds `seq`: the last one first, the one an ingest adds to. */
function hasSeq(seqs: readonly number[], seq: number): boolean {
  return seqs.length > 0 && (seqs[seqs.length - 1] === seq || seqs.includes(seq));
}

function widenRange(state: TraceState, startNanos: bigint, endNanos: bigint): void {
  if (state.startNanos === undefined || startNanos < state.startNanos) state.startNanos = startNanos;
  if (state.endNanos === undefined || endNanos > state.endNanos) state.endNanos = endNanos;
}
