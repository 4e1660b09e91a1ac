import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { AppliedCommand } from '../../src/node/interfaces.js';
import type { ClientSession, KvCommand } from '../../src/kv/commands.js';
import { encodeKvCommand } from '../../src/kv/commands.js';
import { KvStateMachine } from '../../src/kv/kv-state-machine.js';

// Few keys, clients and seqs, and tight bounds, so collisions, retries, expiry and eviction
// all happen often.
const opts = { maxClients: 3, maxResultsPerClient: 4 };
const key = fc.constantFrom('a', 'b', 'b/1', 'c');
const value = fc.constantFrom('x', 'y', 'z');
const sessionArb: fc.Arbitrary<ClientSession | undefined> = fc.option(
  fc.record({ clientId: fc.constantFrom('c1', 'c2', 'c3', 'c4'), seq: fc.integer({ min: 1, max: 12 }), ack: fc.integer({ min: 0, max: 12 }) }).map(({ clientId, seq, ack }) => ({ clientId, seq, ...(ack > 0 ? { ackedBelow: Math.min(ack, seq) } : {}) })),
  { nil: undefined },
);
const withSession = <C extends KvCommand>(c: C, s: ClientSession | undefined): C => (s === undefined ? c : { ...c, session: s });

const command: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.record({ key, value, s: sessionArb }).map(({ key, value, s }) => encodeKvCommand(withSession({ op: 'put', key, value }, s))),
  fc.record({ key, s: sessionArb }).map(({ key, s }) => encodeKvCommand(withSession({ op: 'delete', key }, s))),
  fc
    .record({
      key,
      value: fc.option(value, { nil: null }),
      ev: fc.option(fc.option(value, { nil: null }), { nil: undefined }),
      ever: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      s: sessionArb,
    })
    .map(({ key, value, ev, ever, s }) =>
      encodeKvCommand(withSession({ op: 'cas', key, value, ...(ev === undefined && ever === undefined ? { expectedVersion: 0 } : {}), ...(ev === undefined ? {} : { expectedValue: ev }), ...(ever === undefined ? {} : { expectedVersion: ever }) }, s)),
    ),
  fc.uint8Array({ maxLength: 8 }),
);

const log: fc.Arbitrary<AppliedCommand[]> = fc.array(fc.record({ gap: fc.integer({ min: 1, max: 3 }), data: command }), { maxLength: 80 }).map((cs) => {
  let index = 0;
  return cs.map(({ gap, data }) => ({ index: (index += gap), term: 1, data }));
});

it('replicas agree, whether or not one was snapshotted and restored midway', () => {
  fc.assert(
    fc.property(log, fc.nat(), fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 10 }), (commands, splitSeed, batchSizes) => {
      const a = new KvStateMachine(opts);
      const b = new KvStateMachine(opts);
      const split = commands.length === 0 ? 0 : splitSeed % (commands.length + 1);

      // A applies in varied batch sizes, B one at a time: batching must not matter either.
      const resultsA = [];
      for (let i = 0, n = 0; i < commands.length; n++) {
        const size = batchSizes[n % batchSizes.length] ?? 1;
        resultsA.push(...a.apply(commands.slice(i, i + size)));
        i += size;
      }
      const resultsB = b.apply(commands.slice(0, split));
      const c = new KvStateMachine(opts);
      c.restore(b.snapshot());
      resultsB.push(...c.apply(commands.slice(split)));

      expect(resultsB).toEqual(resultsA);
      expect(c.appliedIndex).toBe(a.appliedIndex);
      expect(c.scan({ limit: 1000 })).toEqual(a.scan({ limit: 1000 }));
      expect(c.snapshot()).toEqual(a.snapshot());
      // The scan index agrees with the map.
      const all = a.scan({ limit: 1000 }).entries;
      expect(all.length).toBe(a.size);
      for (const e of all) expect(a.get(e.key)).toEqual({ value: e.value, version: e.version, createVersion: e.createVersion });
    }),
    { numRuns: 300 },
  );
});
