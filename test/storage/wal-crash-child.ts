/**
 * Child process for the WAL crash test: appends entries to many groups concurrently and
 * prints `ack GROUP INDEX` once each append is durable, until it is killed with SIGKILL.
 * argv: DIR GROUPS
 */
import { Wal } from '../../src/storage/wal.js';
import { crashEntry } from './wal-crash-data.js';

const [dir, groupsArg] = process.argv.slice(2);
if (dir === undefined || groupsArg === undefined) throw new Error('usage: wal-crash-child DIR GROUPS');
const groups = Number(groupsArg);
// Every other write is made on the main thread (as a server node that leads no group makes
// them), so a kill lands in both kinds.
let writes = 0;
const wal = await Wal.open(dir, { segmentBytes: 64 * 1024, maxSegments: 3, writeSynchronously: () => ++writes % 2 === 0 });
process.stdout.write('ready\n');

async function writer(group: number): Promise<void> {
  const s = wal.storage(group);
  let next = s.lastIndex() + 1;
  for (;;) {
    const index = next++;
    // Every few entries the hard state moves too, in the same record.
    const hardState = index % 5 === 0 ? { term: 1, vote: group, commit: index - 1 } : undefined;
    await s.save({ entries: [crashEntry(group, index)], ...(hardState === undefined ? {} : { hardState }) });
    process.stdout.write(`ack ${group} ${index}\n`);
    if (group === 1 && index % 100 === 0) process.stdout.write(`stats ${JSON.stringify(wal.stats)}\n`);
    // Compact now and then so segments rotate and old ones are deleted under load.
    if (index % 97 === 0) {
      await s.compact({ index: index - 10, term: 1, confState: { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } }, index - 20);
    }
  }
}

await Promise.all(Array.from({ length: groups }, (_, g) => writer(g + 1)));
