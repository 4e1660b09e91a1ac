import { describe, expect, it } from 'vitest';
import { OrderBook, parseOrder } from '../../examples/matching-engine/order-book.js';

describe('the matching engine order book', () => {
  it('matches at the resting price with price-time priority, and rests the remainder', () => {
    const b = new OrderBook();
    b.apply({ type: 'limit', id: 's1', side: 'sell', price: 101, quantity: 5 }, 1);
    b.apply({ type: 'limit', id: 's2', side: 'sell', price: 100, quantity: 5 }, 2);
    b.apply({ type: 'limit', id: 's3', side: 'sell', price: 100, quantity: 5 }, 3);
    const r = b.apply({ type: 'limit', id: 'b1', side: 'buy', price: 101, quantity: 12 }, 4);
    expect(r).toMatchObject({ ok: true, filled: 12, resting: 0 });
    // Best price first (100), oldest first at a price (s2 before s3), then 101.
    expect(b.tradeList().map((t) => [t.sellId, t.price, t.quantity])).toEqual([['s2', 100, 5], ['s3', 100, 5], ['s1', 101, 2]]);
    expect(b.view().asks.map((o) => [o.id, o.remaining])).toEqual([['s1', 3]]);
    const rest = b.apply({ type: 'limit', id: 'b2', side: 'buy', price: 99, quantity: 4 }, 5);
    expect(rest).toMatchObject({ ok: true, filled: 0, resting: 4 });
    expect(b.view().bids.map((o) => o.id)).toEqual(['b2']);
  });

  it('fills market orders against the book and drops what is left; cancels; refuses reused ids', () => {
    const b = new OrderBook();
    b.apply({ type: 'limit', id: 'b1', side: 'buy', price: 50, quantity: 3 }, 1);
    b.apply({ type: 'limit', id: 'b2', side: 'buy', price: 49, quantity: 3 }, 2);
    expect(b.apply({ type: 'market', id: 'm1', side: 'sell', quantity: 10 }, 3)).toMatchObject({ ok: true, filled: 6, resting: 0 });
    expect(b.view().bids).toEqual([]);
    b.apply({ type: 'limit', id: 'a1', side: 'sell', price: 60, quantity: 2 }, 4);
    expect(b.apply({ type: 'cancel', id: 'a1' }, 5)).toMatchObject({ ok: true, cancelled: 2 });
    expect(b.apply({ type: 'cancel', id: 'a1' }, 6)).toMatchObject({ ok: false });
    expect(b.apply({ type: 'limit', id: 'b1', side: 'buy', price: 1, quantity: 1 }, 7)).toMatchObject({ ok: false, error: 'order id b1 was used before' });
  });

  it('survives a snapshot round trip exactly', () => {
    const b = new OrderBook();
    b.apply({ type: 'limit', id: 'x', side: 'sell', price: 10, quantity: 4 }, 1);
    b.apply({ type: 'limit', id: 'y', side: 'buy', price: 10, quantity: 1 }, 2);
    const c = OrderBook.fromJSON(JSON.parse(JSON.stringify(b.toJSON())));
    expect(c.view()).toEqual(b.view());
    expect(c.tradeList()).toEqual(b.tradeList());
    expect(c.apply({ type: 'limit', id: 'y', side: 'buy', price: 10, quantity: 1 }, 3)).toMatchObject({ ok: false });
  });

  it('names what is wrong with a bad order', () => {
    expect(parseOrder({ type: 'limit', id: 'a', side: 'buy', price: 1.5, quantity: 1 })).toBe('price must be a positive integer (ticks)');
    expect(parseOrder({ type: 'limit', id: 'a', side: 'up', price: 1, quantity: 1 })).toBe('side must be "buy" or "sell"');
    expect(parseOrder({ type: 'limit', id: '', side: 'buy', price: 1, quantity: 1 })).toBe('id must be a string of 1 to 64 characters');
    expect(parseOrder({ type: 'stop', id: 'a', side: 'buy', quantity: 1 })).toBe('type must be "limit", "market" or "cancel"');
    expect(parseOrder(null)).toBe('body must be a JSON object');
  });
});
