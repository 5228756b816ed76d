import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash53, MarkerStore } from '../../../src/gateway/marker-store.js';

describe('hash53', () => {
  it('is a whole number below 2^53, the same for the same text and seed', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 10_000 }), (text, seed) => {
        const h = hash53(text, seed);
        expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
        expect(hash53(text, seed)).toBe(h);
      }),
    );
  });

  it('no collision among 200,000 entity keys, nor between partitions', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      seen.add(hash53(`otlp/observation:${i.toString(16).padStart(8, '0')}-4a5b-8c9d-0000-${i}`, 3));
      seen.add(hash53(`otlp/observation:${i.toString(16).padStart(8, '0')}-4a5b-8c9d-0000-${i}`, 4));
    }
    expect(seen.size).toBe(200_000);
  });
});

describe('MarkerStore', () => {
  it('answers like the plain maps it replaces (key and partition → envelope id set), for any sequence of sets and deletes', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), partition: fc.integer({ min: 0, max: 3 }), key: fc.constantFrom('a', 'b', 'c', 'd', 'trace:x'), ids: fc.array(fc.constantFrom('e1', 'e2', 'e3', 'e4'), { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), partition: fc.integer({ min: 0, max: 3 }), key: fc.constantFrom('a', 'b', 'c', 'd', 'trace:x') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const store = new MarkerStore(1_000_000);
        const model = new Map<string, Set<string>>();
        for (const o of ops) {
          if (o.kind === 'set') {
            store.set(o.partition, o.key, o.ids, 1);
            model.set(`${o.partition}|${o.key}`, new Set(o.ids));
          } else {
            store.delete(o.partition, o.key);
            model.delete(`${o.partition}|${o.key}`);
          }
        }
        expect(store.size).toBe(model.size);
        for (let partition = 0; partition <= 3; partition++) {
          for (const key of ['a', 'b', 'c', 'd', 'trace:x']) {
            const want = model.get(`${partition}|${key}`);
            const got = store.get(partition, key);
            expect(got === undefined).toBe(want === undefined);
            for (const id of ['e1', 'e2', 'e3', 'e4']) expect(got?.has(id) ?? false).toBe(want?.has(id) ?? false);
          }
        }
      }),
    );
  });

  it('never holds more than its cap: the oldest-inserted go first, counted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 100 }), (cap, keys) => {
        const store = new MarkerStore(cap);
        const order: number[] = [];
        let evicted = 0;
        for (const k of keys) {
          store.set(0, `k${k}`, ['e'], 0);
          const at = order.indexOf(k);
          if (at >= 0) order.splice(at, 1);
          order.push(k);
          if (order.length > cap) {
            order.shift();
            evicted++;
          }
          expect(store.size).toBeLessThanOrEqual(cap);
        }
        expect(store.evicted).toBe(evicted);
        for (let k = 0; k <= 40; k++) expect(store.get(0, `k${k}`) !== undefined).toBe(order.includes(k));
      }),
    );
  });

  it('a replaced marker becomes the youngest (not evicted before markers written after its first version)', () => {
    const store = new MarkerStore(2);
    store.set(0, 'a', ['1'], 1);
    store.set(0, 'b', ['1'], 2);
    store.set(0, 'a', ['1', '2'], 3);
    store.set(0, 'c', ['1'], 4);
    expect(store.get(0, 'b')).toBeUndefined();
    expect(store.get(0, 'a')?.has('2')).toBe(true);
    expect(store.evicted).toBe(1);
  });

  it('prune forgets the markers written before the cut-off, whatever their insertion order', () => {
    const store = new MarkerStore(100);
    store.set(0, 'old-late', ['1'], 5);
    store.set(1, 'young', ['1'], 50);
    store.set(2, 'old', ['1'], 10);
    expect(store.prune(20)).toBe(2);
    expect(store.size).toBe(1);
    expect(store.get(1, 'young')?.has('1')).toBe(true);
    expect(store.get(0, 'old-late')).toBeUndefined();
  });

  it('a marker with no envelope ids is still a marker (the entity was exported)', () => {
    const store = new MarkerStore(10);
    store.set(0, 'x', [], 1);
    expect(store.get(0, 'x')).toBeDefined();
    expect(store.get(0, 'x')?.has('anything')).toBe(false);
  });
});
