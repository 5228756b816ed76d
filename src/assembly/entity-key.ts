// Entity keys, built in one place: `trace:<id>`, `obs:<id>`, `score:<id>`, `pass:<id>`, and with a tenant
// `trace@<tenant>:<id>` (a tenant is a boundary: the same id from two tenants is two entities). Assembly
// keys its state by them and the spool keeps tombstones under them, so both must agree byte for byte.

/** `pass`: an OTLP span passed through as it came; whole on arrival, like a score. */
export type EntityKind = 'obs' | 'trace' | 'score' | 'pass';

export function kindOfEvent(eventType: string): EntityKind {
  if (eventType === 'trace-create') return 'trace';
  if (eventType === 'score-create') return 'score';
  return eventType === 'otel-span' ? 'pass' : 'obs';
}

/**
 * Without a tenant, exactly the keys of before tenants existed (stores keep working). Tenant names
 * have no `:` and kinds no `@`, so the two forms never collide.
 */
export function entityKey(kind: EntityKind, id: string, tenant?: string): string {
  return tenant === undefined ? `${kind}:${id}` : `${kind}@${tenant}:${id}`;
}
