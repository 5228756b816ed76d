// Compact hashes of entity keys and envelope ids, for the records of exported entities: the SQLite
// tombstones (sqlite-export-queue.ts) and the gateway's in-memory markers (gateway/marker-store.ts).
// Pure; knows nothing of what the texts are.
//
// Why hand-written: a SHA-256 of a 45-character key (node:crypto `hash`) measured 2.7–3.7 µs here,
// this one ~0.3 µs; keys are hashed once per completed entity and once per filter lookup, on the
// request path. Not collision resistant against someone who can choose ids: the stored record pairs
// it with a second, differently seeded hash (`KEY_CHECK_SEED`), so a wrong match needs 85 bits to agree.

/**
 * A 53-bit hash of `text` (two 32-bit multiplicative hashes, fmix-finalised, joined), exactly
 * representable as a JS number. `seed` separates key spaces (a partition, or the check hash).
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x9747b28c ^ Math.imul(seed, 0x27d4eb2f);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = fmix32(h1 ^ text.length);
  h2 = fmix32(h2 ^ Math.imul(text.length, 0x9e3779b1));
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The seed of the second hash stored beside a key's hash (its check). */
export const KEY_CHECK_SEED = 0x5eed_c4ec;

/** The 32-bit check stored beside `hash53(text)`. */
export function keyCheck(text: string): number {
  return Math.floor(hash53(text, KEY_CHECK_SEED) / 0x200000);
}

/** Envelope ids as their 53-bit hashes, 8 bytes each (big-endian doubles: exact for 53-bit integers). */
export function packIdHashes(ids: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(8 * ids.length);
  for (let i = 0; i < ids.length; i++) out.writeDoubleBE(hash53(ids[i]!), 8 * i);
  return out;
}

/** Whether `id` is among the packed hashes (a different id matches with a chance of n / 2^53). */
export function packedHasId(packed: Uint8Array, id: string): boolean {
  const buffer = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const h = hash53(id);
  for (let pos = 0; pos + 8 <= buffer.length; pos += 8) if (buffer.readDoubleBE(pos) === h) return true;
  return false;
}
