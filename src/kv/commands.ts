import { KvCommandError } from './errors.js';
import { pack, posInt, str, tuple, uint, unpack } from './wire.js';

/**
 * Identifies a request for exactly-once application (see session-table.ts). `seq` is a
 * positive integer, unique per clientId per request. `ackedBelow`: the client promises never
 * to retry any seq below it, so the table may forget those results; it may not exceed `seq`.
 */
export interface ClientSession {
  readonly clientId: string;
  readonly seq: number;
  readonly ackedBelow?: number;
}

export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string; readonly session?: ClientSession }
  | { readonly op: 'delete'; readonly key: string; readonly session?: ClientSession }
  | {
      readonly op: 'cas';
      readonly key: string;
      /** null = delete on success. */
      readonly value: string | null;
      /** null = the key must be absent. */
      readonly expectedValue?: string | null;
      /** 0 = the key must be absent. If both conditions are given, both must hold. */
      readonly expectedVersion?: number;
      readonly session?: ClientSession;
    };

export interface KvEntry {
  readonly value: string;
  /** Log index of its last write. */
  readonly version: number;
  /** Log index of the write that created it. */
  readonly createVersion: number;
}

export type KvResult =
  | { readonly type: 'put'; readonly version: number; readonly previous: KvEntry | null }
  | { readonly type: 'delete'; readonly deleted: boolean; /** log index of the command */ readonly version: number; readonly previous: KvEntry | null }
  | { readonly type: 'cas'; readonly succeeded: boolean; /** log index of the command */ readonly version: number; /** entry after the command */ readonly current: KvEntry | null }
  | { readonly type: 'error'; readonly code: 'BAD_COMMAND' | 'SESSION_EXPIRED'; readonly message: string };

/*
 * Wire form: positional MessagePack arrays, so no field names travel.
 *   put    [0, key, value, session]
 *   delete [1, key, session]
 *   cas    [2, key, value, expectedValue, expectedVersion, session]
 *   session: null | [clientId, seq] | [clientId, seq, ackedBelow]
 * In cas, an absent expectedValue is `false` (null already means "must be absent") and an
 * absent expectedVersion is null.
 */
const OP_PUT = 0;
const OP_DELETE = 1;
const OP_CAS = 2;

type WireSession = [string, number] | [string, number, number] | null;

/** Encodes a command; throws KvCommandError if it would not decode, so clients learn early. */
export function encodeKvCommand(c: KvCommand): Uint8Array {
  const wire = toWire(c);
  fromWire(wire);
  return pack(wire);
}

/** Decodes and checks every field; throws KvCommandError (code BAD_COMMAND) on anything else. */
export function decodeKvCommand(b: Uint8Array): KvCommand {
  const decoded = unpack(b);
  if (decoded === undefined) throw bad('command is not a single MessagePack value');
  return fromWire(decoded.value);
}

function toWire(c: KvCommand): unknown[] {
  switch (c.op) {
    case 'put':
      return [OP_PUT, c.key, c.value, sessionToWire(c.session)];
    case 'delete':
      return [OP_DELETE, c.key, sessionToWire(c.session)];
    case 'cas':
      // `false` is the wire's "absent" marker, so it must not be accepted as a value from JS.
      if (c.expectedValue !== undefined && c.expectedValue !== null && typeof c.expectedValue !== 'string') throw bad('expectedValue must be a string or null');
      return [OP_CAS, c.key, c.value, c.expectedValue === undefined ? false : c.expectedValue, c.expectedVersion ?? null, sessionToWire(c.session)];
    default:
      throw bad(`unknown op ${String((c as { op: unknown }).op)}`);
  }
}

function sessionToWire(s: ClientSession | undefined): WireSession {
  if (s === undefined) return null;
  return s.ackedBelow === undefined ? [s.clientId, s.seq] : [s.clientId, s.seq, s.ackedBelow];
}

function fromWire(raw: unknown): KvCommand {
  const head = tuple(raw, 3, 6, 'command', bad);
  switch (head[0]) {
    case OP_PUT: {
      const [, key, value, session] = tuple(raw, 4, 4, 'put', bad);
      return { op: 'put', key: str(key, 'key', bad), value: str(value, 'value', bad), ...sessionField(session) };
    }
    case OP_DELETE: {
      const [, key, session] = tuple(raw, 3, 3, 'delete', bad);
      return { op: 'delete', key: str(key, 'key', bad), ...sessionField(session) };
    }
    case OP_CAS: {
      const [, key, value, expectedValue, expectedVersion, session] = tuple(raw, 6, 6, 'cas', bad);
      if (expectedValue === false && expectedVersion === null) throw bad('cas needs expectedValue or expectedVersion');
      return {
        op: 'cas',
        key: str(key, 'key', bad),
        value: value === null ? null : str(value, 'value', bad),
        ...(expectedValue === false ? {} : { expectedValue: expectedValue === null ? null : str(expectedValue, 'expectedValue', bad) }),
        ...(expectedVersion === null ? {} : { expectedVersion: uint(expectedVersion, 'expectedVersion', bad) }),
        ...sessionField(session),
      };
    }
    default:
      throw bad(`unknown op code ${String(head[0])}`);
  }
}

function sessionField(raw: unknown): { session?: ClientSession } {
  if (raw === null) return {};
  const [clientId, seq, ackedBelow] = tuple(raw, 2, 3, 'session', bad);
  const session: ClientSession = {
    clientId: str(clientId, 'clientId', bad),
    seq: posInt(seq, 'seq', bad),
    ...(ackedBelow === undefined ? {} : { ackedBelow: uint(ackedBelow, 'ackedBelow', bad) }),
  };
  // A request below its own ackedBelow would be a retry the client promised never to send.
  if (session.ackedBelow !== undefined && session.ackedBelow > session.seq) throw bad('ackedBelow must not exceed seq');
  return { session };
}

function bad(message: string): KvCommandError {
  return new KvCommandError('BAD_COMMAND', message);
}
