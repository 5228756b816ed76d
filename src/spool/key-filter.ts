// A Bloom filter over string keys: answers "certainly not present" without touching the disk.
// Only a hint for speed: a "maybe" is always checked against the store, so false positives (and
// keys pruned from the store but not from here) cost one lookup and nothing else.

export interface KeyFilter {
  add(key: string): void;
  mightContain(key: string): boolean;
}

/** `bits` is rounded up to a power of two; 2^27 bits (16 MiB) keep ~1% false positives up to ~14M keys. */
export function createKeyFilter(bits = 2 ** 27, hashes = 4): KeyFilter {
  const size = 2 ** Math.ceil(Math.log2(Math.max(64, bits)));
  const mask = size - 1;
  const words = new Uint32Array(size / 32);
  // Two 32-bit FNV-1a variants combined (Kirsch–Mitzenmacher): h1 + i*h2.
  const hash = (key: string): [number, number] => {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ key.length;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    return [h1 >>> 0, (h2 | 1) >>> 0];
  };
  return {
    add(key) {
      const [h1, h2] = hash(key);
      for (let i = 0; i < hashes; i++) {
        const bit = (h1 + Math.imul(i, h2)) & mask;
        words[bit >>> 5]! |= 1 << (bit & 31);
      }
    },
    mightContain(key) {
      const [h1, h2] = hash(key);
      for (let i = 0; i < hashes; i++) {
        const bit = (h1 + Math.imul(i, h2)) & mask;
        if ((words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
      }
      return true;
    },
  };
}
