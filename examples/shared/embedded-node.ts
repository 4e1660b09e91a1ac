/**
 * What an application needs to embed a Keel node: a RaftNode over the WAL and file snapshots,
 * ticked every 100 ms, and Keel's peer transport on the application's own HTTP server. Shared
 * by the examples; an application would write the same few lines.
 */
import type * as http from 'node:http';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FileSnapshotStore, PeerTransport, RaftNode, SeededRng, Wal, bootstrapStorage } from 'keel';
import type { StateMachine } from 'keel';

export interface EmbeddedNodeOptions<R> {
  readonly id: number;
  /** Every member, this node included: id -> where its HTTP server listens. */
  readonly peers: ReadonlyMap<number, { host: string; port: number }>;
  readonly dataDir: string;
  readonly stateMachine: StateMachine<R>;
  /** The application's HTTP server: peers connect to it through an HTTP Upgrade. */
  readonly server: http.Server;
  readonly clusterId: string;
}

export async function startEmbeddedNode<R>(opts: EmbeddedNodeOptions<R>): Promise<{ node: RaftNode<R>; stop(): Promise<void> }> {
  const wal = await Wal.open(path.join(opts.dataDir, 'wal'));
  const storage = wal.storage(1);
  await bootstrapStorage(storage, { voters: [...opts.peers.keys()] }); // a no-op after the first start
  // The transport delivers to the node, which is created with the transport: a holder breaks the cycle.
  const holder: { node?: RaftNode<R> } = {};
  const self = opts.peers.get(opts.id);
  // One store, shared: the transport stages inbound snapshots in it, the node commits them.
  const snapshots = await FileSnapshotStore.open(path.join(opts.dataDir, 'snapshots'));
  const transport = new PeerTransport({
    localId: opts.id,
    clusterId: opts.clusterId,
    handlers: {
      deliver: (_group, message, staged) => {
        if (holder.node !== undefined) holder.node.receive(message, staged);
        else void staged?.discard();
      },
      snapshotStore: (group) => Promise.resolve(group === 1 ? snapshots : undefined),
      unreachable: (_group, peer) => holder.node?.reportUnreachable(peer),
      snapshotSent: (_group, peer, ok) => holder.node?.reportSnapshot(peer, ok),
      acceptsPeer: (peer) => opts.peers.has(peer),
      addressOf: (peer) => opts.peers.get(peer),
      notePeerAddress: () => undefined,
      selfAddress: () => (self === undefined ? undefined : `${self.host}:${self.port}`),
      log: (level, message) => process.stderr.write(`node ${opts.id} ${level}: ${message}\n`),
    },
  });
  transport.attach(opts.server);
  const node = await RaftNode.start({
    raft: { id: opts.id, rng: new SeededRng(Date.now() ^ opts.id) },
    storage,
    stateMachine: opts.stateMachine,
    transport: transport.forGroup(1),
    snapshots,
    bootId: await nextBootId(opts.dataDir), // grows with every start
  });
  holder.node = node;
  const ticker = setInterval(() => node.tick(), 100);
  node.onLeaderChange((c) => process.stderr.write(`node ${opts.id}: leader is now ${c.leader} (term ${c.term}); I am ${c.role}\n`));
  // A node whose storage or state machine failed cannot go on safely: exit, and recover from
  // the log on restart, rather than linger as a member that answers nothing.
  node.onFatal((err) => {
    process.stderr.write(`node ${opts.id}: fatal: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
  return {
    node,
    async stop() {
      clearInterval(ticker);
      node.stop();
      await transport.close();
      await wal.close();
    },
  };
}

/** A boot counter kept in the data directory: RaftNode needs an id that grows with every start. */
async function nextBootId(dataDir: string): Promise<number> {
  const file = path.join(dataDir, 'boot-count');
  const next = Number(await fs.readFile(file, 'utf8').catch(() => '0')) + 1;
  const tmp = `${file}.tmp`;
  const h = await fs.open(tmp, 'w');
  await h.writeFile(String(next));
  await h.sync();
  await h.close();
  await fs.rename(tmp, file);
  return next;
}

/** "--peers 1=HOST:PORT,2=HOST:PORT" as a map. */
export function parsePeers(s: string): Map<number, { host: string; port: number }> {
  return new Map(
    s.split(',').filter(Boolean).map((p) => {
      const [id, addr] = p.split('=');
      const [host, port] = (addr ?? '').split(':');
      return [Number(id), { host: host ?? '127.0.0.1', port: Number(port) }] as const;
    }),
  );
}
