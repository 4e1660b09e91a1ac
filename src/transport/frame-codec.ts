import { TransportError } from './errors.js';

/**
 * Framing on a peer stream: a 4-byte big-endian length, then that many bytes, whose first byte
 * is the frame kind. A length above the bound closes the connection: a peer that sends one is
 * broken or hostile, and buffering it could exhaust memory.
 */
export const FRAME_HEADER_BYTES = 4;

export const FrameKind = {
  /** A MessagePack array of encoded raft messages, all groups mixed. */
  Messages: 1,
  /** One chunk of a snapshot stream (see peer-link.ts). */
  SnapshotChunk: 2,
  /**
   * `[streamId, group, ok]`, the only frame that flows back on a peer stream: the receiver has
   * handed the snapshot to raft (`ok`) or dropped it. Only then does the sender report the
   * snapshot sent, as etcd does on its snapshot stream's response.
   */
  SnapshotAck: 3,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export function encodeFrame(kind: FrameKind, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + payload.byteLength);
  frame.writeUInt32BE(1 + payload.byteLength, 0);
  frame[FRAME_HEADER_BYTES] = kind;
  frame.set(payload, FRAME_HEADER_BYTES + 1);
  return frame;
}

/** Reassembles frames from arbitrary stream chunks. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns the complete frames they finish. Throws on an oversized frame. */
  push(chunk: Buffer): { kind: number; payload: Buffer }[] {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    const frames: { kind: number; payload: Buffer }[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length === 0) throw new TransportError('BAD_FRAME', 'empty frame');
      if (length > this.maxFrameBytes) throw new TransportError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.take(FRAME_HEADER_BYTES + length);
      frames.push({ kind: whole[FRAME_HEADER_BYTES] ?? 0, payload: whole.subarray(FRAME_HEADER_BYTES + 1) });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.byteLength >= n) return first;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private take(n: number): Buffer {
    const joined = this.peek(n);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks[0] = rest;
    if (rest.byteLength === 0) this.chunks.shift();
    this.buffered -= n;
    return out;
  }
}
