// The 207's error list is cut to its first N entries plus one that counts the rest; the too-many-
// events answer names the limit and the setting.
import { expect, it } from 'vitest';
import { capErrors, TRUNCATED_ERRORS_ID, tooManyEventsBody } from '../../../src/receiver/ingestion-limits.js';

const error = (i: number) => ({ id: `e-${i}`, status: 400 as const, message: 'Invalid request data' as const, error: 'bad' });

it('keeps lists up to the cap as they are', () => {
  const errors = [error(1), error(2)];
  expect(capErrors(errors, 2)).toEqual(errors);
});

it('cuts a longer list to the first N, then one entry with the count of the rest', () => {
  const errors = Array.from({ length: 250 }, (_, i) => error(i));
  const capped = capErrors(errors, 100);
  expect(capped).toHaveLength(101);
  expect(capped.slice(0, 100)).toEqual(errors.slice(0, 100));
  expect(capped[100]).toEqual({
    id: TRUNCATED_ERRORS_ID,
    status: 400,
    message: 'Invalid request data',
    error: '150 more events were rejected; only the first 100 errors are listed (BRIDGE_MAX_ERRORS_PER_RESPONSE)',
  });
});

it('names the events limit and its setting', () => {
  expect(tooManyEventsBody(1_000_000, 10_000).message).toMatch(/1000000 events; at most 10000 .*BRIDGE_MAX_EVENTS_PER_REQUEST/);
});
