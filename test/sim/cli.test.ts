import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PLANTS } from '../../src/sim/plants.js';

function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run sim', () => {
  it('--list-plants prints the plant names, one per line and nothing else', () => {
    const r = sim('--list-plants');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(Object.keys(PLANTS));
  });

  it('exits non-zero with a FAIL seed= line when a plant is caught', () => {
    const r = sim('--seeds', '300', '--plant', 'vote-twice');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL seed=\d+ plant=vote-twice: /m);
    expect(r.stdout).toMatch(/replay: npm run sim -- --seed \d+ --plant vote-twice/);
  });

  it('passes a few seeds and says so', () => {
    const r = sim('--seeds', '3');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^3 passed, 0 failed/m);
  });

  it('refuses bad arguments with a message and exit code 2', () => {
    expect(sim('--seeds', 'many').status).toBe(2);
    expect(sim('--seeds', '3', '--plant', 'nope').stderr).toMatch(/unknown plant "nope"/);
    expect(sim().status).toBe(2);
  });
});
