// Entity keys, built in one place: `trace:<id>`, `obs:<id>`, `score:<id>`. Assembly keys its state
// by them and the spool keeps tombstones under them, so both must agree byte for byte.

export type EntityKind = 'obs' | 'trace' | 'score';

export function kindOfEvent(eventType: string): EntityKind {
  return eventType === 'trace-create' ? 'trace' : eventType === 'score-create' ? 'score' : 'obs';
}

export function entityKey(kind: EntityKind, id: string): string {
  return `${kind}:${id}`;
}
