import { describe, expect, it } from 'vitest';
import { createKeyFilter } from '../../../src/spool/key-filter.js';

describe('createKeyFilter', () => {
  it('never says no for a key that was added', () => {
    const filter = createKeyFilter(2 ** 16);
    const keys = Array.from({ length: 5_000 }, (_, i) => `obs:time-${i}_chatcmpl-${i * 7919}`);
    for (const key of keys) filter.add(key);
    expect(keys.every((k) => filter.mightContain(k))).toBe(true);
  });

  it('says no for most keys that were not added', () => {
    const filter = createKeyFilter(2 ** 20);
    for (let i = 0; i < 10_000; i++) filter.add(`trace:${i}`);
    let falsePositives = 0;
    for (let i = 0; i < 10_000; i++) if (filter.mightContain(`trace:other-${i}`)) falsePositives++;
    expect(falsePositives).toBeLessThan(100);
  });
});
