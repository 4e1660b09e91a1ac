import { it } from 'vitest';
import { expectSeedsPass } from './seeds.js';

// The default run covers seeds 1..300 in two files so the two CPU cores share them; the long
// soak is `npm run sim -- --seeds 20000`.
it('simulation seeds 1..150 keep every safety property and stay linearizable', async () => {
  await expectSeedsPass(1, 150);
}, 600_000);
