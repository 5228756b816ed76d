// Entity keys, built in one place: `trace:<id>`, `obs:<id>`, `score:<id>`, `pass:<id>`. Assembly keys its state
// by them and the spool keeps tombstones under them, so both must agree byte for byte.

/** `pass`: an OTLP span passed through as it came; whole on arrival, like a score. */
export type EntityKind = 'obs' | 'trace' | 'score' | 'pass';

export function kindOfEvent(eventType: string): EntityKind {
  if (eventType === 'trace-create') return 'trace';
  if (eventType === 'score-create') return 'score';
  return eventType === 'otel-span' ? 'pass' : 'obs';
}

export function entityKey(kind: EntityKind, id: string): string {
  return `${kind}:${id}`;
}
