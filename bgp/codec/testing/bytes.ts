// A deliberately naive byte builder for expected test bytes: an independent oracle,
// sharing no code with the encoder (pg-protocol's testing/buffer-list.ts in spirit).
export class Bytes {
  private readonly parts: number[] = [];

  u8(...v: number[]): this {
    for (const x of v) this.parts.push(x & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >> 8, v);
  }
  u24(v: number): this {
    return this.u8(v >> 16, v >> 8, v);
  }
  u32(v: number): this {
    return this.u8(Math.floor(v / 0x1000000), v >> 16, v >> 8, v);
  }
  ip4(s: string): this {
    return this.u8(...s.split('.').map(Number));
  }
  hex(s: string): this {
    for (let i = 0; i < s.length; i += 2) this.parts.push(parseInt(s.slice(i, i + 2), 16));
    return this;
  }
  add(b: Bytes | Uint8Array): this {
    const arr = b instanceof Bytes ? b.toArray() : Array.from(b);
    for (const x of arr) this.parts.push(x);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  toArray(): number[] {
    return this.parts.slice();
  }
  toBuffer(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** A whole BGP message: 16 x 0xff marker, length (header included), type, body. */
export function message(type: number, body: Bytes): Buffer {
  return new Bytes().u8(...new Array(16).fill(0xff)).u16(19 + body.length).u8(type).add(body).toBuffer();
}

/** One path attribute: flags, type code, 1-octet length (or 2 with 0x10), value. */
export function attr(flags: number, code: number, value: Bytes): Bytes {
  const b = new Bytes().u8(flags, code);
  return flags & 0x10 ? b.u16(value.length).add(value) : b.u8(value.length).add(value);
}

/** UPDATE body from withdrawn bytes, attribute bytes and NLRI bytes. */
export function updateBody(withdrawn: Bytes, attrs: Bytes, nlri: Bytes): Bytes {
  return new Bytes().u16(withdrawn.length).add(withdrawn).u16(attrs.length).add(attrs).add(nlri);
}

/** Plain UPDATE with ORIGIN IGP, AS_PATH [asn] (4-octet), NEXT_HOP and the given /32s. */
export function simpleUpdate(asn: number, nextHop: string, prefixes: string[], extraAttrs = new Bytes()): Buffer {
  const attrs = new Bytes()
    .add(attr(0x40, 1, new Bytes().u8(0))) // ORIGIN IGP
    .add(attr(0x40, 2, new Bytes().u8(2, 1).u32(asn))) // AS_PATH: AS_SEQUENCE of one
    .add(attr(0x40, 3, new Bytes().ip4(nextHop))) // NEXT_HOP
    .add(extraAttrs);
  const nlri = new Bytes();
  for (const p of prefixes) {
    const [a, l] = p.split('/');
    const len = Number(l);
    nlri.u8(len).u8(...a!.split('.').map(Number).slice(0, (len + 7) >> 3));
  }
  return message(2, updateBody(new Bytes(), attrs, nlri));
}
