/**
 * npm run sim -- --seeds N [--start S] [--plant NAME] [--verbose]
 * npm run sim -- --seed S [--plant NAME]
 * npm run sim -- --list-plants
 *
 * Runs simulation seeds and stops at the first failure with a `FAIL seed=S` line and the trace
 * that led to it; `--seed S` replays that run exactly.
 */
import { parseArgs } from 'node:util';
import { PLANTS, isPlantName } from './plants.js';
import type { PlantName } from './plants.js';
import { formatFailure } from './report.js';
import { runSimulation } from './simulation.js';

function usage(message: string): never {
  process.stderr.write(`sim: ${message}\nusage: npm run sim -- (--seeds N [--start S] | --seed S | --list-plants) [--plant NAME] [--verbose] [--trace-lines N]\n`);
  process.exit(2);
}

function parseCount(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) usage(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        seeds: { type: 'string' },
        seed: { type: 'string' },
        start: { type: 'string' },
        plant: { type: 'string' },
        'list-plants': { type: 'boolean' },
        verbose: { type: 'boolean' },
        'trace-lines': { type: 'string' },
      },
      strict: true,
    });
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v['list-plants'] === true) {
    process.stdout.write(Object.keys(PLANTS).join('\n') + '\n');
    return;
  }
  let plant: PlantName | undefined;
  if (v.plant !== undefined) {
    if (!isPlantName(v.plant)) usage(`unknown plant "${v.plant}"; --list-plants shows them`);
    plant = v.plant;
  }
  const one = parseCount('seed', v.seed);
  const count = parseCount('seeds', v.seeds);
  if ((one === undefined) === (count === undefined)) usage('give exactly one of --seeds N or --seed S');
  const start = parseCount('start', v.start) ?? 1;
  const traceLines = parseCount('trace-lines', v['trace-lines']) ?? 120;
  const seeds = one !== undefined ? [one] : Array.from({ length: count ?? 0 }, (_, i) => start + i);

  const began = Date.now();
  let passed = 0;
  for (const seed of seeds) {
    const r = await runSimulation({ seed, traceLines, ...(plant === undefined ? {} : { plant }) });
    if (!r.ok) {
      process.stdout.write(formatFailure(r, plant) + '\n');
      process.stdout.write(`${passed} passed, 1 failed\n`);
      process.exitCode = 1;
      return;
    }
    passed++;
    if (v.verbose === true || one !== undefined) {
      const s = r.stats;
      process.stdout.write(`ok seed=${seed} ops=${s.ops} ok=${s.opsOk} crashes=${s.crashes} conf=${s.confChanges} terms=${s.leaderTerms} commit=${s.maxCommit} events=${s.events}\n`);
    }
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  process.stdout.write(`${passed} passed, 0 failed (${seconds}s)\n`);
}

await main();
