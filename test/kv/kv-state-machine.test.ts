import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../../src/kv/kv-state-machine.js';
import { apply1, applyAll } from './helpers.js';

describe('KvStateMachine put/get/delete', () => {
  it('versions are log indexes; createVersion survives overwrites', () => {
    const sm = new KvStateMachine();
    expect(apply1(sm, { op: 'put', key: 'a', value: '1' })).toEqual({ type: 'put', version: 1, previous: null });
    expect(apply1(sm, { op: 'put', key: 'a', value: '2' })).toEqual({ type: 'put', version: 2, previous: { value: '1', version: 1, createVersion: 1 } });
    expect(sm.get('a')).toEqual({ value: '2', version: 2, createVersion: 1 });
    expect(sm.size).toBe(1);
    expect(sm.appliedIndex).toBe(2);
  });

  it('uses the index it is given, not a counter', () => {
    const sm = new KvStateMachine();
    applyAll(sm, { op: 'put', key: 'a', value: '1' });
    const [r] = sm.apply([{ index: 40, term: 3, data: new Uint8Array([0x94, 0, 0xa1, 0x62, 0xa1, 0x76, 0xc0]) }]);
    expect(r).toEqual({ type: 'put', version: 40, previous: null });
    expect(sm.get('b')).toEqual({ value: 'v', version: 40, createVersion: 40 });
    expect(sm.appliedIndex).toBe(40);
  });

  it('delete reports whether the key existed', () => {
    const sm = new KvStateMachine();
    applyAll(sm, { op: 'put', key: 'a', value: '1' });
    expect(apply1(sm, { op: 'delete', key: 'a' })).toEqual({ type: 'delete', deleted: true, version: 2, previous: { value: '1', version: 1, createVersion: 1 } });
    expect(apply1(sm, { op: 'delete', key: 'a' })).toEqual({ type: 'delete', deleted: false, version: 3, previous: null });
    expect(sm.get('a')).toBeUndefined();
    expect(sm.size).toBe(0);
    apply1(sm, { op: 'put', key: 'a', value: '2' });
    expect(sm.get('a')).toEqual({ value: '2', version: 4, createVersion: 4 });
  });

  it('an undecodable command is an error result and still counts as applied', () => {
    const sm = new KvStateMachine();
    const results = sm.apply([{ index: 1, term: 1, data: new Uint8Array([0xc1]) }, { index: 2, term: 1, data: new Uint8Array() }]);
    expect(results).toEqual([
      { type: 'error', code: 'BAD_COMMAND', message: expect.any(String) as unknown },
      { type: 'error', code: 'BAD_COMMAND', message: expect.any(String) as unknown },
    ]);
    expect(sm.appliedIndex).toBe(2);
  });

  it('refuses to apply an index twice', () => {
    const sm = new KvStateMachine();
    applyAll(sm, { op: 'put', key: 'a', value: '1' });
    expect(() => sm.apply([{ index: 1, term: 1, data: new Uint8Array() }])).toThrow(/assertion/);
  });
});

describe('KvStateMachine cas', () => {
  const setup = () => {
    const sm = new KvStateMachine();
    applyAll(sm, { op: 'put', key: 'a', value: 'x' }); // version 1
    return sm;
  };

  it('on value', () => {
    const sm = setup();
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedValue: 'nope' })).toEqual({ type: 'cas', succeeded: false, version: 2, current: { value: 'x', version: 1, createVersion: 1 } });
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedValue: 'x' })).toEqual({ type: 'cas', succeeded: true, version: 3, current: { value: 'y', version: 3, createVersion: 1 } });
  });

  it('on version', () => {
    const sm = setup();
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedVersion: 2 })).toMatchObject({ succeeded: false });
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedVersion: 1 })).toMatchObject({ succeeded: true, current: { value: 'y', version: 3 } });
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'z', expectedVersion: 1 })).toMatchObject({ succeeded: false, current: { value: 'y', version: 3 } });
  });

  it('on absence, by value null or version 0', () => {
    const sm = setup();
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedValue: null })).toMatchObject({ succeeded: false });
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedVersion: 0 })).toMatchObject({ succeeded: false });
    expect(apply1(sm, { op: 'cas', key: 'b', value: 'y', expectedValue: null })).toEqual({ type: 'cas', succeeded: true, version: 4, current: { value: 'y', version: 4, createVersion: 4 } });
    expect(apply1(sm, { op: 'cas', key: 'c', value: 'y', expectedVersion: 0 })).toMatchObject({ succeeded: true });
    expect(apply1(sm, { op: 'cas', key: 'd', value: 'y', expectedValue: 'x' })).toEqual({ type: 'cas', succeeded: false, version: 6, current: null });
  });

  it('with both conditions, both must hold', () => {
    const sm = setup();
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedValue: 'x', expectedVersion: 9 })).toMatchObject({ succeeded: false });
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedValue: 'w', expectedVersion: 1 })).toMatchObject({ succeeded: false });
    expect(apply1(sm, { op: 'cas', key: 'a', value: 'y', expectedValue: 'x', expectedVersion: 1 })).toMatchObject({ succeeded: true });
  });

  it('value null deletes on success', () => {
    const sm = setup();
    expect(apply1(sm, { op: 'cas', key: 'a', value: null, expectedValue: 'x' })).toEqual({ type: 'cas', succeeded: true, version: 2, current: null });
    expect(sm.get('a')).toBeUndefined();
    expect(sm.scan({ limit: 10 }).entries).toEqual([]);
  });
});
