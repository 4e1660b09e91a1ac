import { packValue as pack } from '../../src/util/msgpack.js';
import { describe, expect, it } from 'vitest';
import { KvSnapshotError } from '../../src/kv/errors.js';
import { KvStateMachine } from '../../src/kv/kv-state-machine.js';
import { apply1, applyAll, session } from './helpers.js';
import { encodeKvCommand } from '../../src/kv/commands.js';
import { concatBytes } from '../../src/util/bytes.js';

const opts = { maxClients: 2, maxResultsPerClient: 2 };

function populated(): KvStateMachine {
  const sm = new KvStateMachine(opts);
  applyAll(
    sm,
    { op: 'put', key: 'b', value: '1', session: session('a', 1) },
    { op: 'put', key: 'a', value: '2', session: session('a', 2) },
    { op: 'put', key: 'c', value: '3', session: session('a', 3) }, // seq 1 expires
    { op: 'put', key: 'b', value: '4', session: session('b', 1) },
    { op: 'delete', key: 'c', session: session('b', 2) },
    { op: 'put', key: 'ünï', value: '' },
  );
  return sm;
}

describe('snapshot and restore', () => {
  it('a restored instance answers gets, scans and retries identically', () => {
    const original = populated();
    const copy = new KvStateMachine(opts);
    applyAll(copy, { op: 'put', key: 'stale', value: 'gone' }, { op: 'put', key: 'x', value: 'y', session: session('z', 1) });
    copy.restore(original.snapshot());

    expect(copy.appliedIndex).toBe(original.appliedIndex);
    expect(copy.size).toBe(original.size);
    expect(copy.get('stale')).toBeUndefined();
    expect(copy.scan({ limit: 100 })).toEqual(original.scan({ limit: 100 }));
    expect(copy.scan({ prefix: 'b', limit: 1 })).toEqual(original.scan({ prefix: 'b', limit: 1 }));
    expect(copy.snapshot()).toEqual(original.snapshot());

    // Same commands from here on give the same results on both, including the session
    // table: stored results, expiry, and which client the LRU evicts next.
    const next = [
      { op: 'put', key: 'a', value: 'r', session: session('a', 2) },
      { op: 'put', key: 'b', value: 'r', session: session('a', 1) },
      { op: 'put', key: 'q', value: 'r', session: session('b', 2) },
      { op: 'put', key: 'q', value: 'new', session: session('c', 1) }, // evicts a (LRU)
      { op: 'put', key: 'a', value: 'again', session: session('a', 2) },
      { op: 'delete', key: 'z', session: session('z', 1) },
    ] as const;
    for (const c of next) expect(apply1(copy, c)).toEqual(apply1(original, c));
    expect(copy.snapshot()).toEqual(original.snapshot());
  });

  it('keeps the session table across a restore', () => {
    const copy = new KvStateMachine(opts);
    copy.restore(populated().snapshot());
    expect(apply1(copy, { op: 'put', key: 'b', value: '1', session: session('a', 1) })).toMatchObject({ type: 'error', code: 'SESSION_EXPIRED' });
    expect(apply1(copy, { op: 'delete', key: 'c', session: session('b', 2) })).toEqual({ type: 'delete', deleted: true, version: 5, previous: { value: '3', version: 3, createVersion: 3 } });
  });

  it('an empty machine round-trips', () => {
    const copy = populated();
    copy.restore(new KvStateMachine().snapshot());
    expect(copy.size).toBe(0);
    expect(copy.appliedIndex).toBe(0);
    expect(copy.scan({ limit: 5 })).toEqual({ entries: [], more: false });
  });

  it.each([
    ['garbage', new Uint8Array([0xc1, 2, 3])],
    ['empty bytes', new Uint8Array()],
    ['truncated', populated().snapshot().subarray(0, 20)],
    ['an unknown format', pack([99, 0, [], []])],
    ['unsorted keys', pack([1, 5, [['b', 'v', 1, 1], ['a', 'v', 2, 2]], []])],
    ['duplicate keys', pack([1, 5, [['a', 'v', 1, 1], ['a', 'v', 2, 2]], []])],
    ['an entry newer than the snapshot', pack([1, 1, [['a', 'v', 2, 2]], []])],
    ['createVersion above version', pack([1, 5, [['a', 'v', 2, 3]], []])],
    ['a numeric value', pack([1, 5, [['a', 5, 2, 2]], []])],
    ['clients out of LRU order', pack([1, 5, [], [['a', 3, 0, []], ['b', 2, 0, []]]])],
    ['a stored result below its floor', pack([1, 5, [], [['a', 3, 4, [[2, [0, 1, null]]]]]])],
    ['a malformed stored result', pack([1, 5, [], [['a', 3, 0, [[2, [7, 1, null]]]]]])],
  ])('a corrupt snapshot (%s) throws KvSnapshotError and changes nothing', (_what, bytes) => {
    const sm = populated();
    const before = sm.snapshot();
    expect(() => sm.restore(bytes)).toThrow(KvSnapshotError);
    try {
      sm.restore(bytes);
    } catch (err) {
      expect((err as KvSnapshotError).code).toBe('BAD_SNAPSHOT');
    }
    expect(sm.snapshot()).toEqual(before);
  });
});

describe('captured snapshots', () => {
  it('serialize the state of the capture while writes go on, in slices, to the bytes snapshot() gives then', () => {
    const sm = new KvStateMachine(opts);
    const keys = Array.from({ length: 12_000 }, (_, i) => `k${String(i).padStart(6, '0')}`);
    sm.apply(keys.map((key, i) => ({ index: i + 1, term: 1, data: encodeKvCommand({ op: 'put', key, value: `v${i}` }) })));
    applyAll(sm, { op: 'put', key: 'z', value: '1', session: session('s', 1) });
    const atCapture = sm.snapshot();
    const capture = sm.captureSnapshot()[Symbol.iterator]();
    const chunks: Uint8Array[] = [];
    const pull = (): boolean => {
      const next = capture.next();
      if (next.done === true) return false;
      chunks.push(next.value);
      return true;
    };
    pull();
    // Between slices: updates, deletes and creates, on keys not yet serialized and on keys already done.
    applyAll(
      sm,
      { op: 'put', key: 'k011999', value: 'changed' },
      { op: 'delete', key: 'k010000' },
      { op: 'put', key: 'k000000', value: 'changed' },
      { op: 'put', key: 'new', value: 'created' },
      { op: 'put', key: 'k011999', value: 'changed twice' },
      { op: 'put', key: 'z', value: '2', session: session('s', 2) },
    );
    while (pull()) applyAll(sm, { op: 'cas', key: 'k005000', value: null, expectedVersion: sm.get('k005000')?.version ?? 0 });
    expect(chunks.length).toBeGreaterThan(3);
    expect(Buffer.from(concatBytes(chunks)).equals(atCapture)).toBe(true);
    const restored = new KvStateMachine(opts);
    restored.restore(concatBytes(chunks));
    expect(restored.get('k011999')?.value).toBe('v11999');
    expect(restored.get('k010000')?.value).toBe('v10000');
    expect(restored.get('new')).toBeUndefined();
    expect(restored.size).toBe(12_001);
    // The live state went on.
    expect(sm.get('k011999')?.value).toBe('changed twice');
    expect(sm.get('k005000')).toBeUndefined();
  });

  it('stop recording before-images once finished or closed, started or not', () => {
    const sm = new KvStateMachine(opts);
    applyAll(sm, { op: 'put', key: 'a', value: '1' });
    const held = (): number => (sm as unknown as { captures: Set<unknown> }).captures.size;
    const unstarted = sm.captureSnapshot()[Symbol.iterator]();
    const started = sm.captureSnapshot()[Symbol.iterator]();
    started.next();
    expect(held()).toBe(2);
    unstarted.return?.();
    started.return?.();
    expect(held()).toBe(0);
    expect([...sm.captureSnapshot()].length).toBeGreaterThan(0);
    expect(held()).toBe(0);
  });

  it('restart copy on write after a restore: a capture from before it keeps the old state', () => {
    const sm = populated();
    const before = sm.snapshot();
    const capture = sm.captureSnapshot();
    const other = new KvStateMachine(opts);
    applyAll(other, { op: 'put', key: 'only-in-other', value: 'x' });
    sm.restore(other.snapshot());
    applyAll(sm, { op: 'put', key: 'b', value: 'after restore' });
    expect(concatBytes(capture)).toEqual(before);
  });
});

