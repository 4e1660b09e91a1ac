import * as http from 'node:http';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { message } from '../../src/raft/message.js';
import type { Message } from '../../src/raft/message.js';
import { PeerTransport } from '../../src/transport/peer-transport.js';
import type { PeerTransportHandlers } from '../../src/transport/peer-transport.js';
import { FrameDecoder, FrameKind, encodeFrame } from '../../src/transport/frame-codec.js';
import { decodeMessage, encodeMessage } from '../../src/transport/message-codec.js';

interface Peer {
  readonly id: number;
  readonly transport: PeerTransport;
  readonly server: http.Server;
  readonly port: number;
  readonly received: { group: number; message: Message; data: Uint8Array | undefined }[];
  readonly logs: string[];
  readonly unreachable: number[];
}

const peers: Peer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) {
    await p.transport.close();
    p.server.closeAllConnections();
    await new Promise<void>((r) => p.server.close(() => r()));
  }
});

async function startPeer(id: number, clusterId: string, book: Map<number, number>, opts: { accepts?: (peer: number) => boolean; chunkBytes?: number } = {}): Promise<Peer> {
  const received: Peer['received'] = [];
  const logs: string[] = [];
  const unreachable: number[] = [];
  const handlers: PeerTransportHandlers = {
    deliver: (group, m, data) => received.push({ group, message: m, data }),
    unreachable: (_group, peer) => unreachable.push(peer),
    snapshotFailed: () => undefined,
    acceptsPeer: opts.accepts ?? (() => true),
    addressOf: (peer) => {
      const port = book.get(peer);
      return port === undefined ? undefined : { host: '127.0.0.1', port };
    },
    notePeerAddress: () => undefined,
    selfAddress: () => `127.0.0.1:${book.get(id) ?? 0}`,
    log: (_level, m) => logs.push(m),
  };
  const transport = new PeerTransport({ localId: id, clusterId, handlers, limits: { snapshotChunkBytes: opts.chunkBytes ?? 1024 * 1024 } });
  const server = http.createServer((_q, s) => s.end());
  transport.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  book.set(id, port);
  const peer = { id, transport, server, port, received, logs, unreachable };
  peers.push(peer);
  return peer;
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const app = (from: number, to: number, index: number): Message =>
  message({ type: 'app', from, to, term: 3, logTerm: 2, index, commit: index, entries: [{ index: index + 1, term: 3, type: 'normal', data: new Uint8Array([index & 255, 1, 2]) }] });

describe('message codec', () => {
  it('round-trips every field', () => {
    const m = message({
      type: 'snap', from: 1, to: 2, term: 9, logTerm: 8, index: 7, commit: 6, reject: true, rejectHint: 5,
      entries: [{ index: 1, term: 1, type: 'confChange', data: new Uint8Array([1]) }],
      snapshot: { index: 4, term: 3, confState: { voters: [1, 2], votersOutgoing: [3], learners: [4], learnersNext: [], autoLeave: true } },
      context: new Uint8Array([9, 9]), leaseTick: 12, force: true, lease: false,
    });
    expect(decodeMessage(encodeMessage(42, m))).toEqual({ group: 42, message: m });
  });

  it('rejects malformed messages with a typed error', () => {
    expect(() => decodeMessage([1, 2, 3])).toThrow(/16-field/);
    const bad = encodeMessage(1, app(1, 2, 1));
    bad[4] = -1;
    expect(() => decodeMessage(bad)).toThrow(/term must be a non-negative integer/);
    expect(() => encodeMessage(1, message({ type: 'hup' }))).toThrow(/never crosses/);
  });

  it('frames survive arbitrary splits and refuse oversized frames', () => {
    const frames = [encodeFrame(FrameKind.Messages, new Uint8Array([1, 2, 3])), encodeFrame(FrameKind.SnapshotChunk, new Uint8Array(1000).fill(7))];
    const all = Buffer.concat(frames);
    const d = new FrameDecoder(4096);
    const out: { kind: number; payload: Buffer }[] = [];
    for (let i = 0; i < all.length; i += 7) out.push(...d.push(all.subarray(i, i + 7)));
    expect(out.map((f) => [f.kind, f.payload.length])).toEqual([[1, 3], [2, 1000]]);
    expect(() => new FrameDecoder(10).push(encodeFrame(FrameKind.Messages, new Uint8Array(100)))).toThrow(/exceeds the limit/);
  });
});

describe('peer transport', () => {
  it('delivers messages of many groups in order over one connection per peer', async () => {
    const book = new Map<number, number>();
    const a = await startPeer(1, 'c', book);
    const b = await startPeer(2, 'c', book);
    for (let i = 0; i < 500; i++) a.transport.send(i % 3, [{ message: app(1, 2, i) }]);
    await until(() => b.received.length === 500, '500 messages');
    for (const g of [0, 1, 2]) {
      const idx = b.received.filter((r) => r.group === g).map((r) => r.message.index);
      expect(idx).toEqual([...idx].sort((x, y) => x - y));
    }
    const seventh = b.received.find((r) => r.group === 1 && r.message.index === 7)?.message;
    expect({ ...seventh, entries: seventh?.entries.map((e) => ({ ...e, data: [...e.data] })) }).toEqual({ ...app(1, 2, 7), entries: app(1, 2, 7).entries.map((e) => ({ ...e, data: [...e.data] })) });
    expect(a.transport.connectedPeers()).toEqual([2]);
  });

  it('streams a snapshot in chunks and delivers it whole', async () => {
    const book = new Map<number, number>();
    const a = await startPeer(1, 'c', book, { chunkBytes: 4096 });
    const b = await startPeer(2, 'c', book);
    const data = new Uint8Array(100_000).map((_, i) => (i * 31) & 255);
    const snap = message({ type: 'snap', from: 1, to: 2, term: 2, snapshot: { index: 50, term: 2, confState: { voters: [1, 2], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } } });
    a.transport.send(5, [{ message: app(1, 2, 1) }, { message: snap, snapshotData: data }]);
    await until(() => b.received.some((r) => r.message.type === 'snap'), 'the snapshot');
    const got = b.received.find((r) => r.message.type === 'snap');
    expect(got?.group).toBe(5);
    expect(Buffer.from(got?.data ?? new Uint8Array()).equals(Buffer.from(data))).toBe(true);
  });

  it('refuses a node of another cluster, and an unknown node, and logs why on both sides', async () => {
    const book = new Map<number, number>();
    const a = await startPeer(1, 'blue', book);
    const b = await startPeer(2, 'green', book);
    b.transport.send(1, [{ message: app(2, 1, 1) }]);
    await until(() => a.logs.some((l) => l.includes('refused')) && b.logs.some((l) => l.includes('refused')), 'refusal logs');
    expect(a.logs.join('\n')).toMatch(/cluster id "green" does not match this node's "blue"/);
    expect(b.logs.join('\n')).toMatch(/node 1 refused the connection \(HTTP 403\)/);
    expect(a.received).toEqual([]);

    const c = await startPeer(3, 'blue', book, { accepts: (p) => p !== 9 });
    const intruder = await startPeer(9, 'blue', book);
    intruder.transport.send(1, [{ message: app(9, 3, 1) }]);
    await until(() => c.logs.some((l) => l.includes('not a member')), 'unknown-node refusal');
    expect(c.received).toEqual([]);
  });

  it('reports unreachable peers and recovers when they come up', async () => {
    const book = new Map<number, number>([[2, 1]]); // nothing listens on port 1
    const a = await startPeer(1, 'c', book);
    a.transport.send(1, [{ message: app(1, 2, 1) }]);
    await until(() => a.unreachable.includes(2), 'unreachable report');
    const b = await startPeer(2, 'c', book);
    await until(() => {
      a.transport.send(1, [{ message: app(1, 2, 2) }]);
      return b.received.length > 0;
    }, 'delivery after the peer started', 10_000);
  });

  it('closes a stream that sends garbage, without crashing', async () => {
    const book = new Map<number, number>();
    const a = await startPeer(1, 'c', book);
    const sock = net.connect(a.port, '127.0.0.1');
    const closed = new Promise<void>((r) => sock.on('close', () => r()).on('error', () => r()));
    sock.resume(); // a paused socket never sees the server's close
    sock.write('GET /raft/stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: keel-raft/1\r\nkeel-cluster-id: c\r\nkeel-from: 2\r\nkeel-to: 1\r\n\r\n');
    sock.write(encodeFrame(FrameKind.Messages, new Uint8Array([0xc1, 0xc1])));
    await closed;
    expect(a.logs.join('\n')).toMatch(/closing the stream from node 2/);
    expect(a.received).toEqual([]);
  });
});
