import { RaftError, assert } from './errors.js';
import { Progress } from './progress.js';
import type { ProgressTracker, TrackerConfig } from './tracker.js';
import type { ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfState, NodeId } from './types.js';

export interface ChangeResult {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
}

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

/**
 * Computes configuration changes (Raft thesis ch. 4; etcd's confchange semantics) on copies:
 * the tracker given is never mutated, so a refused change leaves no trace.
 */
export class ConfChanger {
  constructor(
    private readonly tracker: Pick<ProgressTracker, 'config' | 'progress' | 'maxInflightMsgs' | 'maxInflightBytes'>,
    private readonly lastIndex: number,
  ) {}

  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size > 0) invalid('the configuration is already joint');
    if (cfg.incoming.size === 0) invalid('cannot make a zero-voter configuration joint');
    cfg.outgoing = new Set(cfg.incoming);
    this.apply(cfg, prs, changes);
    cfg.autoLeave = autoLeave;
    return this.finish(cfg, prs);
  }

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

  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.copy();
    if (cfg.outgoing.size > 0) invalid('cannot apply a simple change in a joint configuration');
    const before = new Set(cfg.incoming);
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
    if (cfg.incoming.size > 0 || cfg.outgoing.size > 0 || cfg.learners.size > 0) invalid('bootstrap needs an empty configuration');
    if (changes.some((c) => c.type === 'removeNode')) invalid('bootstrap can only add members');
    this.apply(cfg, prs, changes);
    return this.finish(cfg, prs);
  }

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
    return { cfg, prs };
  }

  private apply(cfg: MutableConfig, prs: Map<NodeId, Progress>, changes: readonly ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (!Number.isInteger(cc.nodeId) || cc.nodeId <= 0) invalid(`invalid node id ${String(cc.nodeId)}`);
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
    // A voter of the outgoing config cannot become a learner until the joint config is left.
    if (cfg.outgoing.has(id)) {
      cfg.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

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
      // Probe from the last index: the first append tells us where the new node stands.
      next: Math.max(this.lastIndex, 1),
      maxInflightMsgs: this.tracker.maxInflightMsgs,
      maxInflightBytes: this.tracker.maxInflightBytes,
      isLearner,
    });
    // New members count as active so CheckQuorum does not fire before they have had a chance.
    pr.recentActive = true;
    prs.set(id, pr);
  }

  private finish(cfg: MutableConfig, prs: Map<NodeId, Progress>): ChangeResult {
    checkInvariants(cfg, prs);
    return {
      config: {
        voters: { incoming: cfg.incoming, outgoing: cfg.outgoing },
        learners: cfg.learners,
        learnersNext: cfg.learnersNext,
        autoLeave: cfg.autoLeave,
      },
      progress: prs,
    };
  }
}

function checkInvariants(cfg: MutableConfig, prs: Map<NodeId, Progress>): void {
  for (const ids of [cfg.incoming, cfg.outgoing, cfg.learners, cfg.learnersNext]) {
    for (const id of ids) assert(prs.has(id), `member ${id} has no progress`);
  }
  for (const id of cfg.learnersNext) {
    assert(cfg.outgoing.has(id), `learnerNext ${id} is not an outgoing voter`);
    assert(prs.get(id)?.isLearner === false, `learnerNext ${id} is already marked learner`);
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

/** Carries out a ConfChange the way its transition asks. */
export function applyConfChangeToTracker(tracker: ProgressTracker, cc: ConfChange, lastIndex: number): ChangeResult {
  const changer = new ConfChanger(tracker, lastIndex);
  const c = tracker.config;
  const empty = c.voters.incoming.size === 0 && c.voters.outgoing.size === 0 && c.learners.size === 0;
  if (empty && cc.changes.length > 0) return changer.bootstrap(cc.changes);
  if (cc.changes.length === 0) return changer.leaveJoint();
  if (cc.transition !== 'auto' || cc.changes.length > 1) return changer.enterJoint(cc.transition !== 'explicitJoint', cc.changes);
  return changer.simple(cc.changes);
}

/**
 * Rebuilds the configuration of a ConfState (at startup, or from a snapshot): the outgoing
 * voters one by one, then, if joint, the incoming config as one joint change.
 */
export function restoreConfState(tracker: ProgressTracker, cs: ConfState, lastIndex: number): ChangeResult {
  let state: Pick<ProgressTracker, 'config' | 'progress' | 'maxInflightMsgs' | 'maxInflightBytes'> = {
    config: tracker.config,
    progress: tracker.progress,
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
  return { config: state.config, progress: state.progress };
}

const TRANSITIONS: readonly ConfChangeTransition[] = ['auto', 'implicitJoint', 'explicitJoint'];
const TYPES: readonly ConfChangeType[] = ['addVoter', 'addLearner', 'removeNode'];

/** Encodes a ConfChange for a `confChange` log entry: a compact JSON document. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const doc = {
    t: cc.transition,
    c: cc.changes.map((s) => [s.type, s.nodeId]),
    x: Buffer.from(cc.context.buffer, cc.context.byteOffset, cc.context.byteLength).toString('base64'),
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    invalid('configuration change entry is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null) invalid('configuration change entry is not an object');
  const d = doc as { t?: unknown; c?: unknown; x?: unknown };
  if (!TRANSITIONS.includes(d.t as ConfChangeTransition)) invalid(`unknown transition ${String(d.t)}`);
  if (!Array.isArray(d.c)) invalid('configuration change has no change list');
  if (typeof d.x !== 'string') invalid('configuration change has no context');
  const changes = (d.c as unknown[]).map((item): ConfChangeSingle => {
    if (!Array.isArray(item) || item.length !== 2) invalid('malformed single change');
    const [type, nodeId] = item as [unknown, unknown];
    if (!TYPES.includes(type as ConfChangeType)) invalid(`unknown change type ${String(type)}`);
    if (typeof nodeId !== 'number' || !Number.isInteger(nodeId) || nodeId <= 0) invalid(`invalid node id ${String(nodeId)}`);
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
