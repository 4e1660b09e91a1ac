import { Command, CommanderError } from 'commander';
import { isCodedError } from '../util/coded-error.js';
import { repairWal } from '../storage/wal.js';
import * as path from 'node:path';
import { KeelClientError } from '../client/errors.js';
import { clientFrom, consistencyFrom, groupFrom, positiveInt, statusTable, UsageError } from './data-commands.js';
import type { ClientFlags } from './data-commands.js';
import { runLocalCluster } from './local-cluster.js';
import { serve } from './serve.js';

/**
 * The `keel` command: `serve` runs a node, `cluster` a local N-node cluster, the data and admin
 * commands talk to a running cluster through the typed client (like etcdctl), and `repair`
 * truncates a damaged WAL explicitly.
 */
export function buildProgram(): Command {
  const program = new Command('keel').description('Keel: a Raft replicated key-value server').exitOverride().showHelpAfterError();

  program
    .command('serve')
    .description('run a Keel node (no flags: a one-node cluster on 127.0.0.1:21001 with data in ./keel-data/node1)')
    .option('--id <n>', 'node id')
    .option('--http-addr <host:port>', 'client/admin HTTP API; also the raft address unless --raft-addr')
    .option('--api <host:port>', 'alias of --http-addr')
    .option('--port <n>', 'same as --http-addr 127.0.0.1:<n>')
    .option('--raft-addr <host:port>', 'separate peer transport address')
    .option('--health-port <n>', 'extra listener with /primary, /replica, /healthz, /readyz and Prometheus /metrics')
    .option('--data-dir <dir>', 'where the WAL, snapshots and metadata live')
    .option('--state-dir <dir>', 'alias of --data-dir')
    .option('--config <file>', 'TOML config (d-engine style)')
    .option('--config-path <file>', 'alias of --config')
    .option('--initial-cluster <list>', 'bootstrap a cluster: "1=HOST:PORT,2=HOST:PORT,3=HOST:PORT"')
    .option('--join <host:port>', "join a running cluster through any member's HTTP address")
    .option('--initial-group <n>', 'the raft group to bootstrap or join first (default 1)')
    .option('--cluster-id <id>', 'cluster name; peers of another cluster are refused (default "keel")')
    .option('--read-consistency <policy>', 'default read policy: linearizable, lease or eventual')
    .option('--persistence <strategy>', 'disk-first (default) or mem-first')
    .option('--tick-ms <n>', 'raft tick in milliseconds (default 100)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .action(async (o: Record<string, string | undefined>) => {
      const pick = (...names: string[]): string | undefined => names.map((n) => o[n]).find((v) => v !== undefined);
      const flags: Record<string, string> = {};
      const set = (key: string, v: string | undefined): void => {
        if (v !== undefined) flags[key] = v;
      };
      set('id', o.id);
      set('httpAddr', pick('httpAddr', 'api'));
      set('port', o.port);
      set('raftAddr', o.raftAddr);
      set('healthPort', o.healthPort);
      set('dataDir', pick('dataDir', 'stateDir'));
      set('config', pick('config', 'configPath'));
      set('initialCluster', o.initialCluster);
      set('join', o.join);
      set('initialGroup', o.initialGroup);
      set('clusterId', o.clusterId);
      set('readConsistency', o.readConsistency);
      set('persistence', o.persistence);
      set('tickMs', o.tickMs);
      set('logLevel', o.logLevel);
      await serve(flags);
    });

  program
    .command('cluster')
    .description('run a local cluster of `keel serve` processes (what `npm start` runs)')
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--base-port <n>', 'node i listens on base-port + i - 1', '21001')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--data-dir <dir>', 'node i keeps its data in DIR/node<i>', 'keel-data')
    .allowExcessArguments(false)
    .action(async (o: { nodes: string; basePort: string; host: string; dataDir: string }) => {
      const nodes = positiveInt(o.nodes, '--nodes');
      const basePort = positiveInt(o.basePort, '--base-port');
      if (basePort + nodes - 1 > 65535) throw new UsageError('--base-port + --nodes runs past port 65535');
      process.exitCode = await runLocalCluster({ nodes, basePort, host: o.host, dataDir: o.dataDir, extraArgs: [] });
    });

  const withClient = (c: Command): Command =>
    c
      .option('--endpoints <list>', 'comma-separated node API addresses', '127.0.0.1:21001')
      .option('--group <n>', 'raft group', '1')
      .option('--timeout <ms>', 'deadline per call, retries included', '10000');

  const run = async (flags: ClientFlags, fn: (client: ReturnType<typeof clientFrom>) => Promise<void>): Promise<void> => {
    const client = clientFrom(flags);
    try {
      await fn(client);
    } finally {
      await client.close();
    }
  };

  withClient(program.command('put <key> <value>').description('write a key')).action((key: string, value: string, f: ClientFlags) =>
    run(f, async (c) => print(await c.put(key, value, { group: groupFrom(f) }))),
  );
  withClient(program.command('get <key>').description('read a key').option('--consistency <level>', 'linearizable, lease or eventual')).action(
    (key: string, f: ClientFlags & { consistency?: string }) =>
      run(f, async (c) => {
        const consistency = consistencyFrom(f.consistency);
        const e = await c.get(key, { group: groupFrom(f), ...(consistency === undefined ? {} : { consistency }) });
        if (e === undefined) throw new KeelClientError('KEY_NOT_FOUND', `key "${key}" not found`, 404);
        print(e);
      }),
  );
  withClient(program.command('del <key>').description('delete a key')).action((key: string, f: ClientFlags) =>
    run(f, async (c) => print(await c.delete(key, { group: groupFrom(f) }))),
  );
  withClient(program.command('scan [prefix]').description('list keys in order').option('--limit <n>', 'most keys to list', '100').option('--start-after <key>', 'resume after this key')).action(
    (prefix: string | undefined, f: ClientFlags & { limit: string; startAfter?: string }) =>
      run(f, async (c) => {
        const limit = positiveInt(f.limit, '--limit');
        print(await c.scan({ prefix: prefix ?? '', limit, ...(f.startAfter === undefined ? {} : { startAfter: f.startAfter }) }, { group: groupFrom(f) }));
      }),
  );
  withClient(program.command('members').description("list a group's members")).action((f: ClientFlags) => run(f, async (c) => print(await c.members({ group: groupFrom(f) }))));
  withClient(program.command('status').description('a table of nodes, roles, terms, commit and applied indexes')).action((f: ClientFlags) =>
    run(f, async (c) => {
      process.stdout.write((await statusTable(c, f.endpoints.split(',').map((e) => e.trim()))) + '\n');
    }),
  );
  withClient(program.command('add-member <id> <addr>').description('add a node (as a learner, or --voter)').option('--voter', 'promote once caught up')).action(
    (id: string, addr: string, f: ClientFlags & { voter?: boolean }) =>
      run(f, async (c) => print(f.voter === true ? await c.addVoter(positiveInt(id, 'id'), addr, { group: groupFrom(f) }) : await c.addLearner(positiveInt(id, 'id'), addr, { group: groupFrom(f) }))),
  );
  withClient(program.command('remove-member <id>').description('remove a node from the group')).action((id: string, f: ClientFlags) =>
    run(f, async (c) => print(await c.removeMember(positiveInt(id, 'id'), { group: groupFrom(f) }))),
  );

  program
    .command('repair')
    .description('truncate a WAL at its first damaged record (explicit; the server refuses to start on damage)')
    .requiredOption('--data-dir <dir>', "the node's data directory")
    .action(async (o: { dataDir: string }) => {
      const r = await repairWal(path.join(o.dataDir, 'wal'));
      if (r === undefined) process.stdout.write('the WAL is intact; nothing to repair\n');
      else process.stdout.write(`truncated ${r.file} at offset ${r.offset}, dropping ${r.bytesDropped} bytes\n`);
    });
  return program;
}

function print(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`keel: ${err.message}\n`);
      return 2;
    }
    if (err instanceof KeelClientError) {
      process.stderr.write(`keel: ${err.code}: ${err.message}\n`);
      return 1;
    }
    if (isCodedError(err)) {
      process.stderr.write(`keel: ${err.code}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`keel: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

// Run when executed directly (bin/keel imports this module and calls main itself).
if (process.argv[1] !== undefined && /[\\/]cli[\\/]main\.(ts|js)$/.test(process.argv[1])) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
