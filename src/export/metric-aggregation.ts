// The GenAI metrics' aggregation, done in the bridge and handed to the SDK's metric readers
// through their `metricProducers` option, so that the readers, exporters and OTLP encodings stay
// the SDK's. It owns the counters and explicit-bucket histograms of one instrumentation scope (one
// per MeterProvider), their state per reader, and the MetricProducer each reader collects from.
//
// Why not the SDK's instruments: each of their record/add calls hashes its attributes (sorts the
// keys and stringifies them) and reads the clock; with one call per histogram value that was 3.3%
// of the bridge's busy time under `npm run bench`. Here the measurements of one record() call come
// grouped per attribute-set object, hashed once per object (kept in a WeakMap) and found once per
// group: `node bench/map-encode.mjs` (pinned, alternated) gave 3.4-4.7 µs per record for the
// recorder through the SDK's instruments, 0.5-0.6 µs through this.
//
// What is exported mirrors @opentelemetry/sdk-metrics 2.12.1 (state/SyncMetricStorage,
// DeltaMetricProcessor, TemporalMetricProcessor, aggregator/Histogram and Sum): per reader its own
// storage (the SDK registers one per collector when no view applies), data points keyed by the
// SDK's attribute hash in the order the SDK's maps keep, start times from the first measurement
// of an interval (cumulative: of the first interval; delta: the previous collect's time when the
// set was reported then), the temporality the reader selects at its first collect, the SDK's
// cardinality limit (2000, overflow into `otel.metric.overflow`), and the same float operations in
// the same order. test/unit/export/genai-metrics-aggregation.test.ts compares it with the SDK's
// instruments as installed, so an SDK upgrade that changes what they export fails there.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';

/** The SDK reader's default cardinality limit (MetricReader.selectCardinalityLimit). */
const CARDINALITY_LIMIT = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = { 'otel.metric.overflow': true };

/** The SDK's hashAttributes (sdk-metrics utils): the key its maps tell attribute sets apart by. */
function hashAttributes(attributes: Attributes): string {
  let keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  keys = keys.sort();
  return JSON.stringify(keys.map((key) => [key, attributes[key]]));
}

const OVERFLOW_HASH = hashAttributes(OVERFLOW_ATTRIBUTES);

/** Attribute objects are frozen and handed out again and again: each is hashed once. */
const hashes = new WeakMap<Attributes, string>();
const hashOf = (attributes: Attributes): string => {
  let hash = hashes.get(attributes);
  if (hash === undefined) hashes.set(attributes, (hash = hashAttributes(attributes)));
  return hash;
};

/** The SDK's binarySearchUB: the index of the first boundary not below the value. */
function bucketOf(boundaries: readonly number[], value: number): number {
  let lo = 0;
  let hi = boundaries.length - 1;
  let ret = boundaries.length;
  while (hi >= lo) {
    const mid = lo + Math.trunc((hi - lo) / 2);
    if (boundaries[mid]! < value) lo = mid + 1;
    else {
      ret = mid;
      hi = mid - 1;
    }
  }
  return ret;
}

interface HistogramPoint {
  buckets: { boundaries: number[]; counts: number[] };
  sum: number;
  count: number;
  hasMinMax: boolean;
  min: number;
  max: number;
}

/** One attribute set's accumulation: a histogram point or a (monotonic) sum. */
interface Accumulation {
  startTime: HrTime;
  histogram?: HistogramPoint;
  sum: number;
}

/** An AttributeHashMap entry: the first attributes object seen for the hash, and its accumulation. */
interface Entry {
  attributes: Attributes;
  accumulation: Accumulation;
}

type Accumulations = Map<string, Entry>;

interface ReaderState {
  /** DeltaMetricProcessor's active collection storage. */
  active: Accumulations;
  /** TemporalMetricProcessor's report history (undefined before the first collect). */
  last?: { accumulations: Accumulations; collectionTime: HrTime; temporality: AggregationTemporality };
}

/** The SDK's InstrumentDescriptor, which its metric data carry as their descriptor. */
interface InstrumentDescriptor extends MetricDescriptor {
  type: InstrumentType;
  advice: { explicitBucketBoundaries?: number[] };
}

/** A counter (monotonic sum) or an explicit-bucket histogram with min and max. */
export class AggregatedInstrument {
  readonly descriptor: InstrumentDescriptor;
  private readonly boundaries: number[] | undefined;
  private readonly states: ReaderState[] = [];

  constructor(descriptor: InstrumentDescriptor, readers: number) {
    this.descriptor = descriptor;
    // ExplicitBucketHistogramAggregation: a sorted copy without infinities.
    const advised = descriptor.advice.explicitBucketBoundaries;
    if (descriptor.type === InstrumentType.HISTOGRAM) {
      const sorted = [...(advised ?? [])].sort((a, b) => a - b);
      const infinity = sorted.indexOf(Infinity);
      this.boundaries = sorted.slice(sorted.lastIndexOf(-Infinity) + 1, infinity === -1 ? undefined : infinity);
    }
    for (let i = 0; i < readers; i++) this.states.push({ active: new Map() });
  }

  /** Counter.add(value, attributes) on every reader's storage. */
  add(attributes: Attributes, value: number, nowMillis: number): void {
    if (value < 0) return; // the SDK's counter drops negative values
    const hash = hashOf(attributes);
    for (const state of this.states) this.accumulationOf(state, attributes, hash, nowMillis).sum += value;
  }

  /**
   * Histogram.record(value, attributes) for each value in order, on every reader's storage.
   * `values` are not negative (the SDK's histogram would drop them before finding their set).
   */
  recordAll(attributes: Attributes, values: readonly number[], nowMillis: number): void {
    const boundaries = this.boundaries!;
    const hash = hashOf(attributes);
    for (const state of this.states) {
      // The accumulation is looked up before the first value, as the SDK does per value.
      const point = this.accumulationOf(state, attributes, hash, nowMillis).histogram!;
      const counts = point.buckets.counts;
      for (const value of values) {
        if (Number.isNaN(value)) continue; // as HistogramAccumulation.record
        point.count += 1;
        point.sum += value;
        point.min = Math.min(value, point.min);
        point.max = Math.max(value, point.max);
        point.hasMinMax = true;
        counts[bucketOf(boundaries, value)]! += 1;
      }
    }
  }

  private accumulationOf(state: ReaderState, attributes: Attributes, hash: string, nowMillis: number): Accumulation {
    const known = state.active.get(hash);
    if (known) return known.accumulation;
    if (state.active.size >= CARDINALITY_LIMIT - 1) {
      const overflow = state.active.get(OVERFLOW_HASH);
      if (overflow) return overflow.accumulation;
      return this.create(state.active, OVERFLOW_ATTRIBUTES, OVERFLOW_HASH, nowMillis);
    }
    return this.create(state.active, attributes, hash, nowMillis);
  }

  private create(active: Accumulations, attributes: Attributes, hash: string, nowMillis: number): Accumulation {
    const accumulation: Accumulation = { startTime: millisToHrTime(nowMillis), sum: 0 };
    if (this.boundaries) {
      const counts = this.boundaries.map(() => 0);
      counts.push(0);
      accumulation.histogram = { buckets: { boundaries: this.boundaries, counts }, sum: 0, count: 0, hasMinMax: false, min: Infinity, max: -Infinity };
    }
    active.set(hash, { attributes, accumulation });
    return accumulation;
  }

  /** SyncMetricStorage.collect for reader `index`: its metric data, or undefined without points. */
  collect(index: number, reader: MetricReader, collectionTime: HrTime): MetricData | undefined {
    const state = this.states[index]!;
    const unreported = state.active;
    state.active = new Map();
    let result = unreported;
    let temporality: AggregationTemporality;
    if (state.last) {
      temporality = state.last.temporality;
      if (temporality === AggregationTemporality.CUMULATIVE) result = this.merge(state.last.accumulations, unreported);
      else {
        // calibrateStartTime: a set reported last time starts at that collect.
        for (const hash of state.last.accumulations.keys()) {
          const entry = unreported.get(hash);
          if (entry) entry.accumulation.startTime = state.last.collectionTime;
        }
      }
    } else temporality = reader.selectAggregationTemporality(this.descriptor.type);
    state.last = { accumulations: result, collectionTime, temporality };
    if (result.size === 0) return undefined;
    const points = [...result.values()];
    if (!this.boundaries) {
      return {
        descriptor: this.descriptor,
        aggregationTemporality: temporality,
        dataPointType: DataPointType.SUM,
        dataPoints: points.map(({ attributes, accumulation }) => ({ attributes, startTime: accumulation.startTime, endTime: collectionTime, value: accumulation.sum })),
        isMonotonic: true,
      };
    }
    return {
      descriptor: this.descriptor,
      aggregationTemporality: temporality,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: points.map(({ attributes, accumulation }) => {
        const point = accumulation.histogram!;
        return {
          attributes,
          startTime: accumulation.startTime,
          endTime: collectionTime,
          value: {
            min: point.hasMinMax ? point.min : undefined,
            max: point.hasMinMax ? point.max : undefined,
            sum: point.sum,
            buckets: point.buckets,
            count: point.count,
          },
        };
      }),
    };
  }

  /** TemporalMetricProcessor.merge: `last` updated in place with new accumulations (aggregator.merge). */
  private merge(last: Accumulations, current: Accumulations): Accumulations {
    for (const [hash, entry] of current) {
      const previous = last.get(hash);
      if (!previous) {
        last.set(hash, entry);
        continue;
      }
      const a = previous.accumulation;
      const b = entry.accumulation;
      const merged: Accumulation = { startTime: a.startTime, sum: a.sum + b.sum };
      if (a.histogram && b.histogram) {
        const p = a.histogram;
        const d = b.histogram;
        const counts = p.buckets.counts.map((count, i) => count + d.buckets.counts[i]!);
        const hasMinMax = p.hasMinMax || d.hasMinMax;
        merged.histogram = {
          buckets: { boundaries: p.buckets.boundaries, counts },
          count: p.count + d.count,
          sum: p.sum + d.sum,
          hasMinMax,
          min: p.hasMinMax && d.hasMinMax ? Math.min(p.min, d.min) : p.hasMinMax ? p.min : d.hasMinMax ? d.min : Infinity,
          max: p.hasMinMax && d.hasMinMax ? Math.max(p.max, d.max) : p.hasMinMax ? p.max : d.hasMinMax ? d.max : -Infinity,
        };
      }
      // HashMap.set on a known hash keeps the first attributes object and the entry's place.
      last.set(hash, { attributes: previous.attributes, accumulation: merged });
    }
    return last;
  }
}

/** A meter's instruments (one scope, one MeterProvider) and the readers that collect them. */
export class AggregatedMeter {
  private readonly instruments: AggregatedInstrument[] = [];

  constructor(
    private readonly scope: InstrumentationScope,
    private readonly producers: readonly ReaderProducer[],
  ) {
    producers.forEach((producer, index) => producer.attach(this, index));
  }

  counter(name: string, options: { description: string; unit: string }): AggregatedInstrument {
    return this.add({ name, type: InstrumentType.COUNTER, description: options.description, unit: options.unit, valueType: ValueType.DOUBLE, advice: {} });
  }

  histogram(name: string, options: { description: string; unit: string; advice: { explicitBucketBoundaries: number[] } }): AggregatedInstrument {
    return this.add({ name, type: InstrumentType.HISTOGRAM, description: options.description, unit: options.unit, valueType: ValueType.DOUBLE, advice: options.advice });
  }

  private add(descriptor: InstrumentDescriptor): AggregatedInstrument {
    const instrument = new AggregatedInstrument(descriptor, this.producers.length);
    this.instruments.push(instrument);
    return instrument;
  }

  /** MeterSharedState.collect: the scope's metrics with points, in the order they were created. */
  collect(index: number, reader: MetricReader, collectionTime: HrTime): CollectionResult['resourceMetrics']['scopeMetrics'] {
    const metrics: MetricData[] = [];
    for (const instrument of this.instruments) {
      const data = instrument.collect(index, reader, collectionTime);
      if (data) metrics.push(data);
    }
    return metrics.length === 0 ? [] : [{ scope: this.scope, metrics }];
  }
}

/**
 * What one reader collects besides the SDK's own (empty) meters. Built with the reader, before
 * the meter it reads exists; the reader keeps the MeterProvider's resource in what it returns.
 */
export class ReaderProducer implements MetricProducer {
  private meter: AggregatedMeter | undefined;
  private index = 0;
  reader: MetricReader | undefined;

  attach(meter: AggregatedMeter, index: number): void {
    this.meter = meter;
    this.index = index;
  }

  async collect(): Promise<CollectionResult> {
    // MetricCollector.collect's collection time: the reader asks the SDK's producer in the same tick.
    const collectionTime = millisToHrTime(Date.now());
    const scopeMetrics = this.meter && this.reader ? this.meter.collect(this.index, this.reader, collectionTime) : [];
    return { resourceMetrics: { resource: undefined as never, scopeMetrics }, errors: [] };
  }
}
