// Growable byte writer. Length fields are reserved and patched when the body is done,
// so lengths are computed while encoding and never stored on values.
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    this.buf[this.pos] = (v >>> 8) & 0xff;
    this.buf[this.pos + 1] = v & 0xff;
    this.pos += 2;
    return this;
  }

  u24(v: number): this {
    this.grow(3);
    this.buf[this.pos] = (v >>> 16) & 0xff;
    this.buf[this.pos + 1] = (v >>> 8) & 0xff;
    this.buf[this.pos + 2] = v & 0xff;
    this.pos += 3;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  fill(v: number, n: number): this {
    this.grow(n);
    this.buf.fill(v, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** Reserves a length field of `size` octets; returns its offset for `patch`. */
  reserve(size: 1 | 2): number {
    const at = this.pos;
    this.grow(size);
    this.pos += size;
    return at;
  }

  /** Writes the number of bytes written since the reserved field into it; throws if it does not fit. */
  patch(at: number, size: 1 | 2, what: string): void {
    const len = this.pos - at - size;
    const max = size === 1 ? 0xff : 0xffff;
    if (len > max) throw new RangeError(`${what} is ${len} octets, more than ${max}`);
    if (size === 1) this.buf[at] = len;
    else this.buf.writeUInt16BE(len, at);
  }

  /** A copy of what was written. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  reset(): void {
    this.pos = 0;
  }
}
