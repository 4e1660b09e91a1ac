import { RaftError, assert } from './errors.js';
import { Progress } from './progress.js';
import { EMPTY_TRACKER_CONFIG, configToConfState } from './tracker.js';
import type { ProgressTracker, TrackerConfig } from './tracker.js';
import type { ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfState, NodeId } from './types.js';

/** A new configuration and the progress map that goes with it. */
export interface ChangeResult {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
}

/** What a ConfChanger reads from a tracker (restoreConfState runs on intermediate states). */
type TrackerView = Pick<ProgressTracker, 'config' | 'progress' | 'maxInflightMsgs' | 'maxInflightBytes'>;

interface MutableConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

function invalid(message: string): never {
  throw new RaftError('INVALID_CONF_CHANGE', message);
}

function isValidNodeId(id: unknown): id is NodeId {
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
}

const TRANSITIONS: readonly ConfChangeTransition[] = ['auto', 'implicitJoint', 'explicitJoint'];
const TYPES: readonly ConfChangeType[] = ['addVoter', 'addLearner', 'removeNode'];

/**
 * Computes configuration changes (Raft thesis ch. 4, with etcd's joint-consensus semantics)
 * on copies: the tracker given is never mutated, so a refused change leaves no trace and the
 * caller decides when to install the result.
 */
export class ConfChanger {
  constructor(
    private readonly tracker: TrackerView,
    /** New members are probed from here: match 0, next = lastIndex. */
    private readonly lastIndex: number,
  ) {}

  /**
   * Enters a joint configuration: the current voters become the outgoing half, and the
   * changes are applied to the incoming half. Until it is left, every decision needs a
   * majority of both, which is what makes changing several voters at once safe.
   */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size > 0) invalid('the configuration is already joint');
    // Adding to an empty config is allowed (bootstrap), but a joint config needs an old half.
    if (cfg.incoming.size === 0) invalid('cannot make a zero-voter configuration joint');
    cfg.outgoing = new Set(cfg.incoming);
    this.apply(cfg, prs, changes);
    cfg.autoLeave = autoLeave;
    return this.finish(cfg, prs);
  }

  /**
   * Leaves the joint configuration: the outgoing half is dropped, staged demotions take
   * effect, and outgoing voters that belong to nothing anymore lose their progress.
   */
  leaveJoint(): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size === 0) invalid('the configuration is not joint');
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id);
      const pr = prs.get(id);
      assert(pr !== undefined, `learnerNext ${id} has no progress`);
      pr.isLearner = true;
    }
    cfg.learnersNext = new Set();
    for (const id of cfg.outgoing) {
      if (!cfg.incoming.has(id) && !cfg.learners.has(id)) prs.delete(id);
    }
    cfg.outgoing = new Set();
    cfg.autoLeave = false;
    return this.finish(cfg, prs);
  }

  /**
   * Applies changes without a joint configuration. Safe only when at most one voter is added
   * or removed: then every majority of the old voters overlaps every majority of the new.
   * Learners may change freely alongside.
   */
  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size > 0) invalid('cannot apply a simple change in a joint configuration');
    const before = this.tracker.config.voters.incoming;
    this.apply(cfg, prs, changes);
    let changed = 0;
    for (const id of before) if (!cfg.incoming.has(id)) changed++;
    for (const id of cfg.incoming) if (!before.has(id)) changed++;
    if (changed > 1) invalid('more than one voter changed without entering a joint configuration');
    return this.finish(cfg, prs);
  }

  /**
   * The first change of a new group: any number of voters and learners join an empty
   * configuration at once (there is no old majority to overlap with).
   */
  bootstrap(changes: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.copy();
    if (!isEmptyConfig(this.tracker.config)) invalid('bootstrap needs an empty configuration');
    if (changes.some((c) => c.type === 'removeNode')) invalid('bootstrap can only add members');
    this.apply(cfg, prs, changes);
    return this.finish(cfg, prs);
  }

  /** Deep copies of the tracker's config and progress, after checking the input is sound. */
  private copy(): { cfg: MutableConfig; prs: Map<NodeId, Progress> } {
    const c = this.tracker.config;
    const cfg: MutableConfig = {
      incoming: new Set(c.voters.incoming),
      outgoing: new Set(c.voters.outgoing),
      learners: new Set(c.learners),
      learnersNext: new Set(c.learnersNext),
      autoLeave: c.autoLeave,
    };
    const prs = new Map<NodeId, Progress>();
    for (const [id, pr] of this.tracker.progress) prs.set(id, pr.clone());
    checkInvariants(cfg, prs);
    return { cfg, prs };
  }

  private apply(cfg: MutableConfig, prs: Map<NodeId, Progress>, changes: readonly ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (!isValidNodeId(cc.nodeId)) invalid(`invalid node id ${String(cc.nodeId)}`);
      switch (cc.type) {
        case 'addVoter':
          this.makeVoter(cfg, prs, cc.nodeId);
          break;
        case 'addLearner':
          this.makeLearner(cfg, prs, cc.nodeId);
          break;
        case 'removeNode':
          this.remove(cfg, prs, cc.nodeId);
          break;
        default:
          invalid(`unknown change type ${String((cc as { type: unknown }).type)}`);
      }
    }
    if (cfg.incoming.size === 0) invalid('the change removes all voters');
  }

  /** Adds a voter, or promotes a learner (or a staged learner) keeping its progress. */
  private makeVoter(cfg: MutableConfig, prs: Map<NodeId, Progress>, id: NodeId): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    cfg.incoming.add(id);
  }

  /** Adds a learner, or demotes a voter keeping its progress. */
  private makeLearner(cfg: MutableConfig, prs: Map<NodeId, Progress>, id: NodeId): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Remove as a voter first, keeping the progress: the node stays in the group.
    this.remove(cfg, prs, id);
    prs.set(id, pr);
    // A voter of the outgoing config still counts for the old majority, so it cannot be a
    // learner yet: stage it, and leaveJoint makes it one.
    if (cfg.outgoing.has(id)) {
      cfg.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

  /** Removes an id from the incoming voters and the learners; unknown ids are a no-op. */
  private remove(cfg: MutableConfig, prs: Map<NodeId, Progress>, id: NodeId): void {
    if (!prs.has(id)) return;
    cfg.incoming.delete(id);
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    // An outgoing voter keeps its progress: it still counts for the old majority.
    if (!cfg.outgoing.has(id)) prs.delete(id);
  }

  private initProgress(cfg: MutableConfig, prs: Map<NodeId, Progress>, id: NodeId, isLearner: boolean): void {
    if (isLearner) cfg.learners.add(id);
    else cfg.incoming.add(id);
    const pr = new Progress({
      match: 0,
      // Probe from the last index: the first append response tells where the new node stands.
      next: Math.max(this.lastIndex, 1),
      maxInflightMsgs: this.tracker.maxInflightMsgs,
      maxInflightBytes: this.tracker.maxInflightBytes,
      isLearner,
    });
    // New members count as active so CheckQuorum does not fire before they had a chance.
    pr.recentActive = true;
    prs.set(id, pr);
  }

  private finish(cfg: MutableConfig, prs: Map<NodeId, Progress>): ChangeResult {
    checkInvariants(cfg, prs);
    // Ascending id order, so even direct iteration over the result is deterministic.
    const progress = new Map([...prs].sort(([a], [b]) => a - b));
    return {
      config: {
        voters: { incoming: sortedSet(cfg.incoming), outgoing: sortedSet(cfg.outgoing) },
        learners: sortedSet(cfg.learners),
        learnersNext: sortedSet(cfg.learnersNext),
        autoLeave: cfg.autoLeave,
      },
      progress,
    };
  }
}

function sortedSet(ids: ReadonlySet<NodeId>): Set<NodeId> {
  return new Set([...ids].sort((a, b) => a - b));
}

function isEmptyConfig(c: TrackerConfig): boolean {
  return c.voters.incoming.size === 0 && c.voters.outgoing.size === 0 && c.learners.size === 0 && c.learnersNext.size === 0;
}

/**
 * The invariants of a configuration and its progress map. A violation is a bug in this
 * file (or a corrupted input), never a user error, hence assert.
 */
function checkInvariants(cfg: MutableConfig, prs: ReadonlyMap<NodeId, Progress>): void {
  for (const ids of [cfg.incoming, cfg.outgoing, cfg.learners, cfg.learnersNext]) {
    for (const id of ids) assert(prs.has(id), `member ${id} has no progress`);
  }
  // Conversely, no orphan progress: every tracked id belongs to some set.
  for (const id of prs.keys()) {
    assert(cfg.incoming.has(id) || cfg.outgoing.has(id) || cfg.learners.has(id), `progress for non-member ${id}`);
  }
  for (const id of [...cfg.incoming, ...cfg.outgoing]) {
    assert(prs.get(id)?.isLearner === false, `voter ${id} is marked learner`);
  }
  // A staged learner was staged because it is still an outgoing voter.
  for (const id of cfg.learnersNext) {
    assert(cfg.outgoing.has(id), `learnerNext ${id} is not an outgoing voter`);
    assert(!cfg.incoming.has(id), `learnerNext ${id} is also an incoming voter`);
  }
  for (const id of cfg.learners) {
    assert(!cfg.incoming.has(id) && !cfg.outgoing.has(id), `learner ${id} is also a voter`);
    assert(prs.get(id)?.isLearner === true, `learner ${id} not marked learner`);
  }
  if (cfg.outgoing.size === 0) {
    assert(cfg.learnersNext.size === 0, 'learnersNext outside a joint configuration');
    assert(!cfg.autoLeave, 'autoLeave outside a joint configuration');
  }
}

/**
 * Carries out a ConfChange the way its transition asks: an empty change list leaves the
 * joint config; a multi-change or an explicit joint transition enters one; a single change
 * in 'auto' mode is a simple change. The very first change of a group (empty config) is a
 * bootstrap, which may add any number of members at once.
 */
export function applyConfChangeToTracker(tracker: ProgressTracker, cc: ConfChange, lastIndex: number): ChangeResult {
  const changer = new ConfChanger(tracker, lastIndex);
  if (isEmptyConfig(tracker.config) && cc.changes.length > 0) return changer.bootstrap(cc.changes);
  if (cc.changes.length === 0) return changer.leaveJoint();
  if (cc.transition !== 'auto' || cc.changes.length > 1) return changer.enterJoint(cc.transition !== 'explicitJoint', cc.changes);
  return changer.simple(cc.changes);
}

/**
 * Rebuilds the configuration a ConfState describes (at startup, or from a snapshot), starting
 * from an empty configuration whatever the tracker holds (only its inflight limits are used).
 * Not joint: the voters, then the learners, one simple change each. Joint, e.g. voters (1 2 3),
 * outgoing (1 2 4), learnersNext (4): first the outgoing voters as simple adds, giving (1 2 4);
 * then one joint change that removes them and adds the incoming voters and the learners, which
 * turns (1 2 4) into the outgoing half and stages 4 in learnersNext (it is an outgoing voter).
 * Throws INVALID_CONF_CHANGE if the ConfState is not a consistent configuration.
 */
export function restoreConfState(tracker: ProgressTracker, cs: ConfState, lastIndex: number): ChangeResult {
  let state: TrackerView = {
    config: EMPTY_TRACKER_CONFIG,
    progress: new Map(),
    maxInflightMsgs: tracker.maxInflightMsgs,
    maxInflightBytes: tracker.maxInflightBytes,
  };
  const step = (fn: (c: ConfChanger) => ChangeResult): void => {
    const r = fn(new ConfChanger(state, lastIndex));
    state = { ...state, config: r.config, progress: r.progress };
  };
  const single = (type: ConfChangeType, nodeId: NodeId): ConfChangeSingle => ({ type, nodeId });
  if (cs.votersOutgoing.length === 0) {
    for (const id of cs.voters) step((c) => c.simple([single('addVoter', id)]));
    for (const id of cs.learners) step((c) => c.simple([single('addLearner', id)]));
  } else {
    for (const id of cs.votersOutgoing) step((c) => c.simple([single('addVoter', id)]));
    const incoming: ConfChangeSingle[] = [
      ...cs.votersOutgoing.map((id) => single('removeNode', id)),
      ...cs.voters.map((id) => single('addVoter', id)),
      ...cs.learners.map((id) => single('addLearner', id)),
      ...cs.learnersNext.map((id) => single('addLearner', id)),
    ];
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  // An inconsistent ConfState (a learner that is also a voter, a learnerNext that is not an
  // outgoing voter, autoLeave outside joint...) would silently restore as something else.
  const got = configToConfState(state.config);
  const want = normalizeConfState(cs);
  if (!sameConfState(got, want)) {
    invalid(`inconsistent configuration ${describeConfState(cs)}: it restores as ${describeConfState(got)}`);
  }
  // Fresh maps even for an empty ConfState: the caller owns what it gets.
  return { config: state.config, progress: new Map(state.progress) };
}

/** A ConfState with sorted, de-duplicated id lists. */
export function normalizeConfState(cs: ConfState): ConfState {
  const norm = (ids: readonly NodeId[]): NodeId[] => [...new Set(ids)].sort((a, b) => a - b);
  return {
    voters: norm(cs.voters),
    votersOutgoing: norm(cs.votersOutgoing),
    learners: norm(cs.learners),
    learnersNext: norm(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function sameConfState(a: ConfState, b: ConfState): boolean {
  return (
    sameIds(a.voters, b.voters) &&
    sameIds(a.votersOutgoing, b.votersOutgoing) &&
    sameIds(a.learners, b.learners) &&
    sameIds(a.learnersNext, b.learnersNext) &&
    a.autoLeave === b.autoLeave
  );
}

function describeConfState(cs: ConfState): string {
  const l = (ids: readonly NodeId[]): string => `(${ids.join(' ')})`;
  return `voters=${l(cs.voters)} outgoing=${l(cs.votersOutgoing)} learners=${l(cs.learners)} learnersNext=${l(cs.learnersNext)} autoLeave=${cs.autoLeave}`;
}

/** Throws INVALID_CONF_CHANGE unless `cc` is well formed (types, transition, node ids). */
export function validateConfChange(cc: ConfChange): void {
  if (!TRANSITIONS.includes(cc.transition)) invalid(`unknown transition ${String(cc.transition)}`);
  // Callers may be plain JavaScript: check the shape, not just the static type.
  const changes: unknown = cc.changes;
  if (!Array.isArray(changes)) invalid('configuration change has no change list');
  for (const s of changes as readonly ConfChangeSingle[]) {
    if (!TYPES.includes(s.type)) invalid(`unknown change type ${String(s.type)}`);
    if (!isValidNodeId(s.nodeId)) invalid(`invalid node id ${String(s.nodeId)}`);
  }
  if (!(cc.context instanceof Uint8Array)) invalid('configuration change context must be bytes');
}

/**
 * Encodes a ConfChange for a `confChange` log entry: compact JSON, the context in base64,
 * e.g. {"t":"auto","c":[["addVoter",4]],"x":"AQI="}.
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  validateConfChange(cc);
  const doc = {
    t: cc.transition,
    c: cc.changes.map((s) => [s.type, s.nodeId]),
    x: Buffer.from(cc.context.buffer, cc.context.byteOffset, cc.context.byteLength).toString('base64'),
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** Strict base64 (Buffer.from silently skips invalid characters, which would hide garbage). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a `confChange` entry's data; anything malformed throws INVALID_CONF_CHANGE. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    invalid('configuration change entry is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) invalid('configuration change entry is not an object');
  const d = doc as { t?: unknown; c?: unknown; x?: unknown };
  if (!TRANSITIONS.includes(d.t as ConfChangeTransition)) invalid(`unknown transition ${String(d.t)}`);
  if (!Array.isArray(d.c)) invalid('configuration change has no change list');
  if (typeof d.x !== 'string' || !BASE64.test(d.x)) invalid('configuration change context is not base64');
  const changes = (d.c as unknown[]).map((item): ConfChangeSingle => {
    if (!Array.isArray(item) || item.length !== 2) invalid('malformed single change');
    const [type, nodeId] = item as [unknown, unknown];
    if (!TYPES.includes(type as ConfChangeType)) invalid(`unknown change type ${String(type)}`);
    if (!isValidNodeId(nodeId)) invalid(`invalid node id ${String(nodeId)}`);
    return { type: type as ConfChangeType, nodeId };
  });
  return { transition: d.t as ConfChangeTransition, changes, context: new Uint8Array(Buffer.from(d.x, 'base64')) };
}

/**
 * The single-step helper: a change of one node (add a voter, add or demote to a learner,
 * remove). It needs no joint configuration because one voter more or less keeps every
 * majority of the old and the new configuration overlapping.
 */
export function oneNodeChange(type: ConfChangeType, nodeId: NodeId, context: Uint8Array = new Uint8Array(0)): ConfChange {
  return { transition: 'auto', changes: [{ type, nodeId }], context };
}
