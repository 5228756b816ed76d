// The bridge's own Prometheus metrics (prom-client), one registry per service instance so that
// tests never share counters. A leaf module: imports nothing from the pipeline.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GaugeSources {
  spoolEntries: () => number;
  spoolBytes: () => number;
  pendingEntities: () => number;
  openObservations: () => number;
  queuedSpans: () => number;
  deadLetters: () => number;
  storeWritable: () => number;
  kafkaMarkers: () => number;
}

export type BridgeMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'bridge_' });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const sources: Partial<GaugeSources> = {};
  const gauge = (name: string, help: string, read: keyof GaugeSources) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const fn = sources[read];
        if (fn) this.set(fn());
      },
    });
  const metrics = {
    registry,
    eventsReceived: counter('bridge_events_received_total', 'Events received in ingestion batches, by event type.', ['type']),
    eventsAccepted: counter('bridge_events_accepted_total', 'Events accepted (answered 201), by event type.', ['type']),
    eventsRejected: counter('bridge_events_rejected_total', 'Events rejected (answered 400), by event type.', ['type']),
    eventsDropped: counter('bridge_events_dropped_total', 'Accepted events that produce no span, by reason.', ['reason']),
    requestsRejected: counter('bridge_requests_rejected_total', 'Ingestion requests refused as a whole, by reason.', ['reason']),
    duplicateEvents: counter('bridge_duplicate_events_total', 'Events whose envelope id was already merged (client resends).'),
    lateUpdates: counter('bridge_late_updates_total', 'Events for entities already exported; counted, never exported twice.'),
    // Export metrics carry `destination` (its configured name: `otlp`, `console`, `langfuse` without
    // a BRIDGE_CONFIG file), so one backend's outage shows on its own series.
    spansExported: counter('bridge_spans_exported_total', 'Spans the backend accepted, by destination.', ['destination']),
    spansRejectedByBackend: counter(
      'bridge_spans_rejected_by_backend_total',
      'Spans the backend reported as rejected (OTLP partial success), by destination.',
      ['destination'],
    ),
    exportFailures: counter(
      'bridge_export_failures_total',
      'Failed export attempts, by destination and kind (retryable, permanent, internal).',
      ['destination', 'kind'],
    ),
    deadLettered: counter('bridge_dead_lettered_spans_total', 'Spans moved to the dead letters, by destination.', ['destination']),
    quarantinedEntries: counter('bridge_quarantined_entries_total', 'Stored batches that could not be read back at replay (set aside in quarantine).'),
    // A whole damaged store FILE moved aside at start: distinct from the quarantine of log rows above.
    damagedStoresSetAside: counter(
      'bridge_damaged_stores_set_aside_total',
      'Damaged store files moved aside at start as bridge.sqlite.corrupt-<time> (BRIDGE_STORE_ON_CORRUPT=quarantine).',
    ),
    storeDiskFull: counter('bridge_store_disk_full_total', 'Times the store ran out of disk space (the reserve was released, new batches refused).'),
    storeWritable: gauge('bridge_store_writable', '1 while the store can take new batches, 0 while its disk is full.', 'storeWritable'),
    refolds: counter('bridge_refolded_events_total', 'Events that arrived out of order, so their entity was merged again from the store.'),
    // Per tenant (issue 18): `default` is the env pair's tenant, and every caller's in open mode.
    tenantEventsAccepted: counter('bridge_tenant_events_accepted_total', 'Events accepted, by tenant.', ['tenant']),
    tenantRequestsRefused: counter(
      'bridge_tenant_requests_refused_total',
      'Authenticated requests refused, by tenant and reason (rate_limit: 429; the others: 503).',
      ['tenant', 'reason'],
    ),
    tenantItemsExported: counter('bridge_tenant_exported_total', 'Spans and scores a destination accepted, by tenant and destination.', ['tenant', 'destination']),
    scoresExported: counter('bridge_scores_exported_total', "Scores a Langfuse destination's scores API accepted, by destination.", ['destination']),
    requestDuration: new Histogram({
      name: 'bridge_http_request_duration_seconds',
      help: 'HTTP request latency, by route and status.',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    spoolEntries: gauge('bridge_spool_entries', 'Accepted requests kept until all their entities are queued.', 'spoolEntries'),
    spoolBytes: gauge('bridge_spool_bytes', 'Bytes on the disk budget: stored requests plus queued spans.', 'spoolBytes'),
    pendingEntities: gauge('bridge_pending_entities', 'Traces, observations and scores in memory, not yet queued.', 'pendingEntities'),
    openObservations: gauge('bridge_open_observations', 'Observations that have not ended yet.', 'openObservations'),
    queuedSpans: gauge('bridge_queued_spans', 'Encoded spans in the export queue, over all destinations.', 'queuedSpans'),
    deadLetters: gauge('bridge_dead_letters', 'Dead letters stored (see `langfuse-otel-bridge dead-letters list`).', 'deadLetters'),
    // Gateway mode (Kafka) only.
    kafkaPartitionLag: new Gauge({
      name: 'bridge_kafka_partition_lag',
      help: "Records of an owned partition past its destination group's committed offset (log end minus committed): what a new owner would replay.",
      labelNames: ['destination', 'partition'],
      registers: [registry],
    }),
    kafkaRecordsSkipped: counter('bridge_kafka_records_skipped_total', 'Fetched records not assembled, by destination consumer and reason (not_owned: the partition was revoked; unreadable).', ['destination', 'reason']),
    kafkaRebalances: counter('bridge_kafka_rebalances_total', "Partition assignments this replica's destination consumers received (each drops open state and replays from the committed offsets).", ['destination']),
    kafkaFetchPaused: counter('bridge_kafka_fetch_paused_total', "Times a destination's consumer paused fetching at a budget, by reason (memory, export_queue).", ['destination', 'reason']),
    kafkaMarkers: gauge('bridge_kafka_markers', 'Exported-entity markers held in memory (gateway mode; capped by BRIDGE_KAFKA_MAX_MARKERS).', 'kafkaMarkers'),
    kafkaMarkersEvicted: counter('bridge_kafka_markers_evicted_total', 'Markers evicted at BRIDGE_KAFKA_MAX_MARKERS, oldest first (a late update for such an entity is exported as its own span).'),
    kafkaConsumerPaused: new Gauge({
      name: 'bridge_kafka_consumer_paused',
      help: "1 while a destination's consumer has paused fetching at a budget (its queue full: the destination is slow or down), else 0.",
      labelNames: ['destination'],
      registers: [registry],
    }),
    /** Wires the gauges to the live components, once they exist. */
    observe(from: Partial<GaugeSources>) {
      Object.assign(sources, from);
    },
  };
  return metrics;
}
