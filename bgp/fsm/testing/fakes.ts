// Test doubles for the session shell: a clock that runs hours of timers in milliseconds
// (no sleeps) and a socket that records what is written and lets the test play the peer.
import { EventEmitter } from 'node:events';
import { decodeMessage, encodeMessage, type CodecContext, type Message } from '../../codec/index.js';
import type { Clock, SocketLike } from '../session.js';

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A manual clock: `advance(ms)` runs every timer due, in time order, moving `now()` along. */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, FakeTimer] | undefined;
      for (const e of this.timers) {
        if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq))) next = e;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }

  /** Milliseconds until each pending timer fires. */
  get pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.t).sort((a, b) => a - b);
  }
}

/** A socket whose far end is the test. 'close' is emitted synchronously on destroy. */
export class FakeSocket extends EventEmitter implements SocketLike {
  readonly written: Buffer[] = [];
  ended = false;
  destroyed = false;
  /** What write() returns (false simulates a full send buffer). */
  writeOk = true;
  remoteAddress = '192.0.2.1';
  remotePort = 40000;
  localAddress = '192.0.2.10';
  localPort = 179;

  write(data: Uint8Array): boolean {
    if (this.destroyed) return false;
    this.written.push(Buffer.from(data));
    return this.writeOk;
  }

  end(): this {
    this.ended = true;
    return this;
  }

  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close', false);
    }
    return this;
  }

  // ---- the test's side

  /** The TCP handshake completed (outgoing). */
  connected(): void {
    this.emit('connect');
  }

  /** The peer sends a message (or raw bytes). */
  feed(m: Message | Uint8Array, ctx?: CodecContext): void {
    this.emit('data', m instanceof Uint8Array ? Buffer.from(m) : encodeMessage(m, ctx));
  }

  /** The peer (or the network) closes the connection. */
  peerClose(err?: Error): void {
    if (this.destroyed) return;
    if (err) this.emit('error', err);
    this.destroyed = true;
    this.emit('close', !!err);
  }

  /** Everything written, decoded. */
  messages(ctx?: CodecContext): Message[] {
    return this.written.map((b) => {
      const d = decodeMessage(b, ctx);
      if (!d.ok) throw new Error(`we wrote an undecodable message: ${d.error.message}`);
      return d.message;
    });
  }

  types(): string[] {
    return this.messages().map((m) => (m.type === 'NOTIFICATION' ? `NOTIFICATION ${m.code}/${m.subcode}` : m.type));
  }
}
