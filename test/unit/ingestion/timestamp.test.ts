// Covers src/ingestion/timestamp.ts: the zod v4 datetime acceptance rule and the exact
// ISO 8601 → nanoseconds conversion (fractions, offsets, leap days, years before 1970).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { daysFromCivil, isLangfuseDatetime, parseTimestampNanos, timestampNanosByPattern, validatedTimestampNanos } from '../../../src/ingestion/timestamp.js';

describe('isLangfuseDatetime', () => {
  it.each([
    '2025-01-22T17:19:11.234960Z',
    '2025-01-22T09:19:10.957072-08:00',
    '2025-01-22T09:19Z', // seconds are optional
    '2025-01-22T09:19:10Z',
    '2025-01-22T09:19:10.123456789012Z', // any number of fraction digits
    '2024-02-29T00:00:00Z', // leap day
    '2000-02-29T00:00:00Z', // divisible by 400: leap
    '2025-01-22T23:59:59+23:59',
    '0000-01-01T00:00:00Z',
  ])('accepts %s', (s) => {
    expect(isLangfuseDatetime(s)).toBe(true);
  });

  it.each([
    ['a lowercase z', '2025-01-22T17:19:11z'],
    ['a lowercase t', '2025-01-22t17:19:11Z'],
    ['a space instead of T', '2025-01-22 17:19:11Z'],
    ['a +0000 offset', '2025-01-22T17:19:11+0000'],
    ['a +00 offset', '2025-01-22T17:19:11+00'],
    ['no zone (naive)', '2025-01-22T17:19:11'],
    ['a date only', '2025-01-22'],
    ['an epoch number', '1737566351'],
    ['February 30th', '2024-02-30T00:00:00Z'],
    ['Feb 29 in a non-leap year', '2023-02-29T00:00:00Z'],
    ['Feb 29 in 1900 (not leap)', '1900-02-29T00:00:00Z'],
    ['hour 24', '2025-01-22T24:00:00Z'],
    ['second 60', '2025-01-22T23:59:60Z'],
    ['offset hour 24', '2025-01-22T10:00:00+24:00'],
    ['an empty fraction', '2025-01-22T10:00:00.Z'],
    ['a fraction without seconds', '2025-01-22T10:00.5Z'],
    ['an empty string', ''],
  ])('rejects %s', (_label, s) => {
    expect(isLangfuseDatetime(s)).toBe(false);
  });
});

describe('daysFromCivil', () => {
  it.each([
    [1970, 1, 1, 0],
    [1969, 12, 31, -1],
    [2000, 3, 1, 11017],
    [2000, 2, 29, 11016],
    [0, 1, 1, -719528],
  ])('returns the epoch day of %i-%i-%i', (y, m, d, expected) => {
    expect(daysFromCivil(y, m, d)).toBe(expected);
  });
});

describe('parseTimestampNanos', () => {
  it.each([
    ['the note example with microseconds and -08:00', '2025-01-22T09:19:10.957072-08:00', 1737566350957072000n],
    ['microseconds in UTC', '2025-01-22T17:19:11.234960Z', 1737566351234960000n],
    ['nanoseconds', '2025-01-22T17:19:11.123456789Z', 1737566351123456789n],
    ['12 fraction digits (truncated to 9)', '2025-01-22T17:19:11.123456789999Z', 1737566351123456789n],
    ['a single fraction digit', '2025-01-22T17:19:11.5Z', 1737566351500000000n],
    ['no seconds', '1970-01-01T00:00Z', 0n],
    ['a positive offset', '1970-01-01T01:00:00+01:00', 0n],
    ['an offset with minutes', '1970-01-01T00:00:00-00:30', 1_800_000_000_000n],
    ['the last nanosecond before the epoch', '1969-12-31T23:59:59.999999999Z', -1n],
    ['a second before the epoch', '1969-12-31T23:59:59Z', -1_000_000_000n],
    ['a date in 1900', '1900-03-01T00:00:00Z', -2203891200000n * 1_000_000n],
    ['a leap day in 2000', '2000-02-29T00:00:00Z', 951782400000n * 1_000_000n],
    ['a leap day with a large offset', '2024-02-29T23:59:59.5+23:59', 1709164859500n * 1_000_000n],
    ['a leap day in 1600', '1600-02-29T12:00-00:30', -11670953400000n * 1_000_000n],
    ['year 0000', '0000-01-01T00:00:00Z', -62167219200000n * 1_000_000n],
    ['year 9999', '9999-12-31T23:59:59.999999999Z', 253402300799999999999n],
  ])('converts %s', (_label, s, expected) => {
    expect(parseTimestampNanos(s)).toBe(expected);
  });

  it.each(['2025-01-22 17:19:11Z', '2025-01-22T17:19:11', '2024-02-30T00:00:00Z', '2025-01-22T17:19:11+0000', ''])(
    'throws a RangeError when given the invalid form %j',
    (s) => {
      expect(() => parseTimestampNanos(s)).toThrow(RangeError);
    },
  );

  it('agrees with Date at millisecond precision and keeps the extra digits, for any instant and offset', () => {
    const instant = fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 });
    const subMillis = fc.integer({ min: 0, max: 999_999 });
    const offsetMinutes = fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 });
    fc.assert(
      fc.property(instant, subMillis, offsetMinutes, (ms, sub, offset) => {
        // Render the instant as local time at `offset`, with 9 fraction digits.
        const local = new Date(ms + offset * 60_000).toISOString(); // "YYYY-MM-DDTHH:MM:SS.mmmZ"
        if (!/^\d{4}-/.test(local)) return; // outside 0000–9999 after shifting
        const sign = offset < 0 ? '-' : '+';
        const abs = Math.abs(offset);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const s = `${local.slice(0, 23)}${String(sub).padStart(6, '0')}${zone}`;
        expect(isLangfuseDatetime(s)).toBe(true);
        expect(parseTimestampNanos(s)).toBe(BigInt(ms) * 1_000_000n + BigInt(sub));
      }),
      { numRuns: 500 },
    );
  });
});

describe('validatedTimestampNanos', () => {
  it('reads the SDKs’ UTC shape digit by digit exactly as the pattern does (property)', () => {
    const utc = fc
      .tuple(
        fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: undefined }),
      )
      .map(([date, fraction]) => `${date.toISOString().slice(0, 19)}${fraction === undefined ? '' : `.${fraction}`}Z`);
    fc.assert(
      fc.property(utc, (s) => {
        expect(isLangfuseDatetime(s)).toBe(true);
        expect(validatedTimestampNanos(s)).toBe(timestampNanosByPattern(s));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    '2025-01-22T17:19:10.957072Z',
    '2025-01-22T17:19:10Z',
    '2025-01-22T17:19Z',
    '2025-01-22T17:19:10.957072+01:00',
    '2025-01-22T17:19:10.1234567891234Z',
    '2024-02-29T23:59:59.999999999-08:00',
  ])('gives the pattern’s value for %s', (s) => {
    expect(validatedTimestampNanos(s)).toBe(timestampNanosByPattern(s));
    expect(validatedTimestampNanos(s)).toBe(parseTimestampNanos(s));
  });

  it.each(['2025-01-22T17:19:1x.957Z', '2025-01-22T17:19:10.Z', '2025-01-22 17:19:10Z', 'not a time at all, but long enough'])('refuses %s as the pattern does', (s) => {
    expect(() => validatedTimestampNanos(s)).toThrow(RangeError);
  });
});
