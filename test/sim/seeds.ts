import { expect } from 'vitest';
import { formatFailure } from '../../src/sim/report.js';
import type { PlantName } from '../../src/sim/plants.js';
import { runSimulation } from '../../src/sim/simulation.js';

/** Runs seeds first..last; on the first failure prints the report (with its FAIL seed= line) and fails. */
export async function expectSeedsPass(first: number, last: number): Promise<void> {
  for (let seed = first; seed <= last; seed++) {
    const r = await runSimulation({ seed });
    if (!r.ok) {
      const report = formatFailure(r, undefined);
      console.error(report);
      expect.fail(report.split('\n')[0]);
    }
  }
}

/** The first seed in first..last at which the plant makes the simulation fail, or undefined. */
export async function firstFailingSeed(plant: PlantName, first: number, last: number): Promise<number | undefined> {
  for (let seed = first; seed <= last; seed++) {
    const r = await runSimulation({ seed, plant });
    if (!r.ok) return seed;
  }
  return undefined;
}
