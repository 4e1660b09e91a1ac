import type { ClientSession, KvResult } from './commands.js';
import { resultFromWire, resultToWire } from './result-wire.js';
import type { Fail } from './wire.js';
import { list, posInt, str, tuple, uint } from './wire.js';

export interface SessionTableOptions {
  /** Clients remembered at once; the least recently used (by log index) is forgotten. */
  readonly maxClients?: number;
  /** Results remembered per client; the lowest seq is forgotten first. */
  readonly maxResultsPerClient?: number;
}

interface ClientState {
  /** Every seq below this whose result is not stored is expired: its outcome is forgotten. */
  floor: number;
  /** Seqs of stored results, ascending, so the lowest and an ackedBelow cut are cheap. */
  readonly seqs: number[];
  readonly results: Map<number, KvResult>;
  /** Log index of this client's latest command: the LRU key, so eviction needs no clock. */
  lastUsed: number;
}

/**
 * The client session table (Raft dissertation §6.3), generalized to many outstanding requests
 * per client: the result of every request a client may still retry is kept, so a retry that
 * reaches the log again is answered from the table instead of being applied twice.
 *
 * It is replicated state: every decision depends only on the commands and their log indexes,
 * and it travels in snapshots.
 *
 * Limitation: a client evicted whole is forgotten whole; if it later retries a request, the
 * table cannot tell, and applies it. Size maxClients above the number of live clients.
 */
export class SessionTable {
  readonly maxClients: number;
  readonly maxResultsPerClient: number;
  /** Insertion order is LRU order: a touched client is moved to the end. */
  private readonly clients = new Map<string, ClientState>();

  constructor(opts: SessionTableOptions = {}) {
    this.maxClients = opts.maxClients ?? 10_000;
    this.maxResultsPerClient = opts.maxResultsPerClient ?? 4096;
    if (!Number.isSafeInteger(this.maxClients) || this.maxClients < 1) throw new RangeError('maxClients must be a positive integer');
    if (!Number.isSafeInteger(this.maxResultsPerClient) || this.maxResultsPerClient < 1) throw new RangeError('maxResultsPerClient must be a positive integer');
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Runs `execute` for a request seen for the first time and remembers its result; returns the
   * stored result for a retry, or SESSION_EXPIRED for a retry whose result was forgotten.
   */
  run(session: ClientSession, index: number, execute: () => KvResult): KvResult {
    const client = this.touch(session.clientId, index);
    if (session.ackedBelow !== undefined) raiseFloor(client, session.ackedBelow);
    const stored = client.results.get(session.seq);
    if (stored !== undefined) return stored;
    if (session.seq < client.floor) {
      return { type: 'error', code: 'SESSION_EXPIRED', message: `result of ${session.clientId}#${session.seq} is no longer stored` };
    }
    const result = execute();
    this.remember(client, session.seq, result);
    return result;
  }

  private touch(clientId: string, index: number): ClientState {
    let client = this.clients.get(clientId);
    if (client === undefined) {
      client = { floor: 0, seqs: [], results: new Map(), lastUsed: index };
    } else {
      this.clients.delete(clientId);
      client.lastUsed = index;
    }
    this.clients.set(clientId, client);
    while (this.clients.size > this.maxClients) {
      const oldest = this.clients.keys().next();
      if (oldest.done === true) break;
      this.clients.delete(oldest.value);
    }
    return client;
  }

  private remember(client: ClientState, seq: number, result: KvResult): void {
    if (result.type === 'error') return;
    client.results.set(seq, result);
    const at = lowerBound(client.seqs, seq);
    client.seqs.splice(at, 0, seq);
    while (client.seqs.length > this.maxResultsPerClient) {
      // The evicted seq and everything below it can no longer be answered: expire them.
      raiseFloor(client, (client.seqs[0] ?? 0) + 1);
    }
  }

  /** Snapshot form, in LRU order: [[clientId, lastUsed, floor, [[seq, result], ...]], ...]. */
  toWire(): unknown[] {
    return [...this.clients].map(([id, c]) => [id, c.lastUsed, c.floor, c.seqs.map((s) => [s, resultToWire(c.results.get(s) ?? missing())])]);
  }

  /** Rebuilds a table from `toWire` output, checking every field and ordering. */
  static fromWire(raw: unknown, opts: SessionTableOptions, fail: Fail): SessionTable {
    const table = new SessionTable(opts);
    let lastUsedBefore = -1;
    for (const c of list(raw, 'session table', fail)) {
      const [idRaw, lastUsedRaw, floorRaw, resultsRaw] = tuple(c, 4, 4, 'client session', fail);
      const clientId = str(idRaw, 'clientId', fail);
      const lastUsed = posInt(lastUsedRaw, 'lastUsed', fail);
      if (lastUsed <= lastUsedBefore) throw fail('client sessions out of LRU order');
      if (table.clients.has(clientId)) throw fail(`duplicate client ${clientId}`);
      lastUsedBefore = lastUsed;
      const client: ClientState = { floor: uint(floorRaw, 'floor', fail), seqs: [], results: new Map(), lastUsed };
      for (const r of list(resultsRaw, 'stored results', fail)) {
        const [seqRaw, resultRaw] = tuple(r, 2, 2, 'stored result', fail);
        const seq = posInt(seqRaw, 'seq', fail);
        if (seq < client.floor || seq <= (client.seqs[client.seqs.length - 1] ?? 0)) throw fail('stored results out of order or below floor');
        client.seqs.push(seq);
        client.results.set(seq, resultFromWire(resultRaw, fail));
      }
      table.clients.set(clientId, client);
    }
    return table;
  }
}

/** Forgets every result below `floor`: the client promised never to ask for them again. */
function raiseFloor(client: ClientState, floor: number): void {
  if (floor <= client.floor) return;
  client.floor = floor;
  const cut = lowerBound(client.seqs, floor);
  for (const s of client.seqs.splice(0, cut)) client.results.delete(s);
}

/** First position in ascending `xs` whose value is >= `x`. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function missing(): never {
  throw new Error('assertion failed: session seqs and results disagree');
}
