/**
 * `npm run bench -- NAME [args]`: runs one benchmark and prints its table. Benchmarks report
 * rates measured in one run; they assert nothing, so a slow machine never fails a test.
 */
import { benchCore } from './core.js';
import { benchHttp } from './http.js';
import { benchWal } from './wal.js';

const benches: Record<string, (args: readonly string[]) => void | Promise<void>> = {
  core: benchCore,
  http: benchHttp,
  wal: benchWal,
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : benches[name];
if (bench === undefined) {
  process.stderr.write(`bench: unknown benchmark "${name ?? ''}"; available: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
await bench(rest);
