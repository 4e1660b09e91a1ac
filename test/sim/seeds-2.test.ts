import { it } from 'vitest';
import { expectSeedsPass } from './seeds.js';

it('simulation seeds 151..300 keep every safety property and stay linearizable', async () => {
  await expectSeedsPass(151, 300);
}, 600_000);
