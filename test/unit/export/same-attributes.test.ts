import { describe, expect, it } from 'vitest';
import { sameAttributes } from '../../../src/export/same-attributes.js';
import type { DraftAttributes } from '../../../src/mapping/span-draft.js';

describe('sameAttributes', () => {
  const base: DraftAttributes = { 'service.name': 'litellm', 'langfuse.sdk.name': 'python', tags: ['a', 'b'], n: 1 };

  it('is true for a copy (arrays compared element by element)', () => {
    expect(sameAttributes(base, { ...base, tags: ['a', 'b'] })).toBe(true);
    expect(sameAttributes({}, {})).toBe(true);
  });

  it.each<[string, DraftAttributes]>([
    ['another value', { ...base, 'service.name': 'langfuse' }],
    ['another array element', { ...base, tags: ['a', 'c'] }],
    ['a longer array', { ...base, tags: ['a', 'b', 'c'] }],
    ['a string for an array', { ...base, tags: 'a,b' }],
    ['a number as a string', { ...base, n: '1' }],
    ['one key more', { ...base, extra: 'x' }],
    ['one key less', { 'service.name': 'litellm', 'langfuse.sdk.name': 'python', tags: ['a', 'b'] }],
    ['the same keys in another order', { 'langfuse.sdk.name': 'python', 'service.name': 'litellm', tags: ['a', 'b'], n: 1 }],
  ])('is false for %s', (_case, other) => {
    expect(sameAttributes(base, other)).toBe(false);
    expect(sameAttributes(other, base)).toBe(false);
  });
});
