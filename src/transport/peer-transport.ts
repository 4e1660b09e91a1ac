import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { OutgoingMessage, SnapshotStore, StagedSnapshot, Transport } from '../node/interfaces.js';
import type { Message } from '../raft/message.js';
import { isCodedError } from '../util/coded-error.js';
import { FrameDecoder, FrameKind, encodeFrame } from './frame-codec.js';
import { decodeMessage, packr } from './message-codec.js';
import { DEFAULT_TRANSPORT_LIMITS, HEADER_CLUSTER, HEADER_FROM, HEADER_FROM_ADDR, HEADER_TO, PEER_PATH, PEER_PROTOCOL, PeerLink } from './peer-link.js';
import type { PeerAddress, PeerLinkStats, TransportLimits } from './peer-link.js';
import { TransportError } from './errors.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type { InboundConnection, StreamStart } from './snapshot-receiver.js';
import { SNAPSHOT_FRAME_OVERHEAD_BYTES } from './snapshot-sender.js';

/** Chunks of one connection waiting for the disk before it stops reading from the socket. */
const MAX_PENDING_SNAPSHOT_CHUNKS = 4;

export interface PeerTransportHandlers {
  /**
   * A message for one of this node's groups. A `snap` message comes once its snapshot is
   * staged (durable, not current) in the group's store; the receiver installs or discards it.
   */
  deliver(group: number, message: Message, staged?: StagedSnapshot): void;
  /**
   * The store an inbound snapshot for `group` is written into as it arrives (one store per
   * group, the one its node uses), or undefined to refuse it.
   */
  snapshotStore(group: number): Promise<SnapshotStore | undefined>;
  /** Sending to `peer` in `group` failed; the group's node should be told. */
  unreachable(group: number, peer: number): void;
  /** A snapshot to `peer` in `group` reached its raft (`ok`), or was lost on the way. */
  snapshotSent(group: number, peer: number, ok: boolean): void;
  /** Whether `peer` may connect: a member this node knows (any group), or anyone while it knows none. */
  acceptsPeer(peer: number): boolean;
  /** Where `peer` listens for raft traffic, from the replicated membership. */
  addressOf(peer: number): PeerAddress | undefined;
  /** The address an accepted peer says it listens on (used until the membership names it). */
  notePeerAddress(peer: number, raftAddress: string): void;
  /** Where this node listens for peers, told to every peer it dials. */
  selfAddress(): string | undefined;
  log(level: 'info' | 'warn', message: string): void;
}

export interface PeerTransportOptions {
  readonly localId: number;
  readonly clusterId: string;
  readonly handlers: PeerTransportHandlers;
  readonly limits?: Partial<TransportLimits>;
}

/**
 * The node's peer transport: one outbound PeerLink per peer shared by all raft groups, and the
 * acceptor for inbound peer streams, which arrive as HTTP Upgrades on the API port (or on a
 * separate --raft-addr listener). The handshake checks the cluster id and the node ids before a
 * single raft message is read: a node of another cluster, or one this node does not know, is
 * refused with a reason and logged on both sides.
 */
export class PeerTransport {
  private readonly links = new Map<number, PeerLink>();
  private readonly inbound = new Set<Duplex>();
  private readonly limits: TransportLimits;
  private closed = false;
  private separateServer: http.Server | undefined;
  private readonly snapshots: SnapshotReceiver;

  constructor(private readonly opts: PeerTransportOptions) {
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...opts.limits };
    const { snapshotChunkBytes, maxFrameBytes } = this.limits;
    if (snapshotChunkBytes < 1 || snapshotChunkBytes + SNAPSHOT_FRAME_OVERHEAD_BYTES > maxFrameBytes) {
      throw new TransportError('INVALID_LIMITS', `a snapshot chunk of ${snapshotChunkBytes} bytes does not fit in a frame of ${maxFrameBytes} bytes`);
    }
    this.snapshots = new SnapshotReceiver({
      storeFor: (group) => opts.handlers.snapshotStore(group),
      deliver: (group, message, staged) => opts.handlers.deliver(group, message, staged),
      log: (level, message) => opts.handlers.log(level, message),
      maxSnapshotBytes: this.limits.maxSnapshotBytes,
      maxPendingChunks: MAX_PENDING_SNAPSHOT_CHUNKS,
    });
  }

  /** The outbound link to `peer`, as numbers; undefined if there is none. */
  peerStats(peer: number): PeerLinkStats | undefined {
    return this.links.get(peer)?.stats();
  }

  /** The Transport one raft group's node sends through. */
  forGroup(group: number): Transport {
    return { send: (messages) => this.send(group, messages), reportsSnapshotDelivery: true };
  }

  send(group: number, messages: readonly OutgoingMessage[]): void {
    for (const out of messages) this.link(out.message.to).send(group, out);
  }

  /** Attaches the peer endpoint to an HTTP server (the API server, or a dedicated one). */
  attach(server: http.Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.acceptUpgrade(req, socket, head));
  }

  /** Starts a dedicated peer listener (--raft-addr); resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const server = http.createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'this port only carries raft peer streams' } }));
    });
    this.attach(server);
    this.separateServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
  }

  /** Drops the link to a peer that left, or whose address changed. */
  forget(peer: number): void {
    this.links.get(peer)?.close();
    this.links.delete(peer);
  }

  /** Re-dials peers whose address moved since they were dialled. */
  refreshAddresses(): void {
    for (const [peer, link] of this.links) {
      const now = this.opts.handlers.addressOf(peer);
      const was = link.address;
      if (now !== undefined && was !== undefined && (now.host !== was.host || now.port !== was.port)) this.forget(peer);
    }
  }

  connectedPeers(): number[] {
    return [...this.links].filter(([, l]) => l.connected).map(([id]) => id);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.snapshots.close();
    for (const l of this.links.values()) l.close();
    this.links.clear();
    for (const s of this.inbound) s.destroy();
    this.inbound.clear();
    const server = this.separateServer;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private link(peer: number): PeerLink {
    let link = this.links.get(peer);
    if (link === undefined) {
      link = new PeerLink({
        localId: this.opts.localId,
        peerId: peer,
        clusterId: this.opts.clusterId,
        limits: this.limits,
        resolve: () => this.opts.handlers.addressOf(peer),
        selfAddress: () => this.opts.handlers.selfAddress(),
        events: {
          onUnreachable: (group) => this.opts.handlers.unreachable(group, peer),
          onSnapshotSent: (group, ok) => this.opts.handlers.snapshotSent(group, peer, ok),
          onLog: (level, message) => this.opts.handlers.log(level, message),
        },
      });
      this.links.set(peer, link);
    }
    return link;
  }

  private acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.url !== PEER_PATH || req.headers.upgrade?.toLowerCase() !== PEER_PROTOCOL) {
      refuse(socket, 400, 'BAD_UPGRADE', `only ${PEER_PROTOCOL} upgrades on ${PEER_PATH} are served`);
      return;
    }
    const cluster = header(req, HEADER_CLUSTER);
    const from = Number(header(req, HEADER_FROM));
    const to = Number(header(req, HEADER_TO));
    let problem: string | undefined;
    if (this.closed) problem = 'node is shutting down';
    else if (cluster !== this.opts.clusterId) problem = `cluster id "${cluster ?? ''}" does not match this node's "${this.opts.clusterId}"`;
    else if (!Number.isSafeInteger(from) || from <= 0) problem = 'missing or invalid sender id';
    else if (to !== this.opts.localId) problem = `this is node ${this.opts.localId}, not node ${String(header(req, HEADER_TO))}`;
    else if (from === this.opts.localId) problem = `node id ${from} is this node's own id`;
    else if (!this.opts.handlers.acceptsPeer(from)) problem = `node ${from} is not a member of any group on this node`;
    if (problem !== undefined) {
      this.opts.handlers.log('warn', `refused a peer connection from ${req.socket.remoteAddress ?? '?'}: ${problem}`);
      refuse(socket, 403, 'PEER_REFUSED', problem);
      return;
    }
    const fromAddr = header(req, HEADER_FROM_ADDR);
    if (fromAddr !== undefined && /^[\w.[\]:-]{1,300}:\d{1,5}$/.test(fromAddr)) this.opts.handlers.notePeerAddress(from, fromAddr);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${PEER_PROTOCOL}\r\n\r\n`);
    this.inbound.add(socket);
    const decoder = new FrameDecoder(this.limits.maxFrameBytes);
    const conn: InboundConnection = {
      from,
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      acknowledge: (streamId, group, ok) => {
        if (socket.writable) socket.write(encodeFrame(FrameKind.SnapshotAck, packr.pack([streamId, group, ok])));
      },
    };
    const onData = (chunk: Buffer): void => {
      try {
        for (const frame of decoder.push(chunk)) this.onFrame(conn, frame.kind, frame.payload);
      } catch (err) {
        const message = isCodedError(err) ? err.message : String(err);
        this.opts.handlers.log('warn', `closing the stream from node ${from}: ${message}`);
        socket.destroy();
      }
    };
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.inbound.delete(socket);
      this.snapshots.onConnectionClosed(conn);
    });
    socket.on('data', onData);
    if (head.byteLength > 0) onData(head);
  }

  private onFrame(conn: InboundConnection, kind: number, payload: Buffer): void {
    const from = conn.from;
    if (kind === FrameKind.Messages) {
      const items: unknown = packr.unpack(payload);
      if (!Array.isArray(items)) throw new TransportError('BAD_FRAME', 'a message frame must hold an array');
      for (const raw of items) {
        const { group, message } = decodeMessage(raw);
        this.checkAddressing(from, message);
        this.opts.handlers.deliver(group, message);
      }
    } else if (kind === FrameKind.SnapshotChunk) {
      this.onSnapshotChunk(conn, packr.unpack(payload));
    } else {
      throw new TransportError('BAD_FRAME', `unknown frame kind ${kind}`);
    }
  }

  /** [streamId, group, offset, total, final, chunk, head]: `head` (the `snap` message) rides on the first chunk only. */
  private onSnapshotChunk(conn: InboundConnection, raw: unknown): void {
    if (!Array.isArray(raw) || raw.length !== 7) throw new TransportError('BAD_FRAME', 'a snapshot chunk must be a 7-field array');
    const [streamId, group, offset, total, final, chunk, head] = raw as unknown[];
    if (typeof streamId !== 'number' || typeof group !== 'number' || typeof offset !== 'number' || typeof total !== 'number' || typeof final !== 'boolean' || !(chunk instanceof Uint8Array)) {
      throw new TransportError('BAD_FRAME', 'malformed snapshot chunk');
    }
    let start: StreamStart | undefined;
    if (head !== null) {
      const decoded = decodeMessage(head);
      this.checkAddressing(conn.from, decoded.message);
      if (decoded.message.type !== 'snap' || decoded.message.snapshot === undefined) throw new TransportError('BAD_FRAME', 'a snapshot stream must start with a snap message');
      if (decoded.group !== group) throw new TransportError('BAD_FRAME', 'a snapshot stream names two groups');
      start = { streamId, group, message: decoded.message, totalBytes: total };
    } else if (offset === 0) {
      throw new TransportError('BAD_FRAME', 'the first snapshot chunk carries no message');
    }
    this.snapshots.onChunk(conn, start, streamId, group, offset, chunk, final);
  }

  private checkAddressing(from: number, m: Message): void {
    if (m.from !== from || m.to !== this.opts.localId) throw new TransportError('BAD_FRAME', `message ${m.from}→${m.to} on the stream ${from}→${this.opts.localId}`);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
