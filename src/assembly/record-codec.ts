// A CompletedRecord as JSON text and back, for a dead letter that keeps a record which could not
// be mapped (it is re-mapped on `dead-letters retry`). Nanosecond times are bigints: written as
// decimal strings and read back by their names (every bigint field of a record ends in `Nanos`
// or `UnixNano`). Pure; owns nothing else.
import type { CompletedRecord } from './completed-record.js';

const BIGINT_KEY = /(Nanos|UnixNano)$/;

export function encodeRecord(record: CompletedRecord): string {
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Throws when the text is not JSON. */
export function decodeRecord(text: string): CompletedRecord {
  return JSON.parse(text, (key, value: unknown) => (BIGINT_KEY.test(key) && typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value) : value)) as CompletedRecord;
}
