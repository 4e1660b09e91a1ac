/**
 * A linearizability checker in the Wing–Gong style with the refinements Lowe and Porcupine made
 * popular:
 *
 * - P-compositionality: a history is linearizable iff each independent sub-history (e.g. one
 *   per key) is, so the model may split the history and we search each part on its own. This
 *   turns one exponential search into several much smaller ones.
 * - Depth-first search over linearization points with backtracking. The history is laid out as
 *   a doubly linked list of call and return events in time order; an op can be linearized next
 *   only if its call comes before the first remaining return event (it is "minimal": it was
 *   invoked before every pending op responded). Linearizing an op unlinks its two events;
 *   backtracking links them back in place.
 * - A cache of (set of linearized ops, model state) configurations already explored: reaching
 *   the same configuration along a different order cannot succeed where the first did not.
 *
 * Ops with an unknown outcome ("lost": the client gave up) may take effect at any point after
 * their call, or never, so they have no return event and the search is done once every op with
 * a known outcome is linearized. They make the search much wider, so they get their own list,
 * are tried last, and the cache also prunes configurations dominated by one with fewer lost ops
 * placed (see VisitedCache). Candidate order follows Lowe's "just in time" idea (see
 * searchPartition). None of this changes the verdict, only how fast it is reached; a search
 * that runs out of budget says 'unknown', never 'ok'.
 */

export interface HistoryOp<I, O> {
  readonly clientId: number;
  readonly input: I;
  /** undefined when the outcome is unknown (the client timed out): the op may or may not have taken effect. */
  readonly output: O | undefined;
  /** Virtual time of invocation. */
  readonly callTime: number;
  /** Virtual time of response; Number.POSITIVE_INFINITY when output is undefined. */
  readonly returnTime: number;
}

export interface Model<S, I, O> {
  init(): S;
  /** Applies input to state; ok=false if `output` is impossible from `state`. `output` undefined means "unknown": accept any outcome and apply the input's effect. */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** Splits a history into independent sub-histories (e.g. per key). Default: one partition. */
  partition?(ops: readonly HistoryOp<I, O>[]): HistoryOp<I, O>[][];
  /** A string key of a state for the visited cache. */
  stateKey(state: S): string;
  /**
   * Optional search hint: true if `step` never changes the state when it accepts (input,
   * output), e.g. a read, or a compare-and-swap that reports failure. Must hold for every state,
   * not just the current one. Lets the search commit to such ops; omit it if unsure.
   */
  isReadOnly?(input: I, output: O): boolean;
  describeOp?(op: HistoryOp<I, O>): string;
}

export type CheckResult =
  | { readonly kind: 'ok' }
  | {
      readonly kind: 'illegal';
      /** Index into the model's partition of the history. */
      readonly partition: number;
      /** The longest prefix of the partition that could be linearized, in linearization order. */
      readonly longestPrefix: readonly string[];
      /** The ops that were candidates to go next after that prefix; none fits the model. */
      readonly stuckAt: readonly string[];
      readonly explanation: string;
    }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface CheckOptions {
  /** Model steps one partition's search may take before giving up with 'unknown'. */
  maxStepsPerPartition?: number;
}

const DEFAULT_MAX_STEPS_PER_PARTITION = 5_000_000;

/**
 * Checks `history` against `model`. Returns the first illegal partition if any; otherwise
 * 'unknown' if some partition's search ran out of budget; otherwise 'ok'.
 *
 * Equal timestamps count as concurrent (a call at the same virtual time as another op's return
 * may be ordered either way): with millisecond clocks, ties carry no ordering information, and
 * an over-strict checker would report bugs that are not there.
 */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly HistoryOp<I, O>[],
  opts?: CheckOptions,
): CheckResult {
  const maxSteps = opts?.maxStepsPerPartition ?? DEFAULT_MAX_STEPS_PER_PARTITION;
  const partitions = model.partition?.(history) ?? [[...history]];
  let unknown: string | undefined;
  for (const [index, ops] of partitions.entries()) {
    validate(ops);
    const outcome = searchPartition(model, ops, maxSteps);
    if (outcome.kind === 'illegal') return explainIllegal(model, ops, index, outcome.longestPrefix);
    if (outcome.kind === 'unknown' && unknown === undefined) {
      unknown =
        `partition ${index} (${ops.length} ops): search exceeded ${maxSteps} model steps; ` +
        `the longest linearization found placed ${outcome.longestPrefix.length} ops`;
    }
  }
  return unknown === undefined ? { kind: 'ok' } : { kind: 'unknown', reason: unknown };
}

function validate<I, O>(ops: readonly HistoryOp<I, O>[]): void {
  for (const op of ops) {
    if (Number.isNaN(op.callTime) || Number.isNaN(op.returnTime) || op.returnTime < op.callTime) {
      throw new RangeError(`history op has an invalid time window [${op.callTime}, ${op.returnTime}]`);
    }
  }
}

// ------------------------------------------------------------------------------ event lists

/**
 * A node of a doubly linked event list. Ops with a known outcome live in the "known" list as a
 * call and a return event; ops with an unknown outcome live in the "lost" list as a call only.
 */
interface Entry {
  readonly kind: 'call' | 'return' | 'end';
  /** Index into the partition's op array (-1 for sentinels). */
  readonly op: number;
  /** Index of the op in its own op set (known or lost). */
  readonly slot: number;
  readonly lost: boolean;
  readonly timeMs: number;
  prev: Entry | null;
  next: Entry | null;
  /** A known op's call points to its return and vice versa; null for lost calls and sentinels. */
  partner: Entry | null;
  /** For a lost call: the latest earlier-called lost call with an identical input, if any. */
  twin: Entry | null;
}

function sentinel(kind: 'return' | 'end'): Entry {
  return { kind, op: -1, slot: -1, lost: false, timeMs: Number.NEGATIVE_INFINITY, prev: null, next: null, partner: null, twin: null };
}

/** Links `events` after a fresh head sentinel (and before `end`, if given); returns the head. */
function linkAll(events: readonly Entry[], end?: Entry): Entry {
  const head = sentinel('return');
  let tail = head;
  for (const e of [...events, ...(end === undefined ? [] : [end])]) {
    e.prev = tail;
    tail.next = e;
    tail = e;
  }
  return head;
}

interface EventLists {
  /** Known calls and returns in time order. At equal times calls sort before returns, so
   * touching windows overlap (see checkLinearizable). */
  readonly knownHead: Entry;
  /** Lost calls in call-time order, closed by an 'end' sentinel. */
  readonly lostHead: Entry;
  readonly knownCount: number;
  readonly lostCount: number;
}

function buildEventLists<I, O>(ops: readonly HistoryOp<I, O>[]): EventLists {
  const known: Entry[] = [];
  const lost: Entry[] = [];
  let knownCount = 0;
  ops.forEach((op, i) => {
    const base = { op: i, prev: null, next: null, partner: null, twin: null };
    if (op.output === undefined) {
      lost.push({ ...base, kind: 'call', slot: lost.length, lost: true, timeMs: op.callTime });
      return;
    }
    const slot = knownCount++;
    const call: Entry = { ...base, kind: 'call', slot, lost: false, timeMs: op.callTime };
    const ret: Entry = { ...base, kind: 'return', slot, lost: false, timeMs: op.returnTime, partner: call };
    call.partner = ret;
    known.push(call, ret);
  });
  known.sort((a, b) => a.timeMs - b.timeMs || Number(b.kind === 'call') - Number(a.kind === 'call') || a.op - b.op);
  lost.sort((a, b) => a.timeMs - b.timeMs || a.op - b.op);
  const lastByInput = new Map<string, Entry>();
  for (const e of lost) {
    const key = JSON.stringify(ops[e.op]?.input);
    if (key === undefined) continue; // not plain data: never treated as a twin
    e.twin = lastByInput.get(key) ?? null;
    lastByInput.set(key, e);
  }
  return { knownHead: linkAll(known), lostHead: linkAll(lost, sentinel('end')), knownCount, lostCount: lost.length };
}

function unlink(e: Entry): void {
  if (e.prev !== null) e.prev.next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}

/** Undoes unlink(e); valid only in the reverse order of unlinking (dancing links). */
function relink(e: Entry): void {
  if (e.prev !== null) e.prev.next = e;
  if (e.next !== null) e.next.prev = e;
}

/** Removes a call and its return from their list: the op has been linearized. */
function lift(call: Entry): void {
  unlink(call);
  if (call.partner !== null) unlink(call.partner);
}

function unlift(call: Entry): void {
  if (call.partner !== null) relink(call.partner);
  relink(call);
}

/** The earliest pending response: the first return event left in the known list. */
function firstReturn(knownHead: Entry): Entry {
  let e = knownHead.next;
  while (e !== null && e.kind !== 'return') e = e.next;
  if (e === null) throw new Error('linearizability: no pending return while known ops remain');
  return e;
}

// ------------------------------------------------------------------------------ op sets

/**
 * A set of small integers as a bitset, with a Zobrist hash (XOR of a fixed pseudo-random word
 * per member) kept up to date in O(1) per change so cache lookups need not rehash the set.
 */
class OpSet {
  private readonly words: Uint32Array;
  hash = 0;

  constructor(size: number, words?: Uint32Array, hash?: number) {
    this.words = words ?? new Uint32Array(Math.ceil(size / 32));
    this.hash = hash ?? 0;
  }

  add(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] ?? 0) | (1 << (i & 31));
    this.hash ^= memberHash(i);
  }

  remove(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] ?? 0) & ~(1 << (i & 31));
    this.hash ^= memberHash(i);
  }

  has(i: number): boolean {
    return ((this.words[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0;
  }

  equals(other: OpSet): boolean {
    if (this.hash !== other.hash) return false;
    for (let w = 0; w < this.words.length; w++) if (this.words[w] !== other.words[w]) return false;
    return true;
  }

  isSubsetOf(other: OpSet): boolean {
    for (let w = 0; w < this.words.length; w++) {
      // Bitwise results are signed 32-bit, the stored words unsigned: compare against zero.
      if (((this.words[w] ?? 0) & ~(other.words[w] ?? 0)) !== 0) return false;
    }
    return true;
  }

  clone(): OpSet {
    return new OpSet(0, this.words.slice(), this.hash);
  }
}

/** murmur3's 32-bit finalizer: a deterministic, well-mixed word per member. */
function memberHash(i: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Configurations (known ops linearized, lost ops linearized, model state) already explored.
 *
 * Beyond exact repeats it prunes dominated configurations: with the same known ops and state,
 * having linearized fewer lost ops is at least as good, because every continuation of the
 * larger configuration is also open to the smaller one (lost ops have no return event, so they
 * never restrict which ops may go next). Without this, every pending lost op doubles the
 * search: "took effect here" and "never took effect" look different but behave the same once
 * a later write overwrites the state.
 */
class VisitedCache {
  private readonly buckets = new Map<string, { known: OpSet; lost: OpSet }[]>();

  /** Records the configuration; false if it, or one that dominates it, was seen before. */
  add(known: OpSet, lost: OpSet, stateKey: string): boolean {
    const key = `${known.hash}|${stateKey}`;
    const bucket = this.buckets.get(key) ?? [];
    if (bucket.some((seen) => seen.known.equals(known) && seen.lost.isSubsetOf(lost))) return false;
    // Keep the bucket an antichain: entries the new one dominates can never prune anything it
    // would not, and scanning them makes every lookup slower.
    const kept = bucket.filter((seen) => !(seen.known.equals(known) && lost.isSubsetOf(seen.lost)));
    kept.push({ known: known.clone(), lost: lost.clone() });
    this.buckets.set(key, kept);
    return true;
  }
}

// ------------------------------------------------------------------------------ search

type SearchOutcome =
  | { readonly kind: 'ok' }
  /** `longestPrefix`: op indices, in order, of the linearization that placed the most known ops. */
  | { readonly kind: 'illegal' | 'unknown'; readonly longestPrefix: readonly number[] };

/**
 * Where the search is in the ordered candidates of one configuration. With R the first pending
 * return: 'deadline' is R's own op, 'known' the other known calls before R (in call order),
 * 'lost' the lost calls invoked no later than R.
 */
type Phase = 'deadline' | 'known' | 'lost';

interface Frame<S> {
  readonly call: Entry;
  readonly phase: Phase;
  /** Model state before this op was linearized, restored on backtrack. */
  readonly stateBefore: S;
  /** The op was read-only: if the search fails after it, no other choice here can succeed. */
  readonly committed: boolean;
}

/**
 * Depth-first search. The refinements below only reorder or skip candidates whose outcome
 * another tried candidate already covers, so the verdict is exact:
 *
 * - The op whose response is due first goes first ("just in time", after Lowe): it must be
 *   linearized before that response anyway, and trying ops in call order instead makes the
 *   search commit early to ops with long windows and backtrack far when that was wrong.
 * - Lost ops go last, so the search places one only when nothing else fits, which is usually
 *   exactly where a read observed it.
 * - Of several pending lost ops with identical inputs only the earliest-called is tried: they
 *   are interchangeable (same effect, and both stay available forever), so trying each would
 *   only repeat the same search.
 * - A read-only op that fits is committed to: if a linearization exists at all, one exists
 *   that places it right here (it is minimal, so moving it earlier breaks no real-time order,
 *   and it changes no state), so its siblings need not be tried when it fails.
 */
function searchPartition<S, I, O>(model: Model<S, I, O>, ops: readonly HistoryOp<I, O>[], maxSteps: number): SearchOutcome {
  const lists = buildEventLists(ops);
  const known = new OpSet(lists.knownCount);
  const lost = new OpSet(lists.lostCount);
  const cache = new VisitedCache();
  const stack: Frame<S>[] = [];
  let state = model.init();
  let knownLeft = lists.knownCount;
  let longestPrefix: number[] = [];
  let bestKnown = 0;
  let steps = 0;

  if (knownLeft === 0) return { kind: 'ok' };
  let deadline = firstReturn(lists.knownHead);
  let phase: Phase = 'deadline';
  /** The next candidate to try in the 'known' or 'lost' phase. */
  let cursor: Entry | null = null;

  while (knownLeft > 0) {
    const candidate = nextCandidate();
    if (candidate === null) {
      // No candidate fits here: undo the most recent choice and try the one after it.
      const frame = stack.pop();
      if (frame === undefined) return { kind: 'illegal', longestPrefix };
      state = frame.stateBefore;
      unlift(frame.call);
      if (frame.call.lost) {
        lost.remove(frame.call.slot);
      } else {
        known.remove(frame.call.slot);
        knownLeft++;
      }
      deadline = firstReturn(lists.knownHead);
      if (frame.committed) {
        phase = 'lost';
        cursor = null; // the next nextCandidate() fails at once
      } else {
        advancePast(frame.call, frame.phase);
      }
      continue;
    }
    if (steps++ >= maxSteps) return { kind: 'unknown', longestPrefix };
    const op = ops[candidate.op];
    if (op === undefined) throw new Error('linearizability: event refers to a missing op');
    const result = model.step(state, op.input, op.output);
    const readOnly = result.ok && op.output !== undefined && model.isReadOnly?.(op.input, op.output) === true;
    if (result.ok) {
      const set = candidate.lost ? lost : known;
      set.add(candidate.slot);
      if (cache.add(known, lost, model.stateKey(result.state))) {
        stack.push({ call: candidate, phase, stateBefore: state, committed: readOnly });
        state = result.state;
        lift(candidate);
        if (!candidate.lost) knownLeft--;
        const placedKnown = lists.knownCount - knownLeft;
        if (placedKnown > bestKnown) {
          bestKnown = placedKnown;
          longestPrefix = stack.map((f) => f.call.op);
        }
        if (knownLeft > 0) deadline = firstReturn(lists.knownHead);
        phase = 'deadline';
        continue;
      }
      set.remove(candidate.slot);
    }
    if (readOnly) {
      // Already explored from here (the cache says so) and failed: so does this configuration.
      phase = 'lost';
      cursor = null;
    } else {
      advancePast(candidate, phase);
    }
  }
  return { kind: 'ok' };

  /** The candidate to try now, or null when this configuration's candidates are exhausted. */
  function nextCandidate(): Entry | null {
    if (phase === 'deadline') return deadline.partner;
    if (phase === 'known') {
      while (cursor !== null && cursor.kind === 'call' && cursor === deadline.partner) cursor = cursor.next;
      if (cursor !== null && cursor.kind === 'call') return cursor;
      phase = 'lost';
      cursor = lists.lostHead.next;
    }
    while (cursor !== null && cursor.twin !== null && !lost.has(cursor.twin.slot)) cursor = cursor.next;
    return cursor !== null && cursor.kind === 'call' && cursor.timeMs <= deadline.timeMs ? cursor : null;
  }

  /** Moves past `tried`, which was tried in `triedPhase`, to the next candidate. */
  function advancePast(tried: Entry, triedPhase: Phase): void {
    phase = triedPhase === 'deadline' ? 'known' : triedPhase;
    cursor = triedPhase === 'deadline' ? lists.knownHead.next : tried.next;
  }
}

// ------------------------------------------------------------------------------ reporting

function describe<S, I, O>(model: Model<S, I, O>, op: HistoryOp<I, O>): string {
  if (model.describeOp !== undefined) return model.describeOp(op);
  const output = op.output === undefined ? '?' : JSON.stringify(op.output);
  return `client ${op.clientId}: ${JSON.stringify(op.input)} -> ${output} [${op.callTime}, ${op.returnTime}]`;
}

/**
 * Turns the deepest linearization (most known ops placed) into a report: replays it to get the
 * model state there and lists the known ops that could have gone next (invoked no later than
 * the earliest pending response). At that point the model rejected every one of them, else the
 * search would have gone deeper.
 */
function explainIllegal<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly HistoryOp<I, O>[],
  partition: number,
  prefix: readonly number[],
): CheckResult {
  let state = model.init();
  const done = new Set<number>();
  for (const i of prefix) {
    const op = ops[i];
    if (op === undefined) continue;
    state = model.step(state, op.input, op.output).state;
    done.add(i);
  }
  const pending = ops.filter((op, i) => !done.has(i) && op.output !== undefined);
  let deadline: HistoryOp<I, O> | undefined;
  for (const op of pending) if (deadline === undefined || op.returnTime < deadline.returnTime) deadline = op;
  const deadlineMs = deadline?.returnTime ?? Number.POSITIVE_INFINITY;
  const candidates = pending.filter((op) => op.callTime <= deadlineMs).sort((a, b) => a.callTime - b.callTime);
  const lostPending = ops.filter((op, i) => !done.has(i) && op.output === undefined && op.callTime <= deadlineMs).length;
  const explanation =
    `after linearizing ${prefix.length} of ${ops.length} ops the model state is ${model.stateKey(state)}; ` +
    `none of the ${candidates.length} ops invoked no later than the earliest pending response ` +
    `(${deadline === undefined ? 'none' : describe(model, deadline)}) is consistent with it` +
    (lostPending > 0 ? `, nor does placing any of the ${lostPending} pending ops with unknown outcome first help` : '');
  return {
    kind: 'illegal',
    partition,
    longestPrefix: prefix.flatMap((i) => {
      const op = ops[i];
      return op === undefined ? [] : [describe(model, op)];
    }),
    stuckAt: candidates.map((op) => describe(model, op)),
    explanation,
  };
}
