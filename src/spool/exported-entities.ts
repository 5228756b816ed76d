// The record-of-exported-entities port: which entities are already queued for export, and with
// which envelope ids (a resend of those is a duplicate, any other id a late update). Written only
// by the export queue's `commit`, in the same atomic step that queues the entities' spans; read
// by assembly. Implementations live beside each export queue (memory, SQLite).
export interface Tombstone {
  /** `obs:<id>`, `trace:<id>`, `score:<id>`. */
  key: string;
  /** Envelope ids merged into the exported span: a resend of these is a duplicate, anything else a late update. */
  envelopeIds: string[];
}

/** The envelope ids of an exported entity, asked one at a time (a store may keep only their hashes). */
export interface ExportedIds {
  has(envelopeId: string): boolean;
}

export interface ExportedEntities {
  /** The envelope ids of an entity already queued, or undefined when it was not. */
  exportedEnvelopeIds(key: string): ExportedIds | undefined;
  /** Forgets entities recorded before `beforeMillis`; returns how many. */
  prune(beforeMillis: number): number;
}
