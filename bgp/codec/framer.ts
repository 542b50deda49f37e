// Splits a TCP byte stream into BGP messages (RFC 4271 §4.1). Partial messages wait
// for the next chunk (the buffer grows by doubling and is reused); several messages in
// one chunk come out one by one, as views into the chunk when no copy is needed.
// A bad header stops the framer: the session must send that NOTIFICATION and close.
import { BgpError } from './errors.js';
import { checkHeader, HEADER_LENGTH } from './message.js';
import { DEFAULT_CONTEXT, type CodecContext } from './types.js';

export class Framer {
  private pending: Buffer = Buffer.allocUnsafe(0);
  private pendingLen = 0;
  private failed: BgpError | undefined;
  ctx: CodecContext;

  constructor(ctx: CodecContext = DEFAULT_CONTEXT) {
    this.ctx = ctx;
  }

  /** The header error that stopped the framer, if any. */
  get error(): BgpError | undefined {
    return this.failed;
  }

  /**
   * Feeds a chunk; calls `onMessage` with each whole message (valid only during the call:
   * copy it to keep it). Returns the header error that stopped framing, if one occurred.
   */
  push(chunk: Uint8Array, onMessage: (msg: Buffer) => void): BgpError | undefined {
    if (this.failed) return this.failed;
    let buf: Buffer;
    let end: number;
    if (this.pendingLen === 0) {
      buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      end = buf.length;
    } else {
      this.append(chunk);
      buf = this.pending;
      end = this.pendingLen;
    }
    let at = 0;
    while (end - at >= HEADER_LENGTH) {
      let len: number;
      try {
        len = checkHeader(buf, at, this.ctx);
      } catch (err) {
        this.failed = err as BgpError;
        this.pendingLen = 0;
        return this.failed;
      }
      if (end - at < len) break;
      onMessage(buf.subarray(at, at + len));
      at += len;
    }
    const left = end - at;
    if (buf === this.pending) {
      if (left > 0 && at > 0) this.pending.copy(this.pending, 0, at, end);
      this.pendingLen = left;
    } else if (left > 0) {
      this.pendingLen = 0;
      this.append(buf.subarray(at, end));
    }
    return undefined;
  }

  private append(chunk: Uint8Array): void {
    const need = this.pendingLen + chunk.length;
    if (need > this.pending.length) {
      let size = Math.max(this.pending.length * 2, 4096);
      while (size < need) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.pending.copy(next, 0, 0, this.pendingLen);
      this.pending = next;
    }
    this.pending.set(chunk, this.pendingLen);
    this.pendingLen = need;
  }

  /** Bytes waiting for the rest of their message. */
  get buffered(): number {
    return this.pendingLen;
  }
}
