import { LOG_LEVELS, setLayer } from './config-layer.js';
import type { ConfigLayer } from './config-layer.js';
import { ConfigError } from './config-error.js';
import { parseHostPort } from './host-port.js';
import { parseInitialCluster } from './initial-cluster.js';
import { RANGES, parseDecimalInt } from './integers.js';
import type { IntRange } from './integers.js';
import { describeChoices } from './describe.js';
import type { ReadPolicy, ServeFlags } from './types.js';

const READ_POLICIES: Readonly<Record<string, ReadPolicy>> = { linearizable: 'linearizable', lease: 'lease', eventual: 'eventual' };
const STRATEGIES = { 'disk-first': 'diskFirst', 'mem-first': 'memFirst' } as const;

/** `--port N` is d-engine's spelling of an HTTP address on this host only. */
const PORT_FLAG_HOST = '127.0.0.1';

/** Reads `keel serve`'s flags (strings as typed) into a layer; every error names its flag. */
export function flagLayer(flags: ServeFlags): ConfigLayer {
  const layer: ConfigLayer = {};
  const int = (text: string | undefined, range: IntRange, flag: string): number | undefined =>
    text === undefined ? undefined : parseDecimalInt(text, range, flag);

  setLayer(layer, 'nodeId', int(flags.id, RANGES.nodeId, '--id'), '--id');
  if (flags.port !== undefined && flags.httpAddr !== undefined) {
    // Two spellings of one setting: picking either silently could start the API on the wrong port.
    throw new ConfigError('--port: cannot be combined with --http-addr (both set the HTTP address; give one)');
  }
  if (flags.port !== undefined) {
    setLayer(layer, 'httpAddr', { host: PORT_FLAG_HOST, port: parseDecimalInt(flags.port, RANGES.port, '--port') }, '--port');
  }
  if (flags.httpAddr !== undefined) setLayer(layer, 'httpAddr', parseHostPort(flags.httpAddr, '--http-addr'), '--http-addr');
  if (flags.raftAddr !== undefined) setLayer(layer, 'raftAddr', parseHostPort(flags.raftAddr, '--raft-addr'), '--raft-addr');
  setLayer(layer, 'healthPort', int(flags.healthPort, RANGES.healthPort, '--health-port'), '--health-port');
  setLayer(layer, 'dataDir', nonEmpty(flags.dataDir, '--data-dir'), '--data-dir');
  if (flags.initialCluster !== undefined) setLayer(layer, 'initialCluster', parseInitialCluster(flags.initialCluster, '--initial-cluster'), '--initial-cluster');
  if (flags.join !== undefined) setLayer(layer, 'join', parseHostPort(flags.join, '--join'), '--join');
  setLayer(layer, 'initialGroup', int(flags.initialGroup, RANGES.groupId, '--initial-group'), '--initial-group');
  setLayer(layer, 'clusterId', nonEmpty(flags.clusterId, '--cluster-id', 255), '--cluster-id');
  setLayer(layer, 'readPolicy', choice(flags.readConsistency, READ_POLICIES, '--read-consistency'), '--read-consistency');
  setLayer(layer, 'persistenceStrategy', choice(flags.persistence, STRATEGIES, '--persistence'), '--persistence');
  setLayer(layer, 'tickMs', int(flags.tickMs, RANGES.tickMs, '--tick-ms'), '--tick-ms');
  setLayer(layer, 'logLevel', choice(flags.logLevel, LOG_LEVELS, '--log-level'), '--log-level');
  return layer;
}

function nonEmpty(text: string | undefined, flag: string, maxLength = 4096): string | undefined {
  if (text === '') throw new ConfigError(`${flag}: expected a non-empty value`);
  if (text !== undefined && text.length > maxLength) throw new ConfigError(`${flag}: longer than ${maxLength} characters`);
  return text;
}

function choice<T>(text: string | undefined, choices: Readonly<Record<string, T>>, flag: string): T | undefined {
  if (text === undefined) return undefined;
  if (Object.hasOwn(choices, text)) return choices[text];
  throw new ConfigError(`${flag}: expected ${describeChoices(Object.keys(choices))}, got ${JSON.stringify(text)}`);
}
