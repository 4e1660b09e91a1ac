import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Host } from '../host.js';

/**
 * Prometheus metrics of one node. A registry per server, not prom-client's global one, so
 * several nodes can run in one process (tests, embedded use). Raft gauges are read from the
 * host when scraped.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'status'>;
  private readonly latency: Histogram<'route'>;

  constructor(host: Host) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'keel_http_requests_total', help: 'HTTP requests served', labelNames: ['route', 'status'], registers });
    this.latency = new Histogram({
      name: 'keel_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    const perGroup = (name: string, help: string, read: (g: number) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['group'],
        registers,
        collect() {
          this.reset();
          for (const g of host.groupIds()) this.set({ group: String(g) }, read(g));
        },
      });
    };
    perGroup('keel_raft_term', 'current raft term', (g) => host.status(g).term);
    perGroup('keel_raft_commit_index', 'highest committed log index', (g) => host.status(g).commit);
    perGroup('keel_raft_applied_index', 'highest applied log index', (g) => host.status(g).applied);
    perGroup('keel_raft_last_index', 'last log index', (g) => host.status(g).lastIndex);
    perGroup('keel_raft_is_leader', '1 when this node leads the group', (g) => (host.status(g).role === 'leader' ? 1 : 0));
    perGroup('keel_raft_leader_id', 'the leader this node knows (0 = none)', (g) => host.status(g).leader);
    perGroup('keel_kv_keys', 'keys in the group', (g) => host.requireGroup(g).sm.kv.size);
    new Gauge({ name: 'keel_node_id', help: 'this node id', registers, collect() { this.set(host.nodeId); } });
    // The log's writes, as etcd's etcd_disk_wal_fsync_duration_seconds: the disk sets how fast
    // every write commits, so this is the first thing to look at when writes are slow.
    const fsyncs = new Histogram({
      name: 'keel_wal_fsync_duration_seconds',
      help: 'time of one write of the write-ahead log, fsync included (O_DSYNC), until the event loop learns it is durable',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024],
      registers,
    });
    host.onWalWrite((w) => fsyncs.observe(w.durationMs / 1000));
    const walCounter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    walCounter('keel_wal_records_total', 'records written to the write-ahead log', () => host.walStats().records);
    walCounter('keel_wal_bytes_written_total', 'bytes written to the write-ahead log', () => host.walStats().bytesWritten);
  }

  observe(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, status: String(status) });
    this.latency.observe({ route }, seconds);
  }
}
