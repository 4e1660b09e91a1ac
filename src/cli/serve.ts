import { loadServeConfig } from '../config/serve-config.js';
import type { ServeFlags } from '../config/serve-config.js';
import { createLogger } from '../server/logger.js';
import { storedNodeId } from '../server/node-meta.js';
import { startServer } from '../server/server.js';

/**
 * `keel serve`: starts a node and runs until SIGINT/SIGTERM (a clean stop: listeners closed,
 * the WAL flushed and closed), until the node is removed from its last group, or until a group
 * fails (exit code 1, after the error is logged: restart it to recover from its log). Prints one
 * `ready` line on stdout, with the endpoints, for scripts and tests to wait on.
 */
export async function serve(flags: ServeFlags): Promise<void> {
  let config = await loadServeConfig(flags, process.env);
  // A restart with no identity given: the data directory knows whose it is.
  const stored = config.bootstrapSingleNode ? await storedNodeId(config.dataDir) : undefined;
  if (stored !== undefined) config = { ...config, nodeId: stored, bootstrapSingleNode: false };
  const log = createLogger(config.nodeId, config.logLevel);
  const server = await startServer(config, log);
  const health = server.healthAddress === undefined ? '' : ` health=http://${server.healthAddress}`;
  process.stdout.write(`ready node=${config.nodeId} api=http://${server.apiAddress} raft=${server.raftAddress}${health} data=${config.dataDir}\n`);
  const onSignal = (signal: string): void => {
    log.info(`${signal}: stopping`);
    void server.stop();
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const failure = await server.stopped;
  if (failure !== undefined) {
    log.error(`stopped: ${failure.message}`);
    process.exitCode = 1;
    return;
  }
  log.info('stopped');
}
