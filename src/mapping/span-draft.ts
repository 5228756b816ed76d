// A span as the mapping stage describes it: plain data with Langfuse ids and nanosecond times.
// The export stage turns it into OTel types; this file must not import OTel SDK packages.

/** Attribute values OTLP can carry directly. Structured values are JSON strings before this point. */
export type DraftAttributeValue = string | number | boolean | string[] | number[] | boolean[];
export type DraftAttributes = Record<string, DraftAttributeValue>;

/** Which span a Langfuse entity becomes; export/ids.ts derives the OTel ids from it. */
export type SpanRef =
  | { type: 'observation'; id: string }
  | { type: 'root'; traceId: string }
  | { type: 'score'; id: string };

export type DraftSpanKind = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

export interface DraftStatus {
  code: 'UNSET' | 'OK' | 'ERROR';
  message?: string;
}

export interface SpanDraft {
  /** The Langfuse trace id (any string); hashed to an OTel trace id at export. */
  traceId: string;
  /**
   * The tenant whose keys sent it, when tenants are configured: part of every OTel id derived at
   * export (two tenants' equal Langfuse ids give two traces), and a resource attribute.
   */
  tenant?: string;
  span: SpanRef;
  /** Absent for root spans. */
  parent?: SpanRef;
  name: string;
  kind: DraftSpanKind;
  /** Nanoseconds since the Unix epoch. */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: DraftAttributes;
  status: DraftStatus;
  /** Resource attributes of the process that sent the data (service.name, sdk, environment). */
  resource: DraftAttributes;
  /** The sender's instrumentation scope, for spans passed through from OTLP; else the bridge's. */
  scope?: { name: string; version?: string };
}
