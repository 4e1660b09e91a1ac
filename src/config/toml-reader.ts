import { ConfigError } from './config-error.js';
import { describeChoices, describeValue, isTable } from './describe.js';
import { describeRange, inRange } from './integers.js';
import type { IntRange } from './integers.js';

/** Keys and array indexes from the document root down to one value. */
export type TomlPath = readonly (string | number)[];

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function keyText(k: string): string {
  return BARE_KEY.test(k) ? k : JSON.stringify(k);
}

/**
 * Names a value the way the user would look for it in the file: the table header it sits under,
 * then the key within, e.g. `[raft.persistence] strategy` or `[cluster] initial_cluster[1].address`
 * (the header stops at the first array, since array elements have no header of their own).
 */
export function formatTomlPath(path: TomlPath): string {
  const firstIndex = path.findIndex((p) => typeof p === 'number');
  const headerLength = firstIndex < 0 ? path.length - 1 : firstIndex - 1;
  const header = path.slice(0, Math.max(headerLength, 0));
  let key = '';
  for (const p of path.slice(header.length)) key += typeof p === 'number' ? `[${p}]` : (key === '' ? '' : '.') + keyText(p);
  return header.length === 0 ? key : `[${header.map((p) => keyText(String(p))).join('.')}] ${key}`;
}

/**
 * Typed reads from one table of an untyped TOML document. Every read checks the type and range
 * and, on failure, throws a ConfigError naming the full key, so the schema code that uses it
 * stays a plain list of keys. Unknown keys are rejected up front: a misspelt key silently
 * ignored is a setting the user believes in and does not have.
 */
export class TomlTableReader {
  private constructor(
    private readonly values: Record<string, unknown>,
    readonly path: TomlPath,
    /** Prepended to every message, e.g. the file name and ": ". */
    private readonly prefix: string,
  ) {}

  /** The document root; `source` (a file name) starts every message when given. */
  static root(doc: unknown, source: string | undefined, knownKeys: readonly string[]): TomlTableReader {
    const prefix = source === undefined ? '' : `${source}: `;
    if (!isTable(doc)) throw new ConfigError(`${prefix}expected a TOML document (a table), got ${describeValue(doc)}`);
    const reader = new TomlTableReader(doc, [], prefix);
    reader.allowOnly(knownKeys);
    return reader;
  }

  /** The full name of `key` in this table, as error messages show it. */
  name(key: string | number): string {
    return this.prefix + formatTomlPath([...this.path, key]);
  }

  fail(key: string | number, problem: string): never {
    throw new ConfigError(`${this.name(key)}: ${problem}`);
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  /** The value as parsed, unchecked (for keys that take more than one type). */
  raw(key: string): unknown {
    return Object.hasOwn(this.values, key) ? this.values[key] : undefined;
  }

  int(key: string, range: IntRange): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !inRange(n, range) || (typeof v === 'bigint' && BigInt(n) !== v)) {
      this.fail(key, `expected ${describeRange(range)}, got ${describeValue(v)}`);
    }
    return n;
  }

  string(key: string, maxLength = 4096): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, `expected a string, got ${describeValue(v)}`);
    if (v === '') this.fail(key, 'expected a non-empty string');
    if (v.length > maxLength) this.fail(key, `longer than ${maxLength} characters`);
    return v;
  }

  /** A string that must be one of `choices`' keys, mapped to its value. */
  oneOf<T>(key: string, choices: Readonly<Record<string, T>>): T | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && Object.hasOwn(choices, v)) return choices[v];
    return this.fail(key, `expected ${describeChoices(Object.keys(choices))}, got ${describeValue(v)}`);
  }

  /** A sub-table (a `[section]` or an inline table) restricted to `knownKeys`. */
  table(key: string, knownKeys: readonly string[]): TomlTableReader | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isTable(v)) this.fail(key, `expected a table, got ${describeValue(v)}`);
    const reader = new TomlTableReader(v, [...this.path, key], this.prefix);
    reader.allowOnly(knownKeys);
    return reader;
  }

  /** An array whose elements must all be tables restricted to `knownKeys` (TOML's `[[x]]` or `x = [{...}]`). */
  tables(key: string, knownKeys: readonly string[], maxLength: number): TomlTableReader[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(key, `expected an array of tables, got ${describeValue(v)}`);
    if (v.length > maxLength) this.fail(key, `more than ${maxLength} elements`);
    return v.map((item: unknown, i) => {
      const path = [...this.path, key, i];
      if (!isTable(item)) throw new ConfigError(`${this.prefix}${formatTomlPath(path)}: expected a table, got ${describeValue(item)}`);
      const reader = new TomlTableReader(item, path, this.prefix);
      reader.allowOnly(knownKeys);
      return reader;
    });
  }

  private allowOnly(knownKeys: readonly string[]): void {
    for (const k of Object.keys(this.values)) {
      if (!knownKeys.includes(k)) {
        const known = knownKeys.length === 0 ? 'this table takes no keys' : `known keys: ${knownKeys.join(', ')}`;
        this.fail(k, `unknown key (${known})`);
      }
    }
  }
}
