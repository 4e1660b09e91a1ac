import { describe, expect, it } from 'vitest';
import { encodeKvCommand } from '../../src/kv/commands.js';
import { GroupStateMachine } from '../../src/server/group-state-machine.js';
import { MemberDirectory } from '../../src/server/member-directory.js';
import { concatBytes } from '../../src/util/bytes.js';
import { packValue } from '../../src/util/msgpack.js';

function populated(): GroupStateMachine {
  const g = new GroupStateMachine();
  g.directory = MemberDirectory.fromJSON([
    [1, '127.0.0.1:21001', '127.0.0.1:21001'],
    [2, '127.0.0.1:21002', '127.0.0.1:22002'],
  ]);
  g.apply(['a', 'b', 'c'].map((key, i) => ({ index: i + 1, term: 1, data: encodeKvCommand({ op: 'put', key, value: key.repeat(3) }) })));
  return g;
}

describe('GroupStateMachine snapshots', () => {
  it('restore the KV store and the member directory, whole or from captured chunks', () => {
    const g = populated();
    const chunks = [...g.captureSnapshot()];
    expect(chunks.length).toBeGreaterThan(1);
    expect(concatBytes(chunks)).toEqual(g.snapshot());
    const copy = new GroupStateMachine();
    copy.restore(concatBytes(chunks));
    expect(copy.directory.toJSON()).toEqual(g.directory.toJSON());
    expect(copy.kv.get('b')?.value).toBe('bbb');
    expect(copy.kv.appliedIndex).toBe(3);
  });

  it('still read the layout written before chunked snapshots (one MessagePack array)', () => {
    const g = populated();
    const old = packValue([g.directory.toJSON(), g.kv.snapshot()]);
    const copy = new GroupStateMachine();
    copy.restore(old);
    expect(copy.directory.toJSON()).toEqual(g.directory.toJSON());
    expect(copy.kv.get('c')?.value).toBe('ccc');
  });

  it('refuse a snapshot whose directory runs past its end, and keep their state', () => {
    const g = populated();
    const bytes = g.snapshot();
    const copy = populated();
    expect(() => copy.restore(bytes.subarray(0, 10))).toThrow(/malformed group snapshot/);
    expect(copy.kv.get('a')?.value).toBe('aaa');
  });
});
