import { describe, expect, it } from 'vitest';
import { PLANTS } from '../../src/sim/plants.js';
import type { PlantName } from '../../src/sim/plants.js';
import { runSimulation } from '../../src/sim/simulation.js';
import { firstFailingSeed } from './seeds.js';

describe('the simulator has teeth', () => {
  it('lists at least five planted bugs', () => {
    expect(Object.keys(PLANTS).length).toBeGreaterThanOrEqual(5);
  });

  for (const plant of Object.keys(PLANTS) as PlantName[]) {
    it(`catches the planted bug "${plant}" within 300 seeds`, async () => {
      expect(await firstFailingSeed(plant, 1, 300)).toBeDefined();
    }, 600_000);
  }

  it('replays a seed exactly', async () => {
    const a = await runSimulation({ seed: 4242 });
    const b = await runSimulation({ seed: 4242 });
    expect(a.ok).toBe(true);
    expect(b.stats).toEqual(a.stats);
    expect(b.trace).toEqual(a.trace);
  });
});
