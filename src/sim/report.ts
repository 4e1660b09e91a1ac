import type { PlantName } from './plants.js';
import type { SimulationResult } from './simulation.js';

/** The failure report: a `FAIL seed=S` line, the replay command, and the trace before it. */
export function formatFailure(r: SimulationResult, plant: PlantName | undefined): string {
  const head = `FAIL seed=${r.seed}${plant === undefined ? '' : ` plant=${plant}`}: ${r.failure ?? 'unknown failure'}`;
  const replay = `replay: npm run sim -- --seed ${r.seed}${plant === undefined ? '' : ` --plant ${plant}`}`;
  return [head, replay, 'trace (oldest first):', ...r.trace.map((l) => `  ${l}`), head].join('\n');
}
