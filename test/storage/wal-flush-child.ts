/**
 * Child process for the WAL flush-scheduling test: memFirst appends in bursts, timed so the
 * batch timer often fires while a flush is running, and the event loop must keep turning.
 * Prints `turns N` and exits 0; a flush loop that spins on microtasks never gets there (the
 * parent's timeout kills it). argv: DIR
 */
import { Wal } from '../../src/storage/wal.js';

const [dir] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: wal-flush-child DIR');
const wal = await Wal.open(dir, { persistence: { strategy: 'memFirst', flushThreshold: 4, flushIntervalMs: 1 } });
const s = wal.storage(1);
let turns = 0;
const counter = setInterval(() => turns++, 1);
const payload = new Uint8Array(100);
let index = 0;
const deadline = Date.now() + 1500;
while (Date.now() < deadline) {
  // A burst that reaches the threshold (a flush starts), then one more write whose timer may
  // fire during that flush.
  for (let i = 0; i < 4; i++) await s.save({ entries: [{ index: ++index, term: 1, type: 'normal', data: payload }] });
  await s.save({ entries: [{ index: ++index, term: 1, type: 'normal', data: payload }] });
  await new Promise((r) => setTimeout(r, index % 3));
}
await wal.barrier();
clearInterval(counter);
process.stdout.write(`turns ${turns} entries ${index}\n`);
await wal.close();
