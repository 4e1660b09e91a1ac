import type { FastifyInstance } from 'fastify';
import type { ServeConfig } from '../config/serve-config.js';
import { Host } from './host.js';
import type { InitialMember } from './host.js';
import { buildApiApp, buildHealthApp } from './http/app.js';
import type { Logger } from './logger.js';
import type { MemberAddress } from './member-directory.js';

export interface RunningServer {
  readonly host: Host;
  /** host:port of the API (and of the peers, unless raftAddress differs). */
  readonly apiAddress: string;
  readonly raftAddress: string;
  readonly healthAddress: string | undefined;
  /**
   * Resolves when the server stopped: by stop(), because the node was removed from its last
   * group, or with the error that made a group fail (the process should exit non-zero).
   */
  readonly stopped: Promise<Error | undefined>;
  stop(): Promise<void>;
}

/**
 * Starts one Keel node: the API listener (which also carries peer streams unless --raft-addr
 * names a separate one), the optional health listener, and the multi-raft host. A node with
 * no group bootstraps one from --initial-cluster, bootstraps a one-node cluster when started
 * with no identity at all, joins through --join, or waits for /init.
 */
export async function startServer(config: ServeConfig, log: Logger): Promise<RunningServer> {
  const host = new Host({
    nodeId: config.nodeId,
    clusterId: config.clusterId,
    dataDir: config.dataDir,
    raft: config.raft,
    persistence: config.persistence,
    entryCacheBytes: config.entryCacheBytes,
    log,
  });
  const appOpts = { host, limits: config.limits, defaultGroup: config.initialGroup, defaultConsistency: config.readConsistency.defaultPolicy, log };
  const { app, metrics } = buildApiApp(appOpts);
  let health: FastifyInstance | undefined;
  let resolveStopped: (failure: Error | undefined) => void = () => undefined;
  const stopped = new Promise<Error | undefined>((r) => (resolveStopped = r));
  let failure: Error | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Peer streams first: they are upgraded connections of the API server, whose close would
      // otherwise wait for them, while the peers wait for ours (two nodes stopping together).
      await host.transport.close();
      await app.close().catch(() => undefined);
      await health?.close().catch(() => undefined);
      await host.stop().catch((err: unknown) => log.error(`stopping the host: ${err instanceof Error ? err.message : String(err)}`));
      resolveStopped(failure);
    })();
    return stopping;
  };
  // A failed group still looks alive to its peers (a leader that failed keeps its role, and
  // requests to it would hang): stop the whole node, so the group elects another leader and
  // a supervisor restarts this one on its log. Registered first: a group may fail as it opens.
  host.onGroupFailed((group, err) => {
    failure ??= new Error(`group ${group} failed: ${err.message}`);
    void stop();
  });

  try {
    let raftAddress: string | undefined;
    if (config.raftAddr === undefined) host.transport.attach(app.server);
    else raftAddress = `${config.raftAddr.host}:${await host.transport.listen(config.raftAddr.host, config.raftAddr.port)}`;
    await app.listen({ host: config.httpAddr.host, port: config.httpAddr.port });
    const apiAddress = `${config.httpAddr.host}:${boundPort(app)}`;
    const self: MemberAddress = { raft: raftAddress ?? apiAddress, api: apiAddress };
    await host.open(self);

    if (!host.initialized) {
      if (config.initialCluster !== undefined) {
        // Every member must write the very same first entry, so each is listed exactly as the
        // initial cluster gives it (its own entry too). A member whose API listens elsewhere
        // records its real addresses once a leader is known (Host.publishOwnAddress).
        const members: InitialMember[] = config.initialCluster.map((m) => {
          const addr = `${m.address.host}:${m.address.port}`;
          return { id: m.id, role: m.role, address: { raft: addr, api: addr } };
        });
        await host.bootstrapGroup(config.initialGroup, members);
      } else if (config.bootstrapSingleNode) {
        await host.bootstrapGroup(config.initialGroup, [{ id: config.nodeId, address: self, role: 'voter' }]);
      } else if (config.join !== undefined) {
        void join(host, `${config.join.host}:${config.join.port}`, config.initialGroup, self, log);
      } else {
        log.info(`node ${config.nodeId} is not initialized: POST /init (or /v1/init) to start a cluster, or add it to one`);
      }
    }

    let healthAddress: string | undefined;
    if (config.healthPort !== undefined) {
      health = buildHealthApp(appOpts, metrics);
      await health.listen({ host: config.httpAddr.host, port: config.healthPort });
      healthAddress = `${config.httpAddr.host}:${boundPort(health)}`;
    }

    host.onGroupRemoved(() => {
      if (host.groupIds().length === 0) {
        log.warn('this node was removed from its last group; shutting down');
        // A moment first, so the reply to the request that removed it can still leave.
        setTimeout(() => void stop(), 1_000);
      }
    });
    return { host, apiAddress, raftAddress: self.raft, healthAddress, stopped, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Asks a member to add this node as a voter, retrying until the cluster answers. */
async function join(host: Host, via: string, group: number, self: MemberAddress, log: Logger): Promise<void> {
  const body = JSON.stringify({ id: host.nodeId, addr: self.raft, apiAddr: self.api, role: 'voter', timeoutMs: 60_000 });
  for (let attempt = 0; host.isOpen; attempt++) {
    try {
      const res = await fetch(`http://${via}/v1/groups/${group}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(90_000) });
      if (res.ok) {
        log.info(`joined group ${group} through ${via}`);
        return;
      }
      const text = await res.text();
      if (res.status >= 400 && res.status < 500) {
        log.error(`joining group ${group} through ${via} was refused: ${text}`);
        return;
      }
      log.warn(`joining through ${via} failed (HTTP ${res.status}): ${text}; retrying`);
    } catch (err) {
      log.warn(`joining through ${via} failed: ${err instanceof Error ? err.message : String(err)}; retrying`);
    }
    await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5_000)));
  }
}

function boundPort(app: FastifyInstance): number {
  const a = app.server.address();
  if (a === null || typeof a === 'string') throw new Error('server is not listening on TCP');
  return a.port;
}
