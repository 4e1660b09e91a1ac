import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { KeelClientError } from './errors.js';

export type Consistency = 'linearizable' | 'lease' | 'eventual';

export interface KeelClientOptions {
  /** "host:port" of one or more nodes' API; any member will do. */
  readonly endpoints: readonly string[];
  /** Overall deadline of one call, retries included. */
  readonly timeoutMs?: number;
  /** Keep-alive connections per node. */
  readonly connectionsPerNode?: number;
  /** Identifies this client's writes so that a retry is applied once; random by default. */
  readonly clientId?: string;
}

export interface Entry {
  readonly key: string;
  readonly value: string;
  readonly version: number;
  readonly createVersion: number;
}

export type WatchEvent = { readonly type: 'put'; readonly key: string; readonly value: string; readonly version: number } | { readonly type: 'delete'; readonly key: string; readonly version: number };

export interface Member {
  readonly id: number;
  readonly role: string;
  readonly addr: string | null;
  readonly apiAddr: string | null;
}

export interface Members {
  readonly group: number;
  readonly leader: number | null;
  readonly members: readonly Member[];
}

export interface GroupStatus {
  readonly group: number;
  readonly role: string;
  readonly leader: number;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  readonly members: Record<string, { raft: string; api: string }>;
}

export interface NodeStatus {
  readonly id: number;
  readonly clusterId: string;
  readonly address: { raft: string; api: string } | null;
  readonly groups: readonly GroupStatus[];
}

interface CallOptions {
  readonly group?: number;
  /** Send to this endpoint only (status of one node), without leader routing or failover. */
  readonly endpoint?: string;
  /** Overrides the client's deadline for this call (a long poll needs longer). */
  readonly deadlineMs?: number;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const MIN_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 1_000;

/**
 * A typed client of Keel's native API. It tracks the leader from the `keel-leader-addr` header
 * every node sends and sends later requests there, fails over to the other endpoints when a
 * node is unreachable or has no leader, and retries with backoff until the deadline. Writes
 * carry (clientId, seq), so a write retried after a timeout is applied once.
 */
export class KeelClient {
  private readonly endpoints: string[];
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  readonly clientId: string;
  private seq = 0;
  private readonly outstanding = new Set<number>();
  private leader: string | undefined;
  private next = 0;

  constructor(opts: KeelClientOptions) {
    if (opts.endpoints.length === 0) throw new KeelClientError('BAD_ARGUMENT', 'at least one endpoint is needed', 0);
    this.endpoints = opts.endpoints.map(normalizeEndpoint);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.clientId = opts.clientId ?? randomUUID();
    this.dispatcher = new Agent({ connections: opts.connectionsPerNode ?? 16, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  /** The leader's endpoint as last reported by a node. */
  get knownLeader(): string | undefined {
    return this.leader;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  // ---- data

  async get(key: string, opts: CallOptions & { consistency?: Consistency } = {}): Promise<Entry | undefined> {
    const q = opts.consistency === undefined ? '' : `?consistency=${opts.consistency}`;
    try {
      return await this.call<Entry>('GET', `${this.groupPath(opts)}/kv/${encodeKey(key)}${q}`, undefined, opts, opts.consistency !== 'eventual');
    } catch (err) {
      if (err instanceof KeelClientError && err.code === 'KEY_NOT_FOUND') return undefined;
      throw err;
    }
  }

  put(key: string, value: string, opts: CallOptions = {}): Promise<{ version: number; previous: Omit<Entry, 'key'> | null }> {
    return this.write('PUT', `${this.groupPath(opts)}/kv/${encodeKey(key)}`, { value }, opts);
  }

  delete(key: string, opts: CallOptions = {}): Promise<{ deleted: boolean; version: number; previous: Omit<Entry, 'key'> | null }> {
    return this.write('DELETE', `${this.groupPath(opts)}/kv/${encodeKey(key)}`, {}, opts);
  }

  /** Compare-and-set: `value` null deletes; `expectedValue` null or `expectedVersion` 0 mean "absent". */
  cas(
    args: { key: string; value: string | null; expectedValue?: string | null; expectedVersion?: number },
    opts: CallOptions = {},
  ): Promise<{ succeeded: boolean; version: number; current: Omit<Entry, 'key'> | null }> {
    return this.write('POST', `${this.groupPath(opts)}/cas`, args, opts);
  }

  scan(args: { prefix?: string; startAfter?: string; limit?: number; consistency?: Consistency } = {}, opts: CallOptions = {}): Promise<{ entries: Entry[]; more: boolean }> {
    const q = new URLSearchParams();
    if (args.prefix !== undefined) q.set('prefix', args.prefix);
    if (args.startAfter !== undefined) q.set('startAfter', args.startAfter);
    if (args.limit !== undefined) q.set('limit', String(args.limit));
    if (args.consistency !== undefined) q.set('consistency', args.consistency);
    return this.call('GET', `${this.groupPath(opts)}/scan?${q.toString()}`, undefined, opts, args.consistency !== 'eventual');
  }

  /**
   * Long-polls for changes to keys starting with `prefix` after version `after` (default: now).
   * Resolves with the changes (possibly none, at the timeout) and the revision to watch from next.
   */
  watch(args: { prefix?: string; after?: number; timeoutMs?: number } = {}, opts: CallOptions = {}): Promise<{ revision: number; events: WatchEvent[] }> {
    const q = new URLSearchParams();
    if (args.prefix !== undefined) q.set('prefix', args.prefix);
    if (args.after !== undefined) q.set('after', String(args.after));
    if (args.timeoutMs !== undefined) q.set('timeoutMs', String(args.timeoutMs));
    return this.call('GET', `${this.groupPath(opts)}/watch?${q.toString()}`, undefined, { ...opts, deadlineMs: Math.max(this.timeoutMs, (args.timeoutMs ?? 30_000) + 5_000) }, false);
  }

  // ---- admin

  status(opts: CallOptions = {}): Promise<NodeStatus> {
    return this.call('GET', '/v1/status', undefined, opts, false);
  }

  members(opts: CallOptions = {}): Promise<Members> {
    return this.call('GET', `${this.groupPath(opts)}/members`, undefined, opts, false);
  }

  /** Initializes an uninitialized node (sent to `opts.endpoint` or the first endpoint). */
  init(members: readonly { id: number; addr?: string; apiAddr?: string; role?: 'voter' | 'learner' }[], opts: CallOptions = {}): Promise<unknown> {
    return this.call('POST', '/v1/init', { members }, { endpoint: opts.endpoint ?? this.endpoints[0] ?? '' }, false);
  }

  addLearner(id: number, addr: string, opts: CallOptions & { apiAddr?: string; wait?: boolean } = {}): Promise<Members> {
    return this.call('POST', `${this.groupPath(opts)}/members`, { id, addr, ...(opts.apiAddr === undefined ? {} : { apiAddr: opts.apiAddr }), role: 'learner', wait: opts.wait ?? false }, opts, true);
  }

  /** Adds a voter: as a learner first, then promoted once caught up. */
  addVoter(id: number, addr: string, opts: CallOptions & { apiAddr?: string } = {}): Promise<Members> {
    return this.call('POST', `${this.groupPath(opts)}/members`, { id, addr, ...(opts.apiAddr === undefined ? {} : { apiAddr: opts.apiAddr }), role: 'voter' }, opts, true);
  }

  changeMembership(voters: readonly number[], opts: CallOptions = {}): Promise<Members> {
    return this.call('PUT', `${this.groupPath(opts)}/voters`, { voters }, opts, true);
  }

  removeMember(id: number, opts: CallOptions = {}): Promise<Members> {
    return this.call('DELETE', `${this.groupPath(opts)}/members/${id}`, undefined, opts, true);
  }

  transferLeader(to: number, opts: CallOptions = {}): Promise<unknown> {
    return this.call('POST', `${this.groupPath(opts)}/transfer-leader`, { to }, opts, true);
  }

  /** Prometheus text of one node. */
  async metrics(opts: CallOptions = {}): Promise<string> {
    return this.call<string>('GET', '/v1/metrics', undefined, opts, false, true);
  }

  // ---- plumbing

  private groupPath(opts: CallOptions): string {
    return `/v1/groups/${opts.group ?? 1}`;
  }

  private async write<T>(method: string, path: string, body: Record<string, unknown>, opts: CallOptions): Promise<T> {
    const seq = ++this.seq;
    this.outstanding.add(seq);
    const ackedBelow = Math.min(...this.outstanding);
    try {
      return await this.call<T>(method, path, { ...body, clientId: this.clientId, seq, ackedBelow }, opts, true);
    } finally {
      this.outstanding.delete(seq);
    }
  }

  private async call<T>(method: string, path: string, body: unknown, opts: CallOptions, preferLeader: boolean, text = false): Promise<T> {
    const deadline = Date.now() + (opts.deadlineMs ?? this.timeoutMs);
    let lastError: KeelClientError | undefined;
    for (let attempt = 0; ; attempt++) {
      const endpoint = opts.endpoint ?? (preferLeader && this.leader !== undefined ? this.leader : this.pick(attempt));
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new KeelClientError('DEADLINE_EXCEEDED', `no answer within ${this.timeoutMs} ms${lastError === undefined ? '' : `; last error: ${lastError.message}`}`, lastError?.status ?? 0);
      }
      try {
        const res = await request(`http://${endpoint}${path}`, {
          method: method as Dispatcher.HttpMethod,
          dispatcher: this.dispatcher,
          headersTimeout: remaining,
          bodyTimeout: remaining,
          ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        });
        this.noteLeader(res.headers['keel-leader-addr']);
        const raw = await res.body.text();
        if (res.statusCode < 300) return (text ? raw : raw === '' ? undefined : JSON.parse(raw)) as T;
        const err = parseError(res.statusCode, raw);
        if (!RETRYABLE_STATUS.has(res.statusCode) || opts.endpoint !== undefined) throw err;
        lastError = err;
        if (this.leader === endpoint) this.leader = undefined;
      } catch (err) {
        if (err instanceof KeelClientError && !RETRYABLE_STATUS.has(err.status)) throw err;
        if (!(err instanceof KeelClientError)) {
          lastError = new KeelClientError('NETWORK', `cannot reach ${endpoint}: ${err instanceof Error ? err.message : String(err)}`, 0);
          if (opts.endpoint !== undefined) throw lastError;
          if (this.leader === endpoint) this.leader = undefined;
        }
      }
      const backoff = Math.min(MIN_BACKOFF_MS * 2 ** attempt, MAX_BACKOFF_MS);
      await new Promise((r) => setTimeout(r, Math.min(backoff * (0.5 + Math.random() / 2), Math.max(0, deadline - Date.now()))));
    }
  }

  private pick(attempt: number): string {
    const e = this.endpoints[(this.next + attempt) % this.endpoints.length];
    if (attempt === 0) this.next = (this.next + 1) % this.endpoints.length;
    return e ?? '';
  }

  private noteLeader(header: string | string[] | undefined): void {
    const v = Array.isArray(header) ? header[0] : header;
    if (v !== undefined && v !== '') this.leader = v;
  }
}

function parseError(status: number, raw: string): KeelClientError {
  try {
    const body = JSON.parse(raw) as { error?: { code?: string; message?: string } & Record<string, unknown> };
    if (body.error?.code !== undefined) return new KeelClientError(body.error.code, body.error.message ?? body.error.code, status, body.error);
  } catch {
    // not JSON: fall through
  }
  return new KeelClientError(`HTTP_${status}`, raw.slice(0, 500) || `HTTP ${status}`, status);
}

function normalizeEndpoint(e: string): string {
  return e.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
