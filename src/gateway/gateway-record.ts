// The record format of the gateway topic: one record per (request, trace), keyed by the trace so
// that every event of a trace lands in one partition and so with one assembling replica. Plain
// data in and out; knows neither kafkajs nor assembly.
//
// Value: versioned JSON `{"v":1,"at":<received millis>,"source":{…},"events":[…]}`: the request
// source (who sent it; the tenant, when requests carry one, travels here and in the key) and the
// validated envelopes as the embedded log stores them. JSON, not a binary form: the events are
// JSON already, and decoding is not the consumers' bottleneck (mapping and export are).
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';

export const RECORD_VERSION = 1;

export interface GatewayRecord {
  /** The partitioning key: the trace id (with the tenant in front, once a source carries one). */
  key: string;
  receivedAtMillis: number;
  source: RequestSource;
  events: IngestionEvent[];
}

/**
 * The trace an event belongs to: a trace's own id, an observation's or score's `traceId`, an OTLP
 * span's trace id. An event that names none (an observation update without `traceId`) is keyed by
 * its own id: the SDKs that split create and update send the trace id on both.
 */
export function traceKeyOf(event: IngestionEvent): string {
  if (event.type === 'trace-create') return event.body.id ?? event.id;
  const traceId = (event.body as { traceId?: string | null }).traceId;
  return traceId ?? event.body.id ?? event.id;
}

/** The record key: the tenant (once requests carry one) and the trace, so that traces of different tenants never share state. */
export function recordKey(source: RequestSource, traceKey: string): string {
  const tenant = (source as { tenant?: string }).tenant;
  return tenant ? `${tenant}\u0000${traceKey}` : traceKey;
}

/** Splits a request's events into one record per trace, in their order. */
export function toRecords(groups: ReadonlyArray<{ source: RequestSource; events: IngestionEvent[] }>, receivedAtMillis: number): GatewayRecord[] {
  const records: GatewayRecord[] = [];
  for (const { source, events } of groups) {
    const byKey = new Map<string, GatewayRecord>();
    for (const event of events) {
      const key = recordKey(source, traceKeyOf(event));
      let record = byKey.get(key);
      if (!record) {
        record = { key, receivedAtMillis, source, events: [] };
        byKey.set(key, record);
        records.push(record);
      }
      record.events.push(event);
    }
  }
  return records;
}

export function encodeRecordValue(record: GatewayRecord): Buffer {
  return Buffer.from(JSON.stringify({ v: RECORD_VERSION, at: record.receivedAtMillis, source: record.source, events: record.events }));
}

/** The record, or a reason it cannot be read (a newer version, not JSON): such a record is skipped and counted. */
export function decodeRecordValue(key: string, value: Buffer | null): GatewayRecord | { unreadable: string } {
  if (!value) return { unreadable: 'empty record' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { unreadable: `not JSON: ${(error as Error).message.slice(0, 200)}` };
  }
  const p = parsed as { v?: unknown; at?: unknown; source?: unknown; events?: unknown };
  if (p.v !== RECORD_VERSION) return { unreadable: `record version ${String(p.v)} (this bridge reads ${RECORD_VERSION})` };
  if (typeof p.at !== 'number' || typeof p.source !== 'object' || p.source === null || !Array.isArray(p.events)) return { unreadable: 'missing at, source or events' };
  return { key, receivedAtMillis: p.at, source: p.source as RequestSource, events: p.events as IngestionEvent[] };
}
