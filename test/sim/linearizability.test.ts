import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { kvModel } from '../../src/sim/kv-model.js';
import type { KvInput, KvOutput } from '../../src/sim/kv-model.js';
import { checkLinearizable } from '../../src/sim/linearizability.js';
import type { HistoryOp, Model } from '../../src/sim/linearizability.js';

type KvOp = HistoryOp<KvInput, KvOutput>;

/** An op with a known outcome over [callTime, returnTime]. */
function op(clientId: number, input: KvInput, output: KvOutput, callTime: number, returnTime: number): KvOp {
  return { clientId, input, output, callTime, returnTime };
}

/** An op whose client timed out: it may or may not have taken effect. */
function lost(clientId: number, input: KvInput, callTime: number): KvOp {
  return { clientId, input, output: undefined, callTime, returnTime: Number.POSITIVE_INFINITY };
}

const put = (key: string, value: string): KvInput => ({ kind: 'put', key, value });
const get = (key: string): KvInput => ({ kind: 'get', key });
const del = (key: string): KvInput => ({ kind: 'delete', key });
const cas = (key: string, expected: string | null, value: string): KvInput => ({ kind: 'cas', key, expected, value });
const ok: KvOutput = { kind: 'put' };
const got = (value: string | null): KvOutput => ({ kind: 'get', value });
const deleted = (existed: boolean): KvOutput => ({ kind: 'delete', existed });
const swapped = (succeeded: boolean): KvOutput => ({ kind: 'cas', succeeded });

const check = (history: readonly KvOp[]) => checkLinearizable(kvModel, history);

describe('checkLinearizable with the KV model', () => {
  it('accepts an empty history', () => {
    expect(check([]).kind).toBe('ok');
  });

  it('accepts a sequential history', () => {
    const history = [
      op(1, get('x'), got(null), 0, 1),
      op(1, put('x', 'a'), ok, 2, 3),
      op(2, get('x'), got('a'), 4, 5),
      op(1, del('x'), deleted(true), 6, 7),
      op(2, del('x'), deleted(false), 8, 9),
      op(1, cas('x', null, 'b'), swapped(true), 10, 11),
      op(2, get('x'), got('b'), 12, 13),
    ];
    expect(check(history).kind).toBe('ok');
  });

  it('accepts a read concurrent with a write seeing either the old or the new value', () => {
    const before = op(1, put('x', 'a'), ok, 0, 1);
    const write = op(1, put('x', 'b'), ok, 2, 10);
    expect(check([before, write, op(2, get('x'), got('a'), 3, 5)]).kind).toBe('ok');
    expect(check([before, write, op(2, get('x'), got('b'), 3, 5)]).kind).toBe('ok');
  });

  it('treats touching windows (equal timestamps) as concurrent', () => {
    const history = [op(1, put('x', 'a'), ok, 0, 5), op(2, get('x'), got(null), 5, 6)];
    expect(check(history).kind).toBe('ok');
  });

  it('rejects a stale read after a completed write, with a readable trace', () => {
    const history = [
      op(1, put('x', 'a'), ok, 0, 1),
      op(1, put('x', 'b'), ok, 2, 3),
      op(2, get('x'), got('a'), 4, 5),
    ];
    const result = check(history);
    expect(result.kind).toBe('illegal');
    if (result.kind !== 'illegal') return;
    expect(result.partition).toBe(0);
    expect(result.longestPrefix).toEqual(['client 1 put(x, "a") -> ok [0, 1]', 'client 1 put(x, "b") -> ok [2, 3]']);
    expect(result.stuckAt).toEqual(['client 2 get(x) -> "a" [4, 5]']);
    expect(result.explanation).toContain('model state is "b"');
  });

  it('rejects a read of a value never written', () => {
    const history = [op(1, put('x', 'a'), ok, 0, 10), op(2, get('x'), got('zzz'), 1, 2)];
    expect(check(history).kind).toBe('illegal');
  });

  it('rejects two reads that see a write, then not see it', () => {
    const history = [
      op(1, put('x', 'a'), ok, 0, 20),
      op(2, get('x'), got('a'), 1, 2),
      op(3, get('x'), got(null), 3, 4),
    ];
    expect(check(history).kind).toBe('illegal');
  });

  it('implements compare-and-swap semantics', () => {
    const history = [
      op(1, cas('x', null, 'a'), swapped(true), 0, 1),
      op(1, cas('x', null, 'z'), swapped(false), 2, 3),
      op(1, cas('x', 'a', 'b'), swapped(true), 4, 5),
      op(1, cas('x', 'a', 'c'), swapped(false), 6, 7),
      op(1, get('x'), got('b'), 8, 9),
    ];
    expect(check(history).kind).toBe('ok');
    // A failed cas changes nothing.
    expect(check([op(1, cas('x', 'q', 'a'), swapped(false), 0, 1), op(1, get('x'), got('a'), 2, 3)]).kind).toBe('illegal');
    // A cas cannot succeed against the wrong expected value.
    expect(check([op(1, put('x', 'a'), ok, 0, 1), op(1, cas('x', 'b', 'c'), swapped(true), 2, 3)]).kind).toBe('illegal');
    // Of two concurrent cas(absent => ...), only one can win.
    const racing = [op(1, cas('x', null, 'a'), swapped(true), 0, 10), op(2, cas('x', null, 'b'), swapped(true), 1, 9)];
    expect(check(racing).kind).toBe('illegal');
    const fair = [op(1, cas('x', null, 'a'), swapped(true), 0, 10), op(2, cas('x', null, 'b'), swapped(false), 1, 9)];
    expect(check([...fair, op(3, get('x'), got('a'), 11, 12)]).kind).toBe('ok');
    expect(check([...fair, op(3, get('x'), got('b'), 11, 12)]).kind).toBe('illegal');
  });

  it('implements delete semantics', () => {
    expect(check([op(1, del('x'), deleted(true), 0, 1)]).kind).toBe('illegal');
    const history = [
      op(1, put('x', 'a'), ok, 0, 1),
      op(1, del('x'), deleted(true), 2, 10),
      op(2, del('x'), deleted(false), 3, 9),
      op(3, get('x'), got(null), 11, 12),
    ];
    expect(check(history).kind).toBe('ok');
    expect(check([op(1, put('x', 'a'), ok, 0, 1), op(1, del('x'), deleted(true), 2, 3), op(2, get('x'), got('a'), 4, 5)]).kind).toBe(
      'illegal',
    );
  });

  describe('ops with an unknown outcome', () => {
    const base = [op(1, put('x', 'a'), ok, 0, 1), lost(2, put('x', 'b'), 2)];

    it('may have taken effect', () => {
      expect(check([...base, op(3, get('x'), got('b'), 10, 11)]).kind).toBe('ok');
    });

    it('may never have taken effect', () => {
      expect(check([...base, op(3, get('x'), got('a'), 10, 11)]).kind).toBe('ok');
    });

    it('may take effect long after the client gave up', () => {
      expect(check([...base, op(3, get('x'), got('a'), 10, 11), op(3, get('x'), got('b'), 12, 13)]).kind).toBe('ok');
    });

    it('cannot be observed and then un-observed', () => {
      const result = check([...base, op(3, get('x'), got('b'), 10, 11), op(3, get('x'), got('a'), 12, 13)]);
      expect(result.kind).toBe('illegal');
      if (result.kind === 'illegal') expect(result.stuckAt).toEqual(['client 3 get(x) -> "a" [12, 13]']);
    });

    it('cannot take effect before it was called', () => {
      const history = [op(1, get('x'), got('b'), 0, 1), lost(2, put('x', 'b'), 2)];
      expect(check(history).kind).toBe('illegal');
    });

    it('applies an unknown cas only if its condition held', () => {
      const history = [op(1, put('x', 'a'), ok, 0, 1), lost(2, cas('x', 'q', 'b'), 2), op(3, get('x'), got('b'), 10, 11)];
      expect(check(history).kind).toBe('illegal');
    });
  });

  it('checks keys independently and reports the failing partition', () => {
    const history = [
      op(1, put('x', 'a'), ok, 0, 1),
      op(2, put('y', 'a'), ok, 0, 1),
      op(1, get('x'), got('a'), 2, 3),
      op(2, get('y'), got(null), 2, 3),
    ];
    const result = check(history);
    expect(result.kind).toBe('illegal');
    if (result.kind === 'illegal') expect(result.partition).toBe(1);
  });

  it("returns 'unknown' when the search budget runs out", () => {
    const history = [op(1, put('x', 'a'), ok, 0, 10), op(2, put('x', 'b'), ok, 0, 10), op(3, get('x'), got('a'), 11, 12)];
    const result = checkLinearizable(kvModel, history, { maxStepsPerPartition: 1 });
    expect(result.kind).toBe('unknown');
  });

  it('rejects invalid time windows', () => {
    expect(() => check([op(1, put('x', 'a'), ok, 5, 4)])).toThrow(RangeError);
  });
});

describe('checkLinearizable with a generic model', () => {
  /** A counter with increment and read; no partition, no describeOp: the defaults apply. */
  const counter: Model<number, 'inc' | 'read', number> = {
    init: () => 0,
    step: (state, input, output) =>
      input === 'inc' ? { ok: true, state: state + 1 } : { ok: output === undefined || output === state, state },
    stateKey: (state) => String(state),
  };
  const c = (clientId: number, input: 'inc' | 'read', output: number, callTime: number, returnTime: number) => ({
    clientId,
    input,
    output,
    callTime,
    returnTime,
  });

  it('accepts reads that fit some order of concurrent increments', () => {
    const history = [c(1, 'inc', 0, 0, 10), c(2, 'inc', 0, 0, 10), c(3, 'read', 1, 1, 2), c(3, 'read', 2, 11, 12)];
    expect(checkLinearizable(counter, history).kind).toBe('ok');
  });

  it('rejects a decreasing counter and describes ops by default', () => {
    const history = [c(1, 'inc', 0, 0, 1), c(3, 'read', 1, 2, 3), c(3, 'read', 0, 4, 5)];
    const result = checkLinearizable(counter, history);
    expect(result.kind).toBe('illegal');
    if (result.kind === 'illegal') expect(result.stuckAt).toEqual(['client 3: "read" -> 0 [4, 5]']);
  });
});

// ------------------------------------------------------------------------------ generated histories

/** A deterministic PRNG (mulberry32) so generated workloads are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Applies `input` to a real map, the reference the histories are generated from. */
function apply(store: Map<string, string>, input: KvInput): KvOutput {
  const current = store.get(input.key) ?? null;
  switch (input.kind) {
    case 'put':
      store.set(input.key, input.value);
      return { kind: 'put' };
    case 'get':
      return { kind: 'get', value: current };
    case 'delete':
      store.delete(input.key);
      return { kind: 'delete', existed: current !== null };
    case 'cas':
      if (current !== input.expected) return { kind: 'cas', succeeded: false };
      store.set(input.key, input.value);
      return { kind: 'cas', succeeded: true };
  }
}

interface PlannedOp {
  readonly clientId: number;
  readonly input: KvInput;
  /** The true linearization point; the window [callTime, returnTime] must contain it. */
  readonly linearizeAt: number;
  readonly callTime: number;
  readonly returnTime: number;
  /** The client times out; `appliedIfLost` says whether the op really took effect. */
  readonly lost: boolean;
  readonly appliedIfLost: boolean;
}

/** Executes the plan in linearization order against a real map and records what clients saw. */
function execute(plan: readonly PlannedOp[]): KvOp[] {
  const store = new Map<string, string>();
  const outputs = new Map<PlannedOp, KvOutput>();
  for (const p of [...plan].sort((a, b) => a.linearizeAt - b.linearizeAt)) {
    if (p.lost && !p.appliedIfLost) continue;
    outputs.set(p, apply(store, p.input));
  }
  return plan.map((p) =>
    p.lost
      ? { clientId: p.clientId, input: p.input, output: undefined, callTime: p.callTime, returnTime: Number.POSITIVE_INFINITY }
      : { clientId: p.clientId, input: p.input, output: outputs.get(p), callTime: p.callTime, returnTime: p.returnTime },
  );
}

/**
 * A workload like the simulator's: each client issues one op at a time; the op takes effect
 * somewhere inside its window; a client that times out moves on without waiting.
 */
function concurrentPlan(opts: { seed: number; keys: number; clients: number; ops: number; lostFraction: number }): PlannedOp[] {
  const random = mulberry32(opts.seed);
  const keys = Array.from({ length: opts.keys }, (_, i) => `k${i}`);
  const nextCallMs = Array.from({ length: opts.clients }, () => random() * 10);
  const plan: PlannedOp[] = [];
  for (let i = 0; i < opts.ops; i++) {
    // The client that is free soonest issues the next op, so all clients run concurrently.
    let clientId = 0;
    for (let c = 1; c < opts.clients; c++) if ((nextCallMs[c] ?? 0) < (nextCallMs[clientId] ?? 0)) clientId = c;
    const callTime = nextCallMs[clientId] ?? 0;
    const linearizeAt = callTime + 0.5 + random() * 20;
    const returnTime = linearizeAt + 0.5 + random() * 20;
    const key = keys[Math.floor(random() * keys.length)] ?? 'k0';
    const roll = random();
    const input: KvInput =
      roll < 0.35
        ? put(key, `v${i}`)
        : roll < 0.75
          ? get(key)
          : roll < 0.85
            ? del(key)
            : cas(key, random() < 0.5 ? null : `v${Math.floor(random() * i)}`, `v${i}`);
    const lost = input.kind !== 'get' && random() < opts.lostFraction;
    plan.push({ clientId, input, linearizeAt, callTime, returnTime, lost, appliedIfLost: random() < 0.5 });
    nextCallMs[clientId] = (lost ? callTime + 25 : returnTime) + random() * 5;
  }
  return plan;
}

const KEYS = ['a', 'b', 'c'];
const VALUES = ['v0', 'v1', 'v2']; // a small domain, so equal values make the search ambiguous

const plannedOpArb = fc.record({
  clientId: fc.nat({ max: 7 }),
  key: fc.constantFrom(...KEYS),
  kind: fc.constantFrom('put', 'get', 'get', 'delete', 'cas'),
  value: fc.constantFrom(...VALUES),
  expected: fc.constantFrom<string | null>(null, ...VALUES),
  leadMs: fc.nat({ max: 40 }),
  lagMs: fc.nat({ max: 40 }),
  lost: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))), // ~25% lost
  appliedIfLost: fc.boolean(),
});

const planArb = fc.array(plannedOpArb, { minLength: 1, maxLength: 60 }).map((rows) =>
  rows.map((r, i): PlannedOp => {
    const input: KvInput =
      r.kind === 'put'
        ? put(r.key, r.value)
        : r.kind === 'get'
          ? get(r.key)
          : r.kind === 'delete'
            ? del(r.key)
            : cas(r.key, r.expected, r.value);
    const linearizeAt = 10 * i + 5; // distinct, sequential linearization points
    return {
      clientId: r.clientId,
      input,
      linearizeAt,
      callTime: linearizeAt - r.leadMs,
      returnTime: linearizeAt + r.lagMs,
      lost: r.lost,
      appliedIfLost: r.appliedIfLost,
    };
  }),
);

/**
 * Decides linearizability by brute force: tries every order of every subset of ops that
 * includes all ops with a known outcome. Only for tiny histories; the reference the checker's
 * pruning is compared against.
 */
function bruteForceLinearizable(history: readonly KvOp[]): boolean {
  const n = history.length;
  const used = new Array<boolean>(n).fill(false);
  const knownCount = history.filter((o) => o.output !== undefined).length;
  const extend = (store: Map<string, string>, placedKnown: number): boolean => {
    if (placedKnown === knownCount) return true;
    for (let i = 0; i < n; i++) {
      const next = history[i];
      if (used[i] === true || next === undefined) continue;
      // Every op that must come before `next` (returned strictly before it was called) must be placed.
      const blocked = history.some((o, j) => used[j] !== true && o.output !== undefined && o.returnTime < next.callTime);
      if (blocked) continue;
      const after = new Map(store);
      const actual = apply(after, next.input);
      if (next.output !== undefined && JSON.stringify(actual) !== JSON.stringify(next.output)) continue;
      used[i] = true;
      const found = extend(after, placedKnown + (next.output === undefined ? 0 : 1));
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return extend(new Map(), 0);
}

const tinyOpArb = fc.record({
  clientId: fc.nat({ max: 3 }),
  input: fc.oneof(
    fc.record({ kind: fc.constant('put' as const), key: fc.constantFrom('x', 'y'), value: fc.constantFrom('a', 'b') }),
    fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom('x', 'y') }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('x', 'y') }),
    fc.record({
      kind: fc.constant('cas' as const),
      key: fc.constantFrom('x', 'y'),
      expected: fc.constantFrom<string | null>(null, 'a', 'b'),
      value: fc.constantFrom('a', 'b'),
    }),
  ),
  // Random outputs of every kind; mismatched kinds are simply impossible outcomes.
  output: fc.option(
    fc.oneof(
      fc.constant<KvOutput>({ kind: 'put' }),
      fc.constantFrom<string | null>(null, 'a', 'b').map((value): KvOutput => ({ kind: 'get', value })),
      fc.boolean().map((existed): KvOutput => ({ kind: 'delete', existed })),
      fc.boolean().map((succeeded): KvOutput => ({ kind: 'cas', succeeded })),
    ),
    { freq: 4 },
  ),
  callTime: fc.nat({ max: 10 }), // a small range, so equal timestamps are common
  durationMs: fc.nat({ max: 6 }),
});

const tinyHistoryArb = fc.array(tinyOpArb, { maxLength: 7 }).map((rows) =>
  rows.map(
    (r): KvOp =>
      r.output === null
        ? { clientId: r.clientId, input: r.input, output: undefined, callTime: r.callTime, returnTime: Number.POSITIVE_INFINITY }
        : { clientId: r.clientId, input: r.input, output: r.output, callTime: r.callTime, returnTime: r.callTime + r.durationMs },
  ),
);

describe('checkLinearizable on generated histories', () => {
  it('agrees with brute force on tiny random histories', () => {
    fc.assert(
      fc.property(tinyHistoryArb, (history) => {
        const expected = bruteForceLinearizable(history) ? 'ok' : 'illegal';
        expect(check(history).kind).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });


  it('accepts every history produced by a real sequential execution', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const result = check(execute(plan));
        if (result.kind !== 'ok') throw new Error(JSON.stringify(result, null, 2));
      }),
    );
  });

  it('rejects the same histories once one read returns a value never written', () => {
    fc.assert(
      fc.property(planArb, fc.nat(), (plan, pick) => {
        const history = execute(plan);
        const reads = history.flatMap((o, i) => (o.input.kind === 'get' && o.output !== undefined ? [i] : []));
        fc.pre(reads.length > 0);
        const victim = reads[pick % reads.length] ?? 0;
        const mutated = history.map((o, i) => (i === victim ? { ...o, output: got('never-written') } : o));
        expect(check(mutated).kind).toBe('illegal');
      }),
    );
  });

  it('checks 2,000 ops from 8 concurrent clients on 5 keys without exhausting the budget', () => {
    const plan = concurrentPlan({ seed: 42, keys: 5, clients: 8, ops: 2_000, lostFraction: 0.03 });
    expect(check(execute(plan))).toEqual({ kind: 'ok' });
  });

  it('copes with many writes of unknown outcome', () => {
    const plan = concurrentPlan({ seed: 7, keys: 3, clients: 4, ops: 3_000, lostFraction: 0.1 });
    expect(check(execute(plan))).toEqual({ kind: 'ok' });
  });
});
