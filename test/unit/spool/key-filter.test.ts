import { describe, expect, it } from 'vitest';
import { createKeyFilter } from '../../../src/spool/key-filter.js';
import { hash53 } from '../../../src/spool/key-hash.js';

const DAY = 86_400_000;

describe('createKeyFilter', () => {
  it('never says no for a key that was added, far past its first layer', () => {
    const filter = createKeyFilter(DAY, 1_024);
    const keys = Array.from({ length: 50_000 }, (_, i) => hash53(`obs:time-${i}_chatcmpl-${i * 7919}`));
    for (const key of keys) filter.add(key, 1_000);
    expect(keys.every((k) => filter.mightContain(k))).toBe(true);
  });

  it('stays under 2% false positives as it grows (it adds layers instead of saturating)', () => {
    const filter = createKeyFilter(DAY, 1_024);
    for (let i = 0; i < 200_000; i++) filter.add(hash53(`trace:${i}`), 1_000);
    let falsePositives = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mightContain(hash53(`trace:other-${i}`))) falsePositives++;
    expect(falsePositives / 100_000).toBeLessThan(0.02);
  });

  it('forgets epochs past retention, and only those', () => {
    const filter = createKeyFilter(4 * 1_000);
    filter.add(hash53('old'), 500);
    filter.add(hash53('new'), 3_500);
    const before = filter.bytes();
    filter.prune(2_000);
    expect(filter.mightContain(hash53('old'))).toBe(false);
    expect(filter.mightContain(hash53('new'))).toBe(true);
    expect(filter.bytes()).toBeLessThan(before);
  });
});
