/** The chunks one after the other, in a new array of its own (never a view of a shared pool, as Buffer.concat may give). */
export function concatBytes(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of list) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
