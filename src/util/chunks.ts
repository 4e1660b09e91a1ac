/**
 * Iterators of byte chunks that always release what they hold: a generator closed before its
 * first `next()` never runs its `finally`, so a resource taken when the iterator was made
 * (a captured snapshot view) would stay taken.
 */

/** `chunks`, calling `release` once when they run out, fail, or are closed early (started or not). */
export function releasingChunks(chunks: Iterator<Uint8Array>, release: () => void): IterableIterator<Uint8Array> {
  let released = false;
  const done = (): void => {
    if (released) return;
    released = true;
    release();
  };
  return {
    [Symbol.iterator]() {
      return this;
    },
    next() {
      try {
        const r = chunks.next();
        if (r.done === true) done();
        return r;
      } catch (err) {
        done();
        throw err;
      }
    },
    return(value?: unknown) {
      done();
      chunks.return?.(value);
      return { done: true, value: undefined };
    },
  };
}

/** `first`, then the chunks of `rest`; closing early closes `rest` too. */
export function prependChunk(first: Uint8Array, rest: Iterable<Uint8Array>): IterableIterator<Uint8Array> {
  const tail = rest[Symbol.iterator]();
  let sentFirst = false;
  return releasingChunks(
    {
      next() {
        if (sentFirst) return tail.next();
        sentFirst = true;
        return { done: false, value: first };
      },
    },
    () => tail.return?.(),
  );
}
