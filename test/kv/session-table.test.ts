import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../../src/kv/kv-state-machine.js';
import { apply1, session } from './helpers.js';

const EXPIRED = { type: 'error', code: 'SESSION_EXPIRED' };

describe('session table', () => {
  it('a retry returns the stored result without applying again', () => {
    const sm = new KvStateMachine();
    const first = apply1(sm, { op: 'put', key: 'k', value: 'mine', session: session('a', 1) });
    apply1(sm, { op: 'put', key: 'k', value: 'theirs', session: session('b', 1) });
    const retry = apply1(sm, { op: 'put', key: 'k', value: 'mine', session: session('a', 1) });
    expect(retry).toEqual(first);
    expect(sm.get('k')).toEqual({ value: 'theirs', version: 2, createVersion: 1 });
    expect(sm.appliedIndex).toBe(3);
  });

  it('keeps many outstanding requests per client, in any order', () => {
    const sm = new KvStateMachine();
    const r3 = apply1(sm, { op: 'cas', key: 'k', value: 'v', expectedValue: null, session: session('a', 3) });
    const r1 = apply1(sm, { op: 'delete', key: 'k', session: session('a', 1) });
    const r2 = apply1(sm, { op: 'cas', key: 'k', value: 'w', expectedValue: null, session: session('a', 2) });
    expect(apply1(sm, { op: 'delete', key: 'k', session: session('a', 1) })).toEqual(r1);
    expect(apply1(sm, { op: 'cas', key: 'k', value: 'v', expectedValue: null, session: session('a', 3) })).toEqual(r3);
    expect(apply1(sm, { op: 'cas', key: 'k', value: 'w', expectedValue: null, session: session('a', 2) })).toEqual(r2);
    expect(sm.get('k')?.value).toBe('w');
  });

  it('ackedBelow forgets results; a retry below it is SESSION_EXPIRED and not applied', () => {
    const sm = new KvStateMachine();
    apply1(sm, { op: 'put', key: 'k', value: '1', session: session('a', 1) });
    const r2 = apply1(sm, { op: 'put', key: 'k', value: '2', session: session('a', 2) });
    apply1(sm, { op: 'put', key: 'x', value: '3', session: session('a', 3, 2) });
    expect(apply1(sm, { op: 'put', key: 'k', value: '1', session: session('a', 1) })).toMatchObject(EXPIRED);
    expect(sm.get('k')?.value).toBe('2');
    // seq 2 is at the ack boundary, so it is still answered.
    expect(apply1(sm, { op: 'put', key: 'k', value: '2', session: session('a', 2) })).toEqual(r2);
    // Other clients are unaffected.
    expect(apply1(sm, { op: 'put', key: 'k', value: 'b', session: session('b', 1) })).toMatchObject({ type: 'put' });
  });

  it('a retry that raises ackedBelow still gets its own stored result', () => {
    const sm = new KvStateMachine();
    const r1 = apply1(sm, { op: 'put', key: 'k', value: '1', session: session('a', 5) });
    expect(apply1(sm, { op: 'put', key: 'k', value: '1', session: session('a', 5, 5) })).toEqual(r1);
  });

  it('evicts the least recently used client, by log index', () => {
    const sm = new KvStateMachine({ maxClients: 2 });
    const a1 = apply1(sm, { op: 'put', key: 'k', value: 'a', session: session('a', 1) });
    apply1(sm, { op: 'put', key: 'k', value: 'b', session: session('b', 1) });
    // Touching a makes b the least recently used.
    expect(apply1(sm, { op: 'put', key: 'k', value: 'a', session: session('a', 1) })).toEqual(a1);
    apply1(sm, { op: 'put', key: 'k', value: 'c', session: session('c', 1) });
    expect(apply1(sm, { op: 'put', key: 'k', value: 'a', session: session('a', 1) })).toEqual(a1);
    // b was forgotten whole, so its retry is applied again (the documented limitation).
    expect(apply1(sm, { op: 'put', key: 'k', value: 'b', session: session('b', 1) })).toMatchObject({ type: 'put', version: 6 });
  });

  it('bounds results per client, expiring the lowest seqs', () => {
    const sm = new KvStateMachine({ maxResultsPerClient: 3 });
    const results = [1, 2, 3, 4, 5].map((seq) => apply1(sm, { op: 'put', key: `k${seq}`, value: 'v', session: session('a', seq) }));
    expect(apply1(sm, { op: 'put', key: 'k1', value: 'again', session: session('a', 1) })).toMatchObject(EXPIRED);
    expect(apply1(sm, { op: 'put', key: 'k2', value: 'again', session: session('a', 2) })).toMatchObject(EXPIRED);
    expect(sm.get('k1')?.value).toBe('v');
    for (const seq of [3, 4, 5]) expect(apply1(sm, { op: 'put', key: `k${seq}`, value: 'again', session: session('a', seq) })).toEqual(results[seq - 1]);
    // A new seq above the evicted ones is still fresh.
    expect(apply1(sm, { op: 'put', key: 'k6', value: 'v', session: session('a', 6) })).toMatchObject({ type: 'put' });
  });

  it('a request without a session is always applied', () => {
    const sm = new KvStateMachine();
    apply1(sm, { op: 'put', key: 'k', value: '1' });
    expect(apply1(sm, { op: 'put', key: 'k', value: '1' })).toMatchObject({ type: 'put', version: 2 });
  });
});
