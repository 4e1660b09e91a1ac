import type { Entry } from '../../src/raft/types.js';

/** The entry the crash test writes at (group, index): its bytes say where it belongs. */
export function crashEntry(group: number, index: number): Entry {
  const data = new Uint8Array(40 + ((group * 13 + index * 7) % 200));
  for (let i = 0; i < data.length; i++) data[i] = (group * 131 + index * 31 + i) & 0xff;
  return { index, term: 1, type: 'normal', data };
}
