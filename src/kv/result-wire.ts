import type { KvEntry, KvResult } from './commands.js';
import type { Fail } from './wire.js';
import { bool, posInt, str, tuple } from './wire.js';

/*
 * Compact snapshot form of entries and of the results the session table remembers:
 *   entry  [value, version, createVersion]
 *   put    [0, version, previous]
 *   delete [1, deleted, version, previous]
 *   cas    [2, succeeded, version, current]
 * Error results are never stored (a session-less or undecodable command has nothing to
 * remember, and SESSION_EXPIRED is not an outcome), so they have no wire form.
 */

export type WireEntry = [string, number, number];

export function entryToWire(e: KvEntry): WireEntry {
  return [e.value, e.version, e.createVersion];
}

export function entryFromWire(raw: unknown, fail: Fail): KvEntry {
  const [value, version, createVersion] = tuple(raw, 3, 3, 'entry', fail);
  const entry = { value: str(value, 'entry value', fail), version: posInt(version, 'entry version', fail), createVersion: posInt(createVersion, 'entry createVersion', fail) };
  if (entry.createVersion > entry.version) throw fail('entry createVersion exceeds its version');
  return entry;
}

export function resultToWire(r: KvResult): unknown[] {
  switch (r.type) {
    case 'put':
      return [0, r.version, maybeEntry(r.previous)];
    case 'delete':
      return [1, r.deleted, r.version, maybeEntry(r.previous)];
    case 'cas':
      return [2, r.succeeded, r.version, maybeEntry(r.current)];
    case 'error':
      throw new Error('assertion failed: error results are never stored');
  }
}

export function resultFromWire(raw: unknown, fail: Fail): KvResult {
  const fields = tuple(raw, 3, 4, 'stored result', fail);
  switch (fields[0]) {
    case 0: {
      const [, version, previous] = tuple(raw, 3, 3, 'put result', fail);
      return { type: 'put', version: posInt(version, 'version', fail), previous: maybeEntryFromWire(previous, fail) };
    }
    case 1: {
      const [, deleted, version, previous] = tuple(raw, 4, 4, 'delete result', fail);
      return { type: 'delete', deleted: bool(deleted, 'deleted', fail), version: posInt(version, 'version', fail), previous: maybeEntryFromWire(previous, fail) };
    }
    case 2: {
      const [, succeeded, version, current] = tuple(raw, 4, 4, 'cas result', fail);
      return { type: 'cas', succeeded: bool(succeeded, 'succeeded', fail), version: posInt(version, 'version', fail), current: maybeEntryFromWire(current, fail) };
    }
    default:
      throw fail(`unknown stored result type ${String(fields[0])}`);
  }
}

function maybeEntry(e: KvEntry | null): WireEntry | null {
  return e === null ? null : entryToWire(e);
}

function maybeEntryFromWire(raw: unknown, fail: Fail): KvEntry | null {
  return raw === null ? null : entryFromWire(raw, fail);
}
