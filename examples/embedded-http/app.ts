/**
 * d-engine's three-node example rebuilt as an application that embeds Keel: no `keel serve`,
 * no extra process. Each instance is a small HTTP service (node:http) with its own state
 * machine (a key-value map), one Keel RaftNode over the WAL and file snapshots, and Keel's
 * peer transport riding on the same HTTP port. Run three (see README.md):
 *
 *   node --import tsx examples/embedded-http/app.ts --id 1 --port 8081 --peers 1=127.0.0.1:8081,2=127.0.0.1:8082,3=127.0.0.1:8083
 */
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { NodeError } from 'keel';
import type { AppliedCommand, ReadConsistency, StateMachine } from 'keel';
import { parsePeers, startEmbeddedNode } from '../shared/embedded-node.js';

/** The application's own replicated state: a map, changed only by applied commands. */
class KvMap implements StateMachine<string | null> {
  private data = new Map<string, string>();
  apply(commands: readonly AppliedCommand[]): (string | null)[] {
    return commands.map((c) => {
      const { key, value } = JSON.parse(new TextDecoder().decode(c.data)) as { key: string; value: string };
      const previous = this.data.get(key) ?? null;
      this.data.set(key, value);
      return previous;
    });
  }
  get(key: string): string | undefined {
    return this.data.get(key);
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.data]));
  }
  restore(bytes: Uint8Array): void {
    this.data = new Map(JSON.parse(new TextDecoder().decode(bytes)) as [string, string][]);
  }
}

const { values } = parseArgs({ options: { id: { type: 'string' }, port: { type: 'string' }, peers: { type: 'string' }, 'data-dir': { type: 'string' } } });
const id = Number(values.id);
const port = Number(values.port);
const peers = parsePeers(values.peers ?? '');
if (!Number.isInteger(id) || id <= 0 || !Number.isInteger(port) || !peers.has(id)) {
  process.stderr.write('usage: app.ts --id N --port P --peers 1=HOST:PORT,2=HOST:PORT,... [--data-dir DIR] (the peers include this node)\n');
  process.exit(2);
}
const kv = new KvMap();
const server = http.createServer();
// ---- Keel, embedded: the node, its storage, and the peer transport on this HTTP server
const embedded = await startEmbeddedNode({ id, peers, dataDir: values['data-dir'] ?? `./keel-data/embedded-${id}`, stateMachine: kv, server, clusterId: 'embedded-example' });
const raft = embedded.node;

// ---- the application's HTTP API
server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const url = new URL(req.url ?? '/', 'http://x');
  const fail = (err: unknown): void => {
    if (err instanceof NodeError) send(err.code === 'TIMEOUT' ? 504 : 503, { error: err.code, message: err.message });
    else send(500, { error: 'internal' });
  };
  if (req.method === 'POST' && url.pathname === '/kv') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      let cmd: { key?: unknown; value?: unknown };
      try {
        cmd = JSON.parse(body) as { key?: unknown; value?: unknown };
      } catch {
        send(400, { error: 'bad_json' });
        return;
      }
      if (typeof cmd.key !== 'string' || typeof cmd.value !== 'string') {
        send(400, { error: 'key and value must be strings' });
        return;
      }
      // Proposed here, applied on every node; a follower forwards it to the leader.
      raft.propose(new TextEncoder().encode(JSON.stringify({ key: cmd.key, value: cmd.value }))).then(() => send(200, {}), fail);
    });
    return;
  }
  if (req.method === 'GET' && url.pathname.startsWith('/kv/')) {
    const key = decodeURIComponent(url.pathname.slice(4));
    const consistency = (url.searchParams.get('consistency') ?? 'linearizable') as ReadConsistency;
    raft.read(consistency, () => kv.get(key)).then((value) => send(200, { value: value ?? null }), fail);
    return;
  }
  if (url.pathname === '/primary') return send(raft.currentRole === 'leader' ? 200 : 503, { role: raft.currentRole });
  if (url.pathname === '/replica') return send(raft.currentRole === 'follower' ? 200 : 503, { role: raft.currentRole });
  send(404, { error: 'not_found' });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`ready node=${id} api=http://127.0.0.1:${port}\n`));

const stop = (): void => {
  void embedded.stop().then(() => {
    server.close();
    server.closeAllConnections();
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
