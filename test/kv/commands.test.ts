import { packValue as pack } from '../../src/util/msgpack.js';
import { describe, expect, it } from 'vitest';
import type { KvCommand } from '../../src/kv/commands.js';
import { decodeKvCommand, encodeKvCommand } from '../../src/kv/commands.js';
import { KvCommandError } from '../../src/kv/errors.js';

const roundTrips: KvCommand[] = [
  { op: 'put', key: 'k', value: 'v' },
  { op: 'put', key: '', value: '', session: { clientId: 'c', seq: 1 } },
  { op: 'put', key: 'ключ 🗝', value: 'x'.repeat(1000), session: { clientId: 'c', seq: 9, ackedBelow: 3 } },
  { op: 'delete', key: 'k' },
  { op: 'delete', key: 'k', session: { clientId: 'c', seq: 2, ackedBelow: 2 } },
  { op: 'cas', key: 'k', value: 'v', expectedValue: 'old' },
  { op: 'cas', key: 'k', value: null, expectedValue: null },
  { op: 'cas', key: 'k', value: 'v', expectedVersion: 0 },
  { op: 'cas', key: 'k', value: 'v', expectedValue: 'a', expectedVersion: 7, session: { clientId: 'c', seq: 4 } },
];

function expectBad(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(KvCommandError);
    expect((err as KvCommandError).code).toBe('BAD_COMMAND');
    return;
  }
  throw new Error('expected BAD_COMMAND');
}

describe('KV command codec', () => {
  it.each(roundTrips)('round-trips %j', (c) => {
    expect(decodeKvCommand(encodeKvCommand(c))).toEqual(c);
  });

  it('is compact: no field names on the wire', () => {
    expect(encodeKvCommand({ op: 'put', key: 'k', value: 'v', session: { clientId: 'c', seq: 1 } }).byteLength).toBeLessThan(16);
  });

  it('rejects garbage bytes', () => {
    expectBad(() => decodeKvCommand(new Uint8Array([])));
    expectBad(() => decodeKvCommand(new Uint8Array([0xc1])));
    // The reserved byte and extension types where a key belongs: the decoder yields objects for
    // them, and the field checks refuse those.
    expectBad(() => decodeKvCommand(new Uint8Array([0x94, 0x00, 0xc1, 0xa1, 0x76, 0xc0])));
    expectBad(() => decodeKvCommand(new Uint8Array([0x94, 0x00, 0xd4, 0x01, 0x00, 0xa1, 0x76, 0xc0])));
    expectBad(() => decodeKvCommand(new Uint8Array([0x94, 0x00, 0xd4, 0x72, 0x00, 0xa1, 0x76, 0xc0])));
    expectBad(() => decodeKvCommand(new Uint8Array([0xdd, 0xff, 0xff])));
    expectBad(() => decodeKvCommand(new TextEncoder().encode('{"op":"put"}')));
    const good = encodeKvCommand({ op: 'delete', key: 'k' });
    expectBad(() => decodeKvCommand(new Uint8Array([...good, 0])));
  });

  it.each([
    ['a map', { op: 'put', key: 'k', value: 'v' }],
    ['an unknown op', [9, 'k', 'v', null]],
    ['a put with a missing field', [0, 'k', 'v']],
    ['a put with an extra field', [0, 'k', 'v', null, null]],
    ['a numeric key', [0, 1, 'v', null]],
    ['a null put value', [0, 'k', null, null]],
    ['a binary value', [0, 'k', new Uint8Array([1]), null]],
    ['a delete with a value', [1, 'k', 'v', null]],
    ['a cas without conditions', [2, 'k', 'v', false, null, null]],
    ['a cas with a numeric expectedValue', [2, 'k', 'v', 3, null, null]],
    ['a cas with a negative expectedVersion', [2, 'k', 'v', false, -1, null]],
    ['a cas with a fractional expectedVersion', [2, 'k', 'v', false, 1.5, null]],
    ['a cas with a string expectedVersion', [2, 'k', 'v', false, '1', null]],
    ['a session that is not an array', [0, 'k', 'v', 'c']],
    ['a session with a numeric clientId', [0, 'k', 'v', [1, 1]]],
    ['a session with seq 0', [0, 'k', 'v', ['c', 0]]],
    ['a session with a fractional seq', [0, 'k', 'v', ['c', 1.5]]],
    ['a session without seq', [0, 'k', 'v', ['c']]],
    ['a session with a negative ackedBelow', [0, 'k', 'v', ['c', 1, -1]]],
    ['a session with ackedBelow above seq', [0, 'k', 'v', ['c', 1, 2]]],
    ['a session with an extra field', [0, 'k', 'v', ['c', 1, 1, 1]]],
  ])('rejects %s', (_what, wire) => {
    expectBad(() => decodeKvCommand(pack(wire)));
  });

  it('refuses to encode what it would not decode', () => {
    expectBad(() => encodeKvCommand({ op: 'cas', key: 'k', value: 'v' }));
    // UTF-8 cannot carry a lone surrogate: it would arrive as U+FFFD, a different key.
    expectBad(() => encodeKvCommand({ op: 'put', key: 'k\ud800', value: 'v' }));
    expectBad(() => encodeKvCommand({ op: 'put', key: 'k', value: 1 as unknown as string }));
    expectBad(() => encodeKvCommand({ op: 'cas', key: 'k', value: 'v', expectedValue: false as unknown as string, expectedVersion: 1 }));
    expectBad(() => encodeKvCommand({ op: 'get', key: 'k' } as unknown as KvCommand));
    expectBad(() => encodeKvCommand({ op: 'put', key: 'k', value: 'v', session: { clientId: 'c', seq: 0 } }));
  });
});
