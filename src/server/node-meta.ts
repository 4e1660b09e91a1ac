import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsyncDir } from '../storage/fsync-dir.js';
import { CodedError } from '../util/coded-error.js';

/** The identity a data directory belongs to, and a counter that grows with every start. */
export interface NodeMeta {
  readonly nodeId: number;
  readonly clusterId: string;
  /** Incremented and made durable before each start: RaftNode's bootId. */
  readonly bootCount: number;
  /** Groups this node left or deleted; stray messages must not re-create them. */
  readonly removedGroups: readonly number[];
}

export class NodeMetaError extends CodedError<'DATA_DIR_MISMATCH' | 'DATA_DIR_CORRUPT'> {}

const FILE = 'node.json';

/**
 * Opens the data directory's identity: creates it on first start; afterwards the given node
 * id and cluster id must match it, because starting node 2's data as node 3 would make one
 * node vote twice. Returns the metadata with the boot counter already advanced and durable.
 */
export async function openNodeMeta(dataDir: string, nodeId: number, clusterId: string): Promise<NodeMeta> {
  await fs.mkdir(dataDir, { recursive: true });
  let meta: NodeMeta;
  let text: string | undefined;
  try {
    text = await fs.readFile(path.join(dataDir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    meta = { nodeId, clusterId, bootCount: 0, removedGroups: [] };
  } else {
    meta = parseMeta(text, dataDir);
    if (meta.nodeId !== nodeId) throw new NodeMetaError('DATA_DIR_MISMATCH', `data directory ${dataDir} belongs to node ${meta.nodeId}, not node ${nodeId}`);
    if (meta.clusterId !== clusterId) throw new NodeMetaError('DATA_DIR_MISMATCH', `data directory ${dataDir} belongs to cluster "${meta.clusterId}", not "${clusterId}"`);
  }
  const next = { ...meta, bootCount: meta.bootCount + 1 };
  await saveNodeMeta(dataDir, next);
  return next;
}

/** Reads the node id stored in a data directory, if there is one (a restart needs no --id). */
export async function storedNodeId(dataDir: string): Promise<number | undefined> {
  try {
    return parseMeta(await fs.readFile(path.join(dataDir, FILE), 'utf8'), dataDir).nodeId;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function saveNodeMeta(dataDir: string, meta: NodeMeta): Promise<void> {
  const tmp = path.join(dataDir, `${FILE}.tmp`);
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(meta, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path.join(dataDir, FILE));
  await fsyncDir(dataDir);
}

function parseMeta(text: string, dataDir: string): NodeMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new NodeMetaError('DATA_DIR_CORRUPT', `${path.join(dataDir, FILE)} is not valid JSON`);
  }
  const m = raw as Partial<NodeMeta>;
  if (typeof m.nodeId !== 'number' || typeof m.clusterId !== 'string' || typeof m.bootCount !== 'number' || !Array.isArray(m.removedGroups)) {
    throw new NodeMetaError('DATA_DIR_CORRUPT', `${path.join(dataDir, FILE)} lacks nodeId, clusterId, bootCount or removedGroups`);
  }
  return { nodeId: m.nodeId, clusterId: m.clusterId, bootCount: m.bootCount, removedGroups: m.removedGroups };
}
