// Several payloads in one BLOB (dead letters keep the spans of a refused batch together):
// each as a 4-byte big-endian length, then its bytes. Pure; knows nothing of what the bytes are.

export function packPayloads(payloads: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const p of payloads) size += 4 + p.byteLength;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const p of payloads) {
    out.writeUInt32BE(p.byteLength, pos);
    out.set(p, pos + 4);
    pos += 4 + p.byteLength;
  }
  return out;
}

export function unpackPayloads(packed: Uint8Array): Uint8Array[] {
  const buffer = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos + 4 <= buffer.length) {
    const length = buffer.readUInt32BE(pos);
    if (pos + 4 + length > buffer.length) throw new Error('a packed payload runs past the end of its blob');
    out.push(buffer.subarray(pos + 4, pos + 4 + length));
    pos += 4 + length;
  }
  if (pos !== buffer.length) throw new Error('trailing bytes after the packed payloads');
  return out;
}
