import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { OutgoingMessage } from '../node/interfaces.js';
import type { Message } from '../raft/message.js';
import { FrameDecoder, FrameKind, encodeFrame } from './frame-codec.js';
import { encodeMessage, packr } from './message-codec.js';
import { SnapshotSender } from './snapshot-sender.js';
import { TransportError } from './errors.js';

/** The largest frame the receiving side may send back (a snapshot acknowledgement is a few bytes). */
const ACK_FRAME_LIMIT_BYTES = 1024;

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface TransportLimits {
  /** Messages waiting for a connection or for the socket to drain; more are dropped. */
  readonly maxQueuedMessages: number;
  /** Bound on one frame, both directions. */
  readonly maxFrameBytes: number;
  /** Snapshot bytes per chunk frame. */
  readonly snapshotChunkBytes: number;
  /** Stop writing while this many bytes wait in the socket (backpressure). */
  readonly highWaterBytes: number;
  /** Largest snapshot a node accepts (it streams to disk; the bound guards the disk against a broken peer). */
  readonly maxSnapshotBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  maxQueuedMessages: 16_384,
  maxFrameBytes: 64 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  highWaterBytes: 8 * 1024 * 1024,
  // Received snapshots stream to disk, but the node restores its state machine from one buffer
  // (StateMachine.restore takes one), and Node's buffers stop at 4 GiB.
  maxSnapshotBytes: 4 * 1024 * 1024 * 1024,
};

export interface PeerLinkEvents {
  /** A message to `group` could not be delivered (no connection, or a full queue). */
  onUnreachable(group: number): void;
  /** A snapshot stream to the peer finished writing (`ok`) or broke off. */
  onSnapshotSent(group: number, ok: boolean): void;
  /** For the log: connection state changes, refusals. */
  onLog(level: 'info' | 'warn', message: string): void;
}

export interface PeerLinkOptions {
  readonly localId: number;
  readonly peerId: number;
  readonly clusterId: string;
  readonly resolve: () => PeerAddress | undefined;
  readonly selfAddress: () => string | undefined;
  readonly limits: TransportLimits;
  readonly events: PeerLinkEvents;
}

/** The upgrade token and the handshake headers of the peer stream. */
export const PEER_PROTOCOL = 'keel-raft/1';
export const PEER_PATH = '/raft/stream';
export const HEADER_CLUSTER = 'keel-cluster-id';
export const HEADER_FROM = 'keel-from';
export const HEADER_TO = 'keel-to';
/** Where the dialling node listens for peers, so the peer can answer before it knows the membership. */
export const HEADER_FROM_ADDR = 'keel-from-addr';

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;
/** Rough bytes of a message's fixed fields, to keep frames under the bound without packing twice. */
const MESSAGE_OVERHEAD_BYTES = 96;

/** What a link reports for monitoring (and for tests of its backpressure). */
export interface PeerLinkStats {
  readonly connected: boolean;
  readonly queuedMessages: number;
  readonly queuedSnapshots: number;
  /** Snapshot bytes pulled from snapshot sources so far. */
  readonly snapshotBytesRead: number;
  /** Snapshot bytes the socket has handed to the kernel so far. */
  readonly snapshotBytesFlushed: number;
}

/**
 * The one outbound connection from this node to one peer, shared by every raft group. Messages
 * queued in one event-loop turn leave in one frame; while the socket is backed up they wait in
 * a bounded queue, and snapshots are written chunk by chunk only as the socket drains. Raft
 * tolerates loss, so when the peer is unreachable messages are dropped and the group is told
 * (the leader then probes instead of streaming appends into the void).
 *
 * The connection is an HTTP Upgrade on the peer's address, so one port can serve both the
 * HTTP API and the peers. Inbound connections are handled by PeerTransport; this link only writes.
 */
export class PeerLink {
  private socket: Socket | undefined;
  private connecting = false;
  private backoffMs = MIN_BACKOFF_MS;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private queue: { group: number; message: Message }[] = [];
  private readonly snapshots: SnapshotSender;
  private flushScheduled = false;
  private lastAddress: PeerAddress | undefined;

  constructor(private readonly opts: PeerLinkOptions) {
    this.snapshots = new SnapshotSender({
      peerId: opts.peerId,
      chunkBytes: opts.limits.snapshotChunkBytes,
      highWaterBytes: opts.limits.highWaterBytes,
      socket: () => this.socket,
      wake: () => this.flush(),
      onSent: (group, ok) => opts.events.onSnapshotSent(group, ok),
      onLog: (level, message) => opts.events.onLog(level, message),
    });
  }

  stats(): PeerLinkStats {
    return {
      connected: this.connected,
      queuedMessages: this.queue.length,
      queuedSnapshots: this.snapshots.pending,
      snapshotBytesRead: this.snapshots.bytesRead,
      snapshotBytesFlushed: this.snapshots.bytesFlushed,
    };
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  send(group: number, out: OutgoingMessage): void {
    if (this.closed) return;
    if (this.socket === undefined && !this.connecting) {
      if (Date.now() < this.retryAt) {
        this.opts.events.onUnreachable(group);
        if (out.snapshot !== undefined) this.opts.events.onSnapshotSent(group, false);
        return;
      }
      this.connect();
    }
    if (out.snapshot !== undefined) {
      this.snapshots.enqueue(group, out.message, out.snapshot);
    } else {
      if (this.queue.length >= this.opts.limits.maxQueuedMessages) {
        this.opts.events.onUnreachable(group);
        return;
      }
      this.queue.push({ group, message: out.message });
    }
    this.scheduleFlush();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.failQueued();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.socket === undefined) return;
    this.flushScheduled = true;
    // A microtask: every group whose Ready loop was kicked by the same event (one timer tick,
    // one incoming frame) runs before it and adds its messages to the same frame, yet the frame
    // leaves in this turn. setImmediate also batched but cost each hop a turn of the event loop
    // (about 0.1 ms at one request in flight, twice per write: the append and its ack).
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    const { maxFrameBytes, highWaterBytes } = this.opts.limits;
    while (this.queue.length > 0 && socket.writableLength < highWaterBytes) {
      let bytes = 0;
      let n = 0;
      for (const { message } of this.queue) {
        const size = MESSAGE_OVERHEAD_BYTES + message.entries.reduce((s, e) => s + e.data.byteLength + 16, 0);
        if (n > 0 && bytes + size > maxFrameBytes / 2) break;
        bytes += size;
        n++;
      }
      const batch = this.queue.splice(0, n);
      const payload = packr.pack(batch.map((b) => encodeMessage(b.group, b.message)));
      if (payload.byteLength + 1 > maxFrameBytes) {
        // A single message larger than a frame: the core's maxBytesPerMessage is set too high.
        this.opts.events.onLog('warn', `dropping a ${payload.byteLength}-byte batch to node ${this.opts.peerId}: above the frame limit`);
        for (const b of batch) this.opts.events.onUnreachable(b.group);
        continue;
      }
      socket.write(encodeFrame(FrameKind.Messages, payload));
    }
    // Messages first: heartbeats and appends interleave with a long snapshot stream.
    this.snapshots.pump(socket);
  }

  private connect(): void {
    const addr = this.opts.resolve();
    if (addr === undefined) {
      this.onConnectFailed(`no address known for node ${this.opts.peerId}`);
      return;
    }
    this.connecting = true;
    this.lastAddress = addr;
    const req = http.request({
      host: addr.host,
      port: addr.port,
      path: PEER_PATH,
      method: 'GET',
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: PEER_PROTOCOL,
        [HEADER_CLUSTER]: this.opts.clusterId,
        [HEADER_FROM]: String(this.opts.localId),
        [HEADER_TO]: String(this.opts.peerId),
        [HEADER_FROM_ADDR]: this.opts.selfAddress() ?? '',
      },
    });
    req.setTimeout(5_000, () => req.destroy(new Error('handshake timed out')));
    req.on('upgrade', (_res, socket) => {
      this.connecting = false;
      if (this.closed) {
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      socket.setTimeout(0);
      this.socket = socket;
      this.backoffMs = MIN_BACKOFF_MS;
      this.opts.events.onLog('info', `connected to node ${this.opts.peerId} at ${addr.host}:${addr.port}`);
      // The peer writes back only snapshot acknowledgements; anything else breaks the stream.
      const acks = new FrameDecoder(ACK_FRAME_LIMIT_BYTES);
      socket.on('data', (chunk: Buffer) => {
        try {
          for (const f of acks.push(chunk)) this.onReturnFrame(f.kind, f.payload);
        } catch (err) {
          this.opts.events.onLog('warn', `closing the stream to node ${this.opts.peerId}: ${err instanceof Error ? err.message : String(err)}`);
          socket.destroy();
        }
      });
      socket.on('drain', () => this.flush());
      socket.on('error', () => undefined); // 'close' follows
      socket.on('close', () => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.opts.events.onLog('warn', `connection to node ${this.opts.peerId} closed`);
        this.failSnapshots();
        this.onConnectFailed(undefined);
      });
      this.scheduleFlush();
    });
    req.on('response', (res) => {
      // Not upgraded: the peer refused the handshake; its body says why.
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.slice(0, 1000)));
      res.on('end', () => {
        this.connecting = false;
        this.onConnectFailed(`node ${this.opts.peerId} refused the connection (HTTP ${res.statusCode ?? '?'}): ${body}`, true);
      });
    });
    req.on('error', (err) => {
      if (!this.connecting) return;
      this.connecting = false;
      this.onConnectFailed(`cannot reach node ${this.opts.peerId} at ${addr.host}:${addr.port}: ${err.message}`);
    });
    req.end();
  }

  private onConnectFailed(reason: string | undefined, refused = false): void {
    if (reason !== undefined && (refused || this.backoffMs === MIN_BACKOFF_MS)) this.opts.events.onLog('warn', reason);
    this.failQueued();
    if (this.closed) return;
    // A refusal will not change soon: back off to the maximum at once.
    this.backoffMs = refused ? MAX_BACKOFF_MS : Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    const delay = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
    this.retryAt = Date.now() + delay;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = 0;
    }, delay);
    this.retryTimer.unref();
  }

  private failQueued(): void {
    const groups = new Set(this.queue.map((q) => q.group));
    this.queue = [];
    for (const g of groups) this.opts.events.onUnreachable(g);
    this.failSnapshots();
  }

  private onReturnFrame(kind: number, payload: Buffer): void {
    const ack: unknown = kind === FrameKind.SnapshotAck ? packr.unpack(payload) : undefined;
    if (!Array.isArray(ack) || ack.length !== 3 || typeof ack[0] !== 'number' || typeof ack[1] !== 'number' || typeof ack[2] !== 'boolean') {
      throw new TransportError('BAD_FRAME', `unexpected frame of kind ${kind} from the receiving side`);
    }
    this.snapshots.acknowledged(ack[0], ack[1], ack[2]);
  }

  private failSnapshots(): void {
    this.snapshots.failAll();
  }

  /** The address this link last dialled; the transport reconnects when membership moves the peer. */
  get address(): PeerAddress | undefined {
    return this.lastAddress;
  }
}
