import { ConfigError } from './config-error.js';
import { formatHostPort, tryParseHostPort } from './host-port.js';
import { RANGES, describeRange } from './integers.js';
import type { InitialMember } from './types.js';

/** A bound on the list, like on everything else: raft groups of more than a few dozen voters do not work well anyway. */
export const MAX_INITIAL_MEMBERS = 1000;

/**
 * Parses `--initial-cluster "1=127.0.0.1:21001,2=127.0.0.1:21002"`: every item `ID=HOST:PORT`,
 * every member a voter (learners are added later through the admin API), ids distinct.
 */
export function parseInitialCluster(s: string, what = '--initial-cluster'): InitialMember[] {
  const items = s.split(',').map((item) => item.trim());
  const members = items.map((item): InitialMember => {
    const eq = item.indexOf('=');
    if (eq < 0) throw new ConfigError(`${what}: ${JSON.stringify(item)} is not ID=HOST:PORT`);
    const idText = item.slice(0, eq);
    const id = /^[0-9]{1,10}$/.test(idText) ? Number(idText) : Number.NaN;
    if (!(Number.isSafeInteger(id) && id >= RANGES.nodeId.min && id <= RANGES.nodeId.max)) {
      throw new ConfigError(`${what}: ${JSON.stringify(item)} has a bad id (expected ${describeRange(RANGES.nodeId)})`);
    }
    const address = tryParseHostPort(item.slice(eq + 1));
    if (typeof address === 'string') throw new ConfigError(`${what}: ${JSON.stringify(item)} ${address}`);
    return { id, address, role: 'voter' };
  });
  checkMembers(members, what);
  return members;
}

/**
 * The checks every initial member list must pass, wherever it came from: a repeated id or
 * address would make two "members" one node (or one member two nodes), and a group without
 * voters can never elect a leader.
 */
export function checkMembers(members: readonly InitialMember[], what: string): void {
  if (members.length === 0) throw new ConfigError(`${what}: the list is empty`);
  if (members.length > MAX_INITIAL_MEMBERS) throw new ConfigError(`${what}: more than ${MAX_INITIAL_MEMBERS} members`);
  const ids = new Set<number>();
  const addresses = new Set<string>();
  for (const m of members) {
    if (ids.has(m.id)) throw new ConfigError(`${what}: node ${m.id} is listed twice`);
    ids.add(m.id);
    const addr = formatHostPort(m.address);
    if (addresses.has(addr)) throw new ConfigError(`${what}: address ${addr} is listed twice (node ${m.id})`);
    addresses.add(addr);
  }
  if (!members.some((m) => m.role === 'voter')) throw new ConfigError(`${what}: no member is a voter, so no leader could be elected`);
}
