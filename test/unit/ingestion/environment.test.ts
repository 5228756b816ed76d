// Covers src/ingestion/environment.ts: Langfuse v3's environment normalization, which never fails.

import { describe, expect, it } from 'vitest';

import { DEFAULT_ENVIRONMENT, normalizeEnvironment } from '../../../src/ingestion/environment.js';

describe('normalizeEnvironment', () => {
  it.each([
    ['Production', 'production'],
    ['langfuse-prod', 'prod'],
    ['my env', 'default'],
    ['staging', 'staging'],
    ['LANGFUSE_Staging', 'staging'],
    ['langfuseprod', 'prod'],
    ['langfuse', 'default'], // nothing left after the prefix
    ['langfuse-', 'default'],
    // v3 strips ONE prefix (v4 would strip both and give "x").
    ['langfuse-langfuse-x', 'langfuse-x'],
    ['langfuselangfuse_x', 'langfuse_x'],
    ['prod-eu_1', 'prod-eu_1'],
    ['prod!', 'default'],
    ['prod.eu', 'default'],
    ['', 'default'],
    ['a'.repeat(50), 'a'.repeat(40)], // cut to 40 characters
    [`langfuse-${'b'.repeat(45)}`, 'b'.repeat(40)], // prefix stripped before the cut
    ['ÄNDERUNG', 'default'],
  ])('normalizes %j to %j', (input, expected) => {
    expect(normalizeEnvironment(input)).toBe(expected);
  });

  it.each([[null], [undefined], [42], [true], [{}], [['prod']]])('returns "default" when given the non-string %j', (v) => {
    expect(normalizeEnvironment(v)).toBe(DEFAULT_ENVIRONMENT);
  });
});
