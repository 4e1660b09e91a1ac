/**
 * A limit order book with price-time priority: the state machine of the replicated matching
 * engine. Deterministic by construction (no clocks, no randomness): every node that applies
 * the same commands in the same order holds the same book and the same trade list.
 */
export type Side = 'buy' | 'sell';

export type OrderCommand =
  | { readonly type: 'limit'; readonly id: string; readonly side: Side; readonly price: number; readonly quantity: number }
  | { readonly type: 'market'; readonly id: string; readonly side: Side; readonly quantity: number }
  | { readonly type: 'cancel'; readonly id: string };

export interface RestingOrder {
  readonly id: string;
  readonly side: Side;
  readonly price: number;
  remaining: number;
  /** The log index that placed it: time priority. */
  readonly seq: number;
}

export interface Trade {
  readonly seq: number;
  readonly buyId: string;
  readonly sellId: string;
  readonly price: number;
  readonly quantity: number;
}

export type OrderResult =
  | { readonly ok: true; readonly filled: number; readonly resting: number; readonly trades: readonly Trade[]; readonly cancelled?: number }
  | { readonly ok: false; readonly error: string };

export class OrderBook {
  /** Bids best first (highest price, then oldest); asks best first (lowest price, then oldest). */
  private bids: RestingOrder[] = [];
  private asks: RestingOrder[] = [];
  private trades: Trade[] = [];
  private readonly known = new Set<string>();
  private tradeSeq = 0;

  apply(cmd: OrderCommand, index: number): OrderResult {
    if (cmd.type === 'cancel') {
      for (const book of [this.bids, this.asks]) {
        const i = book.findIndex((o) => o.id === cmd.id);
        if (i >= 0) {
          const [o] = book.splice(i, 1);
          return { ok: true, filled: 0, resting: 0, trades: [], cancelled: o?.remaining ?? 0 };
        }
      }
      return { ok: false, error: `no resting order ${cmd.id}` };
    }
    if (this.known.has(cmd.id)) return { ok: false, error: `order id ${cmd.id} was used before` };
    this.known.add(cmd.id);
    let remaining = cmd.quantity;
    const opposite = cmd.side === 'buy' ? this.asks : this.bids;
    const trades: Trade[] = [];
    while (remaining > 0 && opposite.length > 0) {
      const best = opposite[0];
      if (best === undefined) break;
      if (cmd.type === 'limit' && (cmd.side === 'buy' ? best.price > cmd.price : best.price < cmd.price)) break;
      const quantity = Math.min(remaining, best.remaining);
      const trade: Trade = {
        seq: ++this.tradeSeq,
        buyId: cmd.side === 'buy' ? cmd.id : best.id,
        sellId: cmd.side === 'sell' ? cmd.id : best.id,
        price: best.price, // the resting order sets the price
        quantity,
      };
      trades.push(trade);
      this.trades.push(trade);
      remaining -= quantity;
      best.remaining -= quantity;
      if (best.remaining === 0) opposite.shift();
    }
    const filled = cmd.quantity - remaining;
    if (cmd.type === 'limit' && remaining > 0) {
      this.insert({ id: cmd.id, side: cmd.side, price: cmd.price, remaining, seq: index });
      return { ok: true, filled, resting: remaining, trades };
    }
    // A market order's unfilled rest is dropped, never rested.
    return { ok: true, filled, resting: 0, trades };
  }

  private insert(o: RestingOrder): void {
    const book = o.side === 'buy' ? this.bids : this.asks;
    const better = (a: RestingOrder): boolean => (o.side === 'buy' ? a.price >= o.price : a.price <= o.price);
    let i = 0;
    while (i < book.length && better(book[i] as RestingOrder)) i++;
    book.splice(i, 0, o);
  }

  view(): { bids: RestingOrder[]; asks: RestingOrder[] } {
    return { bids: this.bids.map((o) => ({ ...o })), asks: this.asks.map((o) => ({ ...o })) };
  }

  tradeList(): readonly Trade[] {
    return this.trades;
  }

  toJSON(): unknown {
    return { bids: this.bids, asks: this.asks, trades: this.trades, known: [...this.known], tradeSeq: this.tradeSeq };
  }

  static fromJSON(raw: unknown): OrderBook {
    const r = raw as { bids: RestingOrder[]; asks: RestingOrder[]; trades: Trade[]; known: string[]; tradeSeq: number };
    const b = new OrderBook();
    b.bids = r.bids;
    b.asks = r.asks;
    b.trades = r.trades;
    for (const k of r.known) b.known.add(k);
    b.tradeSeq = r.tradeSeq;
    return b;
  }
}

/** Checks a command from the network; returns an error message or the command. */
export function parseOrder(raw: unknown): OrderCommand | string {
  if (typeof raw !== 'object' || raw === null) return 'body must be a JSON object';
  const o = raw as Record<string, unknown>;
  if (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > 64) return 'id must be a string of 1 to 64 characters';
  if (o.type === 'cancel') return { type: 'cancel', id: o.id };
  if (o.side !== 'buy' && o.side !== 'sell') return 'side must be "buy" or "sell"';
  if (typeof o.quantity !== 'number' || !Number.isSafeInteger(o.quantity) || o.quantity <= 0) return 'quantity must be a positive integer';
  if (o.type === 'market') return { type: 'market', id: o.id, side: o.side, quantity: o.quantity };
  if (o.type !== 'limit') return 'type must be "limit", "market" or "cancel"';
  if (typeof o.price !== 'number' || !Number.isSafeInteger(o.price) || o.price <= 0) return 'price must be a positive integer (ticks)';
  return { type: 'limit', id: o.id, side: o.side, price: o.price, quantity: o.quantity };
}
