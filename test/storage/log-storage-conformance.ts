/**
 * The behaviour every LogStorage must show, as one vitest suite that each implementation runs.
 * With `reopenable`, every check is repeated on a storage reopened from the same directory after
 * all writes resolved: what `save` and `compact` resolved must come back exactly.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/raft/errors.js';
import type { RaftErrorCode } from '../../src/raft/errors.js';
import type { LogStorage } from '../../src/raft/storage.js';
import { EMPTY_CONF_STATE, EMPTY_HARD_STATE, EMPTY_SNAPSHOT } from '../../src/raft/types.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../../src/raft/types.js';

/** Storages that hold files may offer `close`; it is not part of LogStorage itself. */
type ClosableLogStorage = LogStorage & { close?: () => Promise<void> };

export interface LogStorageConformanceOptions {
  /** Reopening the same directory gives back what was durably saved (on-disk storages). */
  readonly reopenable?: boolean;
}

const CONF_A: ConfState = { voters: [1, 2, 3], votersOutgoing: [], learners: [4], learnersNext: [], autoLeave: false };
const CONF_B: ConfState = { voters: [1, 2], votersOutgoing: [1, 2, 3], learners: [], learnersNext: [3], autoLeave: true };

export function entry(index: number, term: number, dataBytes = 8, type: EntryType = 'normal'): Entry {
  // The payload encodes index and term so that a misplaced entry shows up as a data mismatch too.
  const data = new Uint8Array(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return { index, term, type, data };
}

/** Entries lo..hi (inclusive) all in one term. */
export function entryRange(lo: number, hi: number, term: number, dataBytes = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, term, dataBytes));
  return out;
}

/** Comparable form: an on-disk storage may hand back a Buffer where a Uint8Array went in. */
function plain(e: Entry): { index: number; term: number; type: EntryType; data: number[] } {
  return { index: e.index, term: e.term, type: e.type, data: Array.from(e.data) };
}

function plainAll(es: readonly Entry[]): ReturnType<typeof plain>[] {
  return es.map(plain);
}

function expectRaftError(fn: () => unknown, code: RaftErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isRaftError(thrown, code), `expected RaftError ${code}, got ${String(thrown)}`).toBe(true);
}

/** A write the storage must refuse (by throwing or by rejecting) without changing anything. */
async function expectRefused(s: LogStorage, write: () => Promise<void>): Promise<void> {
  const before = { first: s.firstIndex(), last: s.lastIndex(), all: plainAll(s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity)) };
  await expect((async () => write())()).rejects.toThrow();
  expect({ first: s.firstIndex(), last: s.lastIndex(), all: plainAll(s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity)) }).toEqual(
    before,
  );
}

export function runLogStorageConformance(
  name: string,
  open: (dir: string) => Promise<LogStorage>,
  opts: LogStorageConformanceOptions = {},
): void {
  const reopenable = opts.reopenable ?? false;

  describe(`LogStorage conformance: ${name}`, () => {
    let dir = '';
    /** Every storage a test opened and has not closed yet: closed in afterEach before rm. */
    let live: ClosableLogStorage[] = [];

    beforeEach(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keel-log-conformance-'));
      live = [];
    });

    afterEach(async () => {
      const toClose = live;
      live = [];
      try {
        for (const s of toClose) {
          try {
            await s.close?.();
          } catch {
            // The test already failed or the storage is broken; the directory still goes.
          }
        }
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });

    async function openIn(storageDir: string): Promise<LogStorage> {
      const s = await open(storageDir);
      live.push(s);
      return s;
    }

    /** Close = call the optional close(), then drop the object. */
    async function closeStorage(s: LogStorage): Promise<void> {
      live = live.filter((x) => x !== s);
      await (s as ClosableLogStorage).close?.();
    }

    async function reopen(s: LogStorage, storageDir: string): Promise<LogStorage> {
      await closeStorage(s);
      return openIn(storageDir);
    }

    /**
     * Runs `check` on `s`; when reopenable, runs it again on a reopened copy. Returns the storage
     * to continue with (the reopened one, so later writes also go through a recovered log).
     */
    async function verify(s: LogStorage, check: (s: LogStorage) => void, storageDir = dir): Promise<LogStorage> {
      check(s);
      if (!reopenable) return s;
      const again = await reopen(s, storageDir);
      check(again);
      return again;
    }

    it('starts empty: firstIndex 1, lastIndex 0, term(0) = 0', async () => {
      const s = await openIn(dir);
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(1);
        expect(s.lastIndex()).toBe(0);
        expect(s.term(0)).toBe(0);
        expectRaftError(() => s.term(1), 'UNAVAILABLE');
        expect(s.entries(1, 1, Infinity)).toEqual([]);
        expectRaftError(() => s.entries(1, 2, Infinity), 'UNAVAILABLE');
        expect(s.initialState()).toEqual({ hardState: EMPTY_HARD_STATE, confState: EMPTY_CONF_STATE });
        expect(s.snapshot()).toEqual(EMPTY_SNAPSHOT);
      });
    });

    it('appends entries and reads them back', async () => {
      let s = await openIn(dir);
      const first = [entry(1, 1, 5), entry(2, 1, 0, 'confChange'), entry(3, 2, 17)];
      const second = [entry(4, 2, 3), entry(5, 3, 1)];
      await s.save({ entries: first });
      await s.save({ entries: [] });
      await s.save({ entries: second });
      s = await verify(s, (s) => {
        expect(s.firstIndex()).toBe(1);
        expect(s.lastIndex()).toBe(5);
        expect(plainAll(s.entries(1, 6, Infinity))).toEqual(plainAll([...first, ...second]));
        expect(plainAll(s.entries(2, 4, Infinity))).toEqual(plainAll(first.slice(1, 3)));
        expect(s.entries(3, 3, Infinity)).toEqual([]);
        expect([0, 1, 2, 3, 4, 5].map((i) => s.term(i))).toEqual([0, 1, 1, 2, 2, 3]);
      });
      // Appending continues after a reopen.
      await s.save({ entries: [entry(6, 3)] });
      await verify(s, (s) => {
        expect(s.lastIndex()).toBe(6);
        expect(plainAll(s.entries(6, 7, Infinity))).toEqual(plainAll([entry(6, 3)]));
      });
    });

    it('limits entries() by maxBytes but returns at least one entry', async () => {
      const s = await openIn(dir);
      await s.save({ entries: entryRange(1, 5, 1, 10) });
      await s.save({ entries: [entry(6, 1, 100), entry(7, 1, 0), entry(8, 1, 0), entry(9, 1, 10)] });
      await verify(s, (s) => {
        const count = (lo: number, hi: number, maxBytes: number): number => s.entries(lo, hi, maxBytes).length;
        expect(count(1, 6, 0)).toBe(1);
        expect(count(1, 6, 9)).toBe(1);
        expect(count(1, 6, 10)).toBe(1);
        expect(count(1, 6, 19)).toBe(1);
        expect(count(1, 6, 20)).toBe(2);
        expect(count(1, 6, 29)).toBe(2);
        expect(count(1, 6, 30)).toBe(3);
        expect(count(1, 6, 50)).toBe(5);
        expect(count(1, 6, Infinity)).toBe(5);
        // An entry larger than the budget alone still comes back, and nothing after it.
        expect(count(6, 10, 50)).toBe(1);
        // Empty payloads cost nothing: they fit any budget that the entries before them fit.
        expect(count(7, 9, 0)).toBe(2);
        expect(count(7, 10, 9)).toBe(2);
        expect(count(7, 10, 10)).toBe(3);
        expect(count(5, 10, 10)).toBe(1);
        expect(plainAll(s.entries(2, 6, 25))).toEqual(plainAll(entryRange(2, 3, 1, 10)));
      });
    });

    it('term() throws COMPACTED below the compaction point and UNAVAILABLE above lastIndex', async () => {
      const s = await openIn(dir);
      await s.save({ entries: [...entryRange(1, 4, 1), ...entryRange(5, 8, 2)] });
      await s.compact({ index: 5, term: 2, confState: CONF_A }, 5);
      await verify(s, (s) => {
        expectRaftError(() => s.term(0), 'COMPACTED');
        expectRaftError(() => s.term(4), 'COMPACTED');
        expect(s.term(5)).toBe(2);
        expect(s.term(8)).toBe(2);
        expectRaftError(() => s.term(9), 'UNAVAILABLE');
        expectRaftError(() => s.term(100), 'UNAVAILABLE');
      });
    });

    it('entries() throws COMPACTED below firstIndex and UNAVAILABLE past lastIndex + 1', async () => {
      const s = await openIn(dir);
      await s.save({ entries: entryRange(1, 8, 1) });
      await s.compact({ index: 4, term: 1, confState: CONF_A }, 4);
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(5);
        expectRaftError(() => s.entries(4, 6, Infinity), 'COMPACTED');
        expectRaftError(() => s.entries(1, 9, Infinity), 'COMPACTED');
        expectRaftError(() => s.entries(5, 10, Infinity), 'UNAVAILABLE');
        expectRaftError(() => s.entries(9, 10, Infinity), 'UNAVAILABLE');
        expect(plainAll(s.entries(5, 9, Infinity))).toEqual(plainAll(entryRange(5, 8, 1)));
        expect(s.entries(9, 9, Infinity)).toEqual([]);
      });
    });

    it('truncates the conflicting suffix when entries overwrite existing indexes', async () => {
      let s = await openIn(dir);
      await s.save({ entries: entryRange(1, 6, 1) });
      await s.save({ entries: [entry(3, 2), entry(4, 2)] });
      s = await verify(s, (s) => {
        expect(s.lastIndex()).toBe(4);
        expect([1, 2, 3, 4].map((i) => s.term(i))).toEqual([1, 1, 2, 2]);
        expectRaftError(() => s.term(5), 'UNAVAILABLE');
        expect(plainAll(s.entries(1, 5, Infinity))).toEqual(plainAll([...entryRange(1, 2, 1), entry(3, 2), entry(4, 2)]));
      });
      // Overwrite at lastIndex, extend past the old end, then replace everything from index 1.
      await s.save({ entries: [entry(4, 3), entry(5, 3), entry(6, 3), entry(7, 3)] });
      s = await verify(s, (s) => {
        expect(s.lastIndex()).toBe(7);
        expect([1, 2, 3, 4, 5, 6, 7].map((i) => s.term(i))).toEqual([1, 1, 2, 3, 3, 3, 3]);
      });
      await s.save({ entries: [entry(1, 4)] });
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(1);
        expect(s.lastIndex()).toBe(1);
        expect(plainAll(s.entries(1, 2, Infinity))).toEqual(plainAll([entry(1, 4)]));
      });
    });

    it('refuses entries that leave a gap, reach the compaction point or are not contiguous', async () => {
      let s = await openIn(dir);
      await s.save({ entries: entryRange(1, 6, 1) });
      await s.compact({ index: 3, term: 1, confState: CONF_A }, 3);
      s = await verify(s, () => undefined);
      const storage = s;
      await expectRefused(storage, () => storage.save({ entries: [entry(8, 1)] }));
      await expectRefused(storage, () => storage.save({ entries: [entry(3, 2)] }));
      await expectRefused(storage, () => storage.save({ entries: [entry(7, 1), entry(9, 1)] }));
      await expectRefused(storage, () => storage.save({ snapshot: { index: 2, term: 1, confState: CONF_A }, entries: [] }));
    });

    it('saves and loads the hard state', async () => {
      let s = await openIn(dir);
      const hs1: HardState = { term: 3, vote: 2, commit: 0 };
      await s.save({ entries: [], hardState: hs1 });
      s = await verify(s, (s) => expect(s.initialState().hardState).toEqual(hs1));
      // A write without a hard state leaves the saved one alone.
      await s.save({ entries: entryRange(1, 3, 3) });
      s = await verify(s, (s) => expect(s.initialState().hardState).toEqual(hs1));
      const hs2: HardState = { term: 4, vote: 0, commit: 2 };
      await s.save({ entries: [entry(4, 4)], hardState: hs2 });
      await verify(s, (s) => {
        expect(s.initialState().hardState).toEqual(hs2);
        expect(s.initialState().confState).toEqual(EMPTY_CONF_STATE);
        expect(s.lastIndex()).toBe(4);
      });
    });

    it('installs a snapshot whose term differs at its index by discarding the whole log', async () => {
      const s = await openIn(dir);
      await s.save({ entries: entryRange(1, 5, 1, 4) });
      const meta: SnapshotMeta = { index: 3, term: 2, confState: CONF_A };
      await s.save({ snapshot: meta, entries: [] });
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(4);
        expect(s.lastIndex()).toBe(3);
        expect(s.term(3)).toBe(2);
        expectRaftError(() => s.term(2), 'COMPACTED');
        expectRaftError(() => s.term(4), 'UNAVAILABLE');
        expect(s.entries(4, 4, Infinity)).toEqual([]);
        expect(s.snapshot()).toEqual(meta);
        expect(s.initialState().confState).toEqual(CONF_A);
      });
    });

    it('installs a snapshot matching the log at its index and keeps the entries after it', async () => {
      const s = await openIn(dir);
      await s.save({ entries: [...entryRange(1, 3, 1), ...entryRange(4, 6, 2)] });
      const meta: SnapshotMeta = { index: 4, term: 2, confState: CONF_B };
      await s.save({ snapshot: meta, entries: [] });
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(5);
        expect(s.lastIndex()).toBe(6);
        expect(s.term(4)).toBe(2);
        expect(plainAll(s.entries(5, 7, Infinity))).toEqual(plainAll(entryRange(5, 6, 2)));
        expect(s.snapshot()).toEqual(meta);
        expect(s.initialState().confState).toEqual(CONF_B);
      });
    });

    it('installs a snapshot beyond the log, with entries and hard state in the same write', async () => {
      let s = await openIn(dir);
      await s.save({ entries: entryRange(1, 3, 1) });
      const meta: SnapshotMeta = { index: 10, term: 3, confState: CONF_A };
      const hs: HardState = { term: 4, vote: 1, commit: 10 };
      await s.save({ snapshot: meta, entries: [entry(11, 4), entry(12, 4)], hardState: hs });
      s = await verify(s, (s) => {
        expect(s.firstIndex()).toBe(11);
        expect(s.lastIndex()).toBe(12);
        expect(s.term(10)).toBe(3);
        expect(plainAll(s.entries(11, 13, Infinity))).toEqual(plainAll([entry(11, 4), entry(12, 4)]));
        expect(s.snapshot()).toEqual(meta);
        expect(s.initialState()).toEqual({ hardState: hs, confState: CONF_A });
      });
      // A newer snapshot replaces an older one; an empty log still knows the snapshot's term.
      const newer: SnapshotMeta = { index: 20, term: 5, confState: CONF_B };
      await s.save({ snapshot: newer, entries: [] });
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(21);
        expect(s.lastIndex()).toBe(20);
        expect(s.term(20)).toBe(5);
        expect(s.snapshot()).toEqual(newer);
        expect(s.initialState()).toEqual({ hardState: hs, confState: CONF_B });
      });
    });

    it('compacts: releases entries, keeps the term at the compaction point, records the snapshot', async () => {
      let s = await openIn(dir);
      await s.save({ entries: [...entryRange(1, 5, 1), ...entryRange(6, 10, 2)] });
      const meta6: SnapshotMeta = { index: 6, term: 2, confState: CONF_A };
      await s.compact(meta6, 4);
      const afterFirstCompact = (s: LogStorage): void => {
        expect(s.firstIndex()).toBe(5);
        expect(s.lastIndex()).toBe(10);
        expect(s.term(4)).toBe(1);
        expectRaftError(() => s.term(3), 'COMPACTED');
        expectRaftError(() => s.entries(4, 5, Infinity), 'COMPACTED');
        // Entries between the compaction point and the snapshot stay readable.
        expect(plainAll(s.entries(5, 11, Infinity))).toEqual(plainAll([entry(5, 1), ...entryRange(6, 10, 2)]));
        expect(s.snapshot()).toEqual(meta6);
        expect(s.initialState().confState).toEqual(CONF_A);
      };
      s = await verify(s, afterFirstCompact);
      // Idempotent.
      await s.compact(meta6, 4);
      s = await verify(s, afterFirstCompact);
      // An older snapshot is ignored and a lower compactIndex releases nothing.
      await s.compact({ index: 5, term: 1, confState: CONF_B }, 3);
      s = await verify(s, afterFirstCompact);
      // Compacting through the newest snapshot; appends go on as before.
      await s.compact(meta6, 6);
      await s.save({ entries: [entry(11, 2)] });
      s = await verify(s, (s) => {
        expect(s.firstIndex()).toBe(7);
        expect(s.lastIndex()).toBe(11);
        expect(s.term(6)).toBe(2);
        expect(s.snapshot()).toEqual(meta6);
      });
      // Overwriting right after the compaction point is allowed.
      await s.save({ entries: [entry(7, 3)] });
      s = await verify(s, (s) => {
        expect(s.firstIndex()).toBe(7);
        expect(s.lastIndex()).toBe(7);
        expect(s.term(6)).toBe(2);
        expect(s.term(7)).toBe(3);
      });
      // Compacting everything leaves an empty log that still knows the last term.
      const meta7: SnapshotMeta = { index: 7, term: 3, confState: CONF_B };
      await s.compact(meta7, 7);
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(8);
        expect(s.lastIndex()).toBe(7);
        expect(s.term(7)).toBe(3);
        expect(s.entries(8, 8, Infinity)).toEqual([]);
        expect(s.snapshot()).toEqual(meta7);
        expect(s.initialState().confState).toEqual(CONF_B);
      });
    });

    it('clamps compactIndex to lastIndex', async () => {
      const s = await openIn(dir);
      await s.save({ entries: entryRange(1, 4, 1) });
      const meta: SnapshotMeta = { index: 9, term: 1, confState: CONF_A };
      await s.compact(meta, 9);
      await verify(s, (s) => {
        expect(s.firstIndex()).toBe(5);
        expect(s.lastIndex()).toBe(4);
        expect(s.term(4)).toBe(1);
        expect(s.snapshot()).toEqual(meta);
      });
    });

    it('matches a plain-array model over random operation sequences', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArbitrary(reopenable), { minLength: 1, maxLength: reopenable ? 30 : 60 }), async (ops) => {
          const runDir = path.join(dir, `run-${run++}`);
          await fs.mkdir(runDir);
          let s = await openIn(runDir);
          const model = new ModelLog();
          try {
            for (const op of ops) {
              if (op.kind === 'reopen') {
                s = await reopen(s, runDir);
              } else {
                await applyOp(op, s, model);
              }
              expectMatchesModel(s, model);
            }
          } finally {
            await closeStorage(s);
          }
        }),
        { numRuns: reopenable ? 40 : 150 },
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Randomized model test

/**
 * The trivially correct reference: `terms[i]` and `sizes[i]` describe the entry at index i for
 * every i ≤ last (index 0 is the empty log's term 0); `first` marks where the held range starts.
 * Nothing is ever physically removed below `first`, which is what makes it obviously right.
 */
class ModelLog {
  terms: number[] = [0];
  sizes: number[] = [0];
  types: EntryType[] = ['normal'];
  first = 1;
  /** Highest term ever written, so a non-matching snapshot term can be made up. */
  maxTerm = 0;
  hardState: HardState = EMPTY_HARD_STATE;
  snapshot: SnapshotMeta = EMPTY_SNAPSHOT;

  get last(): number {
    return this.terms.length - 1;
  }

  termAt(index: number): number {
    // Indexes skipped by a snapshot beyond the log are holes; they are never compared.
    return this.terms[index] ?? 0;
  }

  entryAt(index: number): Entry {
    return entry(index, this.termAt(index), this.sizes[index] ?? 0, this.types[index] ?? 'normal');
  }

  /** Truncates from `from` on and appends. */
  write(from: number, terms: readonly number[], sizes: readonly number[], types: readonly EntryType[]): void {
    this.terms.length = from;
    this.sizes.length = from;
    this.types.length = from;
    this.terms.push(...terms);
    this.sizes.push(...sizes);
    this.types.push(...types);
    this.maxTerm = Math.max(this.maxTerm, ...terms);
  }
}

type Op =
  | { kind: 'append'; back: number; count: number; termBump: number; sizes: number[]; confChangeAt: number }
  | { kind: 'compact'; snapshotPos: number; compactBack: number; conf: boolean }
  | { kind: 'snapshot'; ahead: number; matching: boolean; conf: boolean }
  | { kind: 'hardState'; term: number; vote: number; commit: number }
  | { kind: 'reopen' };

function opArbitrary(reopenable: boolean): fc.Arbitrary<Op> {
  const ops: fc.Arbitrary<Op>[] = [
    fc.record({
      kind: fc.constant('append' as const),
      // How far before lastIndex + 1 to start: 0 appends, more overwrites a suffix.
      back: fc.oneof(fc.constant(0), fc.nat({ max: 8 })),
      count: fc.integer({ min: 1, max: 6 }),
      termBump: fc.nat({ max: 2 }),
      sizes: fc.array(fc.oneof(fc.constant(0), fc.nat({ max: 40 })), { minLength: 6, maxLength: 6 }),
      confChangeAt: fc.integer({ min: -1, max: 5 }),
    }),
    fc.record({
      kind: fc.constant('compact' as const),
      // Fraction of the way from 0 to lastIndex: low values give snapshots older than the current one.
      snapshotPos: fc.double({ min: 0, max: 1, noNaN: true }),
      compactBack: fc.oneof(fc.constant(0), fc.nat({ max: 6 })),
      conf: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('snapshot' as const),
      ahead: fc.nat({ max: 12 }),
      matching: fc.boolean(),
      conf: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('hardState' as const),
      term: fc.nat({ max: 50 }),
      vote: fc.nat({ max: 5 }),
      commit: fc.nat({ max: 100 }),
    }),
  ];
  const weighted: fc.WeightedArbitrary<Op>[] = [
    { arbitrary: ops[0] as fc.Arbitrary<Op>, weight: 6 },
    { arbitrary: ops[1] as fc.Arbitrary<Op>, weight: 2 },
    { arbitrary: ops[2] as fc.Arbitrary<Op>, weight: 1 },
    { arbitrary: ops[3] as fc.Arbitrary<Op>, weight: 2 },
  ];
  if (reopenable) weighted.push({ arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 2 });
  return fc.oneof(...weighted);
}

/** Turns the relative op into a valid absolute write, applies it to both, and awaits the storage. */
async function applyOp(op: Exclude<Op, { kind: 'reopen' }>, s: LogStorage, m: ModelLog): Promise<void> {
  switch (op.kind) {
    case 'append': {
      const from = Math.max(m.first, m.last + 1 - op.back);
      // Terms never decrease along the log, as in Raft.
      const term = Math.max(m.termAt(from - 1), m.termAt(m.last)) + op.termBump;
      const sizes = op.sizes.slice(0, op.count);
      const types = sizes.map((_, i): EntryType => (i === op.confChangeAt ? 'confChange' : 'normal'));
      const entries = sizes.map((size, i) => entry(from + i, term, size, types[i] ?? 'normal'));
      m.write(
        from,
        sizes.map(() => term),
        sizes,
        types,
      );
      await s.save({ entries });
      return;
    }
    case 'compact': {
      const snapIndex = Math.floor(op.snapshotPos * m.last);
      const compactIndex = Math.max(0, snapIndex - op.compactBack);
      const meta: SnapshotMeta = { index: snapIndex, term: m.termAt(snapIndex), confState: op.conf ? CONF_A : CONF_B };
      if (meta.index >= m.snapshot.index) m.snapshot = meta;
      if (compactIndex >= m.first) m.first = compactIndex + 1;
      await s.compact(meta, compactIndex);
      return;
    }
    case 'snapshot': {
      const index = Math.max(m.snapshot.index, m.first - 1) + op.ahead;
      const canMatch = index <= m.last;
      const term = op.matching && canMatch ? m.termAt(index) : m.maxTerm + 1;
      const meta: SnapshotMeta = { index, term, confState: op.conf ? CONF_A : CONF_B };
      if (canMatch && m.termAt(index) === term) {
        m.first = index + 1;
      } else {
        // Indexes below the snapshot are never read again; only its own term must be known.
        m.write(index, [term], [0], ['normal']);
        m.first = index + 1;
      }
      m.snapshot = meta;
      await s.save({ snapshot: meta, entries: [] });
      return;
    }
    case 'hardState': {
      const hs: HardState = { term: op.term, vote: op.vote, commit: op.commit };
      m.hardState = hs;
      await s.save({ entries: [], hardState: hs });
      return;
    }
  }
}

function expectMatchesModel(s: LogStorage, m: ModelLog): void {
  expect(s.firstIndex()).toBe(m.first);
  expect(s.lastIndex()).toBe(m.last);
  const expectedTerms: number[] = [];
  for (let i = m.first - 1; i <= m.last; i++) expectedTerms.push(m.termAt(i));
  const actualTerms: number[] = [];
  for (let i = m.first - 1; i <= m.last; i++) actualTerms.push(s.term(i));
  expect(actualTerms).toEqual(expectedTerms);
  if (m.first >= 2) expectRaftError(() => s.term(m.first - 2), 'COMPACTED');
  expectRaftError(() => s.term(m.last + 1), 'UNAVAILABLE');
  const expectedEntries: Entry[] = [];
  for (let i = m.first; i <= m.last; i++) expectedEntries.push(m.entryAt(i));
  expect(plainAll(s.entries(m.first, m.last + 1, Infinity))).toEqual(plainAll(expectedEntries));
  expect(s.initialState()).toEqual({ hardState: m.hardState, confState: m.snapshot.confState });
  expect(s.snapshot()).toEqual(m.snapshot);
}
