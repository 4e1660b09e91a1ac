import { describe, expect, it } from 'vitest';
import { ProposalDedup, decodeNodeSnapshot, encodeNodeSnapshot } from '../../src/node/proposal-dedup.js';

const id = (seq: number, bootId = 1, nodeId = 1) => ({ nodeId, bootId, seq });

describe('ProposalDedup', () => {
  it('applies a proposal once and skips its copies', () => {
    const d = new ProposalDedup();
    expect(d.admit(id(5), 5)).toBe(true);
    expect(d.admit(id(5), 5)).toBe(false);
    expect(d.admit(id(6), 5)).toBe(true);
  });

  it('skips proposals below the watermark: their proposer stopped waiting for them', () => {
    const d = new ProposalDedup();
    expect(d.admit(id(10), 10)).toBe(true);
    expect(d.admit(id(9), 10)).toBe(false);
    // A late copy of 10 after the watermark moved past it is skipped too.
    expect(d.admit(id(12), 11)).toBe(true);
    expect(d.admit(id(10), 11)).toBe(false);
  });

  it('skips proposals from an older boot of the proposer, and resets on a newer one', () => {
    const d = new ProposalDedup();
    expect(d.admit(id(1, 2), 1)).toBe(true);
    expect(d.admit(id(7, 1), 7)).toBe(false);
    expect(d.admit(id(1, 3), 1)).toBe(true);
  });

  it('keeps proposers apart', () => {
    const d = new ProposalDedup();
    expect(d.admit(id(1, 1, 1), 1)).toBe(true);
    expect(d.admit(id(1, 1, 2), 1)).toBe(true);
  });

  it('survives a snapshot round trip with the state machine bytes beside it', () => {
    const d = new ProposalDedup();
    d.admit(id(3), 3);
    d.admit(id(4), 3);
    const sm = new Uint8Array([7, 8, 9]);
    const back = decodeNodeSnapshot(encodeNodeSnapshot(d, sm));
    expect([...back.stateMachine]).toEqual([7, 8, 9]);
    expect(back.dedup.admit(id(4), 3)).toBe(false);
    expect(back.dedup.admit(id(5), 3)).toBe(true);
  });
});
