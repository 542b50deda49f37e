// Bounds-checked cursor over a byte buffer. Every read checks the end of the current
// (sub-)reader; an overrun throws the BgpError the caller chose for that region, so a
// length that comes from the peer can never make us read past what it declared.
import { BgpError } from './errors.js';

export type OverrunError = (what: string) => BgpError;

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  private readonly overrun: OverrunError;

  constructor(buf: Uint8Array, overrun: OverrunError, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.overrun = overrun;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws the region's error unless `n` more bytes are present. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw this.overrun(what);
  }

  u8(what = 'octet'): number {
    if (this.pos >= this.end) throw this.overrun(what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'two-octet field'): number {
    this.need(2, what);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u24(what = 'three-octet field'): number {
    this.need(3, what);
    const b = this.buf;
    const v = (b[this.pos]! << 16) | (b[this.pos + 1]! << 8) | b[this.pos + 2]!;
    this.pos += 3;
    return v;
  }

  /** Unsigned 32-bit read (AS numbers, MED, LOCAL_PREF, path IDs are unsigned). */
  u32(what = 'four-octet field'): number {
    this.need(4, what);
    const b = this.buf;
    const v = b[this.pos]! * 0x1000000 + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
    this.pos += 4;
    return v;
  }

  bytes(n: number, what = 'field'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A reader over the next `n` bytes (capped there), with its own overrun error; advances past them. */
  sub(n: number, what: string, overrun: OverrunError = this.overrun): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, overrun, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }
}
