/**
 * A replicated matching engine: a limit order book (order-book.ts) as the state machine of an
 * embedded Keel node, behind a small HTTP API. Three instances hold the same book; kill the
 * leader mid-stream and the others go on, ending with the same book and trades (README.md).
 *
 *   node --import tsx examples/matching-engine/app.ts --id 1 --port 8181 --peers 1=127.0.0.1:8181,2=127.0.0.1:8182,3=127.0.0.1:8183
 */
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { NodeError } from 'keel';
import type { AppliedCommand, ReadConsistency, StateMachine } from 'keel';
import { parsePeers, startEmbeddedNode } from '../shared/embedded-node.js';
import { OrderBook, parseOrder } from './order-book.js';
import type { OrderCommand, OrderResult } from './order-book.js';

class OrderBookMachine implements StateMachine<OrderResult> {
  book = new OrderBook();
  apply(commands: readonly AppliedCommand[]): OrderResult[] {
    return commands.map((c) => this.book.apply(JSON.parse(new TextDecoder().decode(c.data)) as OrderCommand, c.index));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.book.toJSON()));
  }
  restore(bytes: Uint8Array): void {
    this.book = OrderBook.fromJSON(JSON.parse(new TextDecoder().decode(bytes)));
  }
}

const { values } = parseArgs({ options: { id: { type: 'string' }, port: { type: 'string' }, peers: { type: 'string' }, 'data-dir': { type: 'string' } } });
const id = Number(values.id);
const port = Number(values.port);
const peers = parsePeers(values.peers ?? '');
if (!Number.isInteger(id) || id <= 0 || !Number.isInteger(port) || !peers.has(id)) {
  process.stderr.write('usage: app.ts --id N --port P --peers 1=HOST:PORT,... [--data-dir DIR]\n');
  process.exit(2);
}
const machine = new OrderBookMachine();
const server = http.createServer();
const embedded = await startEmbeddedNode({ id, peers, dataDir: values['data-dir'] ?? `./keel-data/matching-${id}`, stateMachine: machine, server, clusterId: 'matching-engine' });
const raft = embedded.node;

const send = (res: http.ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const fail = (res: http.ServerResponse) => (err: unknown): void => {
  if (err instanceof NodeError) send(res, err.code === 'TIMEOUT' ? 504 : 503, { error: err.code, message: err.message });
  else send(res, 500, { error: 'internal' });
};
const submit = (res: http.ServerResponse, cmd: OrderCommand): void => {
  raft.propose(new TextEncoder().encode(JSON.stringify(cmd))).then((r) => send(res, r.ok ? 200 : 409, r), fail(res));
};

server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const consistency = (url.searchParams.get('consistency') ?? 'linearizable') as ReadConsistency;
  if (req.method === 'POST' && url.pathname === '/orders') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      let raw: unknown;
      try {
        raw = JSON.parse(body);
      } catch {
        send(res, 400, { error: 'body is not valid JSON' });
        return;
      }
      const cmd = parseOrder(raw);
      if (typeof cmd === 'string') send(res, 400, { error: cmd });
      else submit(res, cmd);
    });
    return;
  }
  if (req.method === 'DELETE' && url.pathname.startsWith('/orders/')) {
    submit(res, { type: 'cancel', id: decodeURIComponent(url.pathname.slice('/orders/'.length)) });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/book') {
    raft.read(consistency, () => machine.book.view()).then((b) => send(res, 200, b), fail(res));
    return;
  }
  if (req.method === 'GET' && url.pathname === '/trades') {
    raft.read(consistency, () => machine.book.tradeList()).then((t) => send(res, 200, t), fail(res));
    return;
  }
  if (url.pathname === '/primary') return send(res, raft.currentRole === 'leader' ? 200 : 503, { role: raft.currentRole });
  send(res, 404, { error: 'not_found' });
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
