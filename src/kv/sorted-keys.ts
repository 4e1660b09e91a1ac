/**
 * The keys of a map in ascending UTF-16 code unit order, for range scans. Writes only record
 * which keys came and went; the next read merges them in, so a burst of inserts costs one
 * sort of the new keys plus one linear merge, and updates of existing keys cost nothing.
 */
export class SortedKeys {
  private sorted: string[] = [];
  private readonly added = new Set<string>();
  private readonly removed = new Set<string>();

  /** Call only when `key` was absent. */
  add(key: string): void {
    if (!this.removed.delete(key)) this.added.add(key);
  }

  /** Call only when `key` was present. */
  delete(key: string): void {
    if (!this.added.delete(key)) this.removed.add(key);
  }

  /** Replaces the contents with keys already in ascending order and without duplicates. */
  reset(sortedKeys: string[]): void {
    this.sorted = sortedKeys;
    this.added.clear();
    this.removed.clear();
  }

  keys(): readonly string[] {
    if (this.removed.size > 0) {
      const removed = this.removed;
      this.sorted = this.sorted.filter((k) => !removed.has(k));
      removed.clear();
    }
    if (this.added.size > 0) {
      // Default sort compares UTF-16 code units, the same order as `<` on strings.
      this.sorted = merge(this.sorted, [...this.added].sort());
      this.added.clear();
    }
    return this.sorted;
  }
}

function merge(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x < y) {
      out[k++] = x;
      i++;
    } else {
      out[k++] = y;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++] as string;
  while (j < b.length) out[k++] = b[j++] as string;
  return out;
}

/** First position in ascending `keys` whose key is >= `key` (or > `key` when `strict`). */
export function searchKeys(keys: readonly string[], key: string, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid] as string;
    if (k < key || (strict && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
