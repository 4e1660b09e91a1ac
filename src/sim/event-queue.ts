/**
 * A min-heap of timed events in virtual milliseconds. Ties break by insertion order, so a run
 * is a pure function of the seed.
 */
interface Scheduled {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  private heap: Scheduled[] = [];
  private seq = 0;
  nowMs = 0;

  get size(): number {
    return this.heap.length;
  }

  at(atMs: number, run: () => void): void {
    this.push({ atMs: Math.max(atMs, this.nowMs), seq: this.seq++, run });
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.nowMs + delayMs, run);
  }

  /** Removes and returns the next event, advancing the clock to it. */
  pop(): (() => void) | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop();
    if (last !== undefined && this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    this.nowMs = top.atMs;
    return top.run;
  }

  peekTimeMs(): number | undefined {
    return this.heap[0]?.atMs;
  }

  private less(a: Scheduled, b: Scheduled): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(e: Scheduled): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (parent === undefined || !this.less(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  private siftDown(start: number): void {
    const h = this.heap;
    const e = h[start];
    if (e === undefined) return;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const left = h[l];
      const right = h[r];
      let c = l;
      let child = left;
      if (right !== undefined && left !== undefined && this.less(right, left)) {
        c = r;
        child = right;
      }
      if (child === undefined || !this.less(child, e)) break;
      h[i] = child;
      i = c;
    }
    h[i] = e;
  }
}
