// UPDATE packing (RFC 4271 §4.3, RFC 4760 §3-4): many NLRI that share outgoing
// attributes go into one UPDATE, filled up to the session's maximum message size
// (4096, or 65535 with RFC 8654 extended messages). IPv4 unicast with an IPv4 next hop
// uses the RFC 4271 NLRI/withdrawn fields; everything else MP_REACH/MP_UNREACH (IPv4
// with an IPv6 next hop per RFC 8950). A peer without 4-octet AS support gets AS_TRANS
// and AS4_PATH/AS4_AGGREGATOR (RFC 6793 §4.2.2). End-of-RIB per RFC 4724 §2.
// Attribute blocks are encoded once per attribute set and flavour, then copied.
import {
  encodeAttribute, encodeMessage, encodePrefix, isIPv6Family, nlriCodec, Writer,
  type AsSegment, type CodecContext, type Family, type Nlri, type PathAttribute, type PrefixNlri,
} from '../codec/index.js';
import { type AttrSet, findAttr, sortAttrs, withoutAttr } from './attrs.js';
import { ipv4KeyAddress, ipv4KeyLength, isPlainFamily, type RouteKey } from './keys.js';

const AS_TRANS = 23456;
const HEADER = 19;

/** RFC 6793 §4.2.2: what a 2-octet-AS peer is sent. */
export function toAs2(attrs: readonly PathAttribute[]): PathAttribute[] {
  let out = attrs as PathAttribute[];
  const path = findAttr(attrs, 'AS_PATH');
  if (path && path.segments.some((s) => s.asns.some((a) => a > 0xffff))) {
    const as2: AsSegment[] = path.segments.map((s) => ({ type: s.type, asns: s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) }));
    const as4 = path.segments.filter((s) => s.type === 'AS_SEQUENCE' || s.type === 'AS_SET');
    out = withoutAttr(withoutAttr(out, 'AS_PATH'), 'AS4_PATH');
    out.push({ type: 'AS_PATH', segments: as2 }, { type: 'AS4_PATH', segments: as4 });
  }
  const agg = findAttr(attrs, 'AGGREGATOR');
  if (agg && agg.asn > 0xffff) {
    out = withoutAttr(withoutAttr(out, 'AGGREGATOR'), 'AS4_AGGREGATOR');
    out.push({ type: 'AGGREGATOR', asn: AS_TRANS, address: agg.address }, { type: 'AS4_AGGREGATOR', asn: agg.asn, address: agg.address });
  }
  return out === attrs ? out : sortAttrs(out);
}

/** Whether routes of `family` with these next hops go in the RFC 4271 fields. */
export function classicFamily(family: Family, nextHop: readonly string[]): boolean {
  return family === 'ipv4-unicast' && nextHop.length === 1 && !nextHop[0]!.includes(':');
}

function encodeList(attrs: readonly PathAttribute[], ctx: CodecContext): Buffer {
  const w = new Writer(256);
  for (const a of ctx.as4 ? attrs : toAs2(attrs)) encodeAttribute(w, a, ctx);
  return w.take();
}

/** The attribute block of an announcement: path attributes (with NEXT_HOP when classic), then the MP_REACH header when not. */
export function attrBlock(set: AttrSet, family: Family, ctx: CodecContext): { block: Buffer; mp: boolean } {
  const mp = !classicFamily(family, set.nextHop);
  const flavour = `${mp ? family : 'v4'}|${ctx.as4 ? 4 : 2}`;
  let wire = set.wire;
  if (!wire) wire = set.wire = new Map();
  let block = wire.get(flavour);
  if (!block) {
    if (!mp) {
      block = encodeList(sortAttrs([...set.attrs, { type: 'NEXT_HOP', value: set.nextHop[0]! }]), ctx);
    } else {
      const w = new Writer(256);
      w.bytes(encodeList(set.attrs, ctx));
      // MP_REACH with the extended-length flag and no NLRI yet: the packer appends NLRI and patches its length.
      encodeAttribute(w, { type: 'MP_REACH_NLRI', family, nextHop: set.nextHop.slice(), nlri: [], flags: 0x90 }, ctx);
      block = w.take();
    }
    wire.set(flavour, block);
  }
  return { block, mp };
}

/** Encoded NLRI size in octets (add-path adds 4). */
export function nlriSize(family: Family, key: RouteKey, nlri: Nlri | undefined, addPath: boolean): number {
  if (typeof key === 'number') return 1 + ((ipv4KeyLength(key) + 7) >> 3) + (addPath ? 4 : 0);
  if (nlri === undefined && isPlainFamily(family)) {
    let len = 0;
    for (let i = key.lastIndexOf('/') + 1; i < key.length; i++) len = len * 10 + key.charCodeAt(i) - 48;
    return 1 + ((len + 7) >> 3) + (addPath ? 4 : 0);
  }
  scratch.reset();
  writeNlri(scratch, family, key, nlri, addPath ? 0 : undefined);
  return scratch.pos;
}
const scratch = new Writer(512);

/** Fast path for "a.b.c.d/len"; false when the text is not that shape. */
function writeIPv4Prefix(w: Writer, s: string): boolean {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return false;
  let len = 0;
  for (let i = slash + 1; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return false;
    len = len * 10 + c;
  }
  if (len > 32 || slash + 1 === s.length) return false;
  const n = (len + 7) >> 3;
  w.u8(len);
  let octet = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= slash; i++) {
    const c = i === slash ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || v > 255) return false;
      if (octet < n) w.u8(v);
      octet++;
      v = 0;
      digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9) return false;
      v = v * 10 + d;
      digits++;
    }
  }
  return octet === 4;
}

/** Writes one NLRI; `pathId` defined means add-path is on for this family. */
export function writeNlri(w: Writer, family: Family, key: RouteKey, nlri: Nlri | undefined, pathId: number | undefined): void {
  if (typeof key === 'number') {
    // IPv4 unicast/multicast numeric key (keys.ts): length, then the prefix's octets.
    if (pathId !== undefined) w.u32(pathId);
    const len = ipv4KeyLength(key);
    const a = ipv4KeyAddress(key);
    w.u8(len);
    if (len > 0) w.u8(a >>> 24);
    if (len > 8) w.u8((a >>> 16) & 255);
    if (len > 16) w.u8((a >>> 8) & 255);
    if (len > 24) w.u8(a & 255);
    return;
  }
  if (nlri === undefined && isPlainFamily(family)) {
    if (pathId !== undefined) w.u32(pathId);
    if (family === 'ipv4-unicast' || family === 'ipv4-multicast') {
      const at = w.pos;
      if (writeIPv4Prefix(w, key)) return;
      w.pos = at;
    }
    encodePrefix(w, { prefix: key } as PrefixNlri, isIPv6Family(family), false);
    return;
  }
  const codec = nlriCodec(family);
  if (!codec || !nlri) throw new TypeError(`cannot encode NLRI ${key} of family ${family}`);
  codec.encode(w, pathId === undefined ? nlri : { ...nlri, pathId }, pathId !== undefined);
}

export interface NlriItem {
  key: RouteKey;
  nlri: Nlri | undefined;
  pathId: number | undefined;
}

/**
 * Builds UPDATEs one at a time into a reused writer. `begin*` starts a message,
 * `add` appends one NLRI if it fits (false when the message is full), `end` returns it.
 */
export class UpdateBuilder {
  private readonly w: Writer;
  private lenAt = 0;
  private fieldAt = 0;
  private mpLenAt = 0;
  private nlriStart = 0;
  private kind: 'classic-announce' | 'mp-announce' | 'classic-withdraw' | 'mp-withdraw' = 'classic-announce';
  count = 0;

  constructor(readonly family: Family, readonly ctx: CodecContext, readonly maxLength: number) {
    this.w = new Writer(maxLength + 64);
  }

  private header(): void {
    const w = this.w;
    w.reset();
    w.fill(0xff, 16);
    this.lenAt = w.reserve(2);
    w.u8(2);
    this.count = 0;
  }

  /** Room for NLRI in an announcement with these attributes. */
  room(set: AttrSet): number {
    const { block } = attrBlock(set, this.family, this.ctx);
    return this.maxLength - HEADER - 4 - block.length;
  }

  /** Room for NLRI in a withdrawal. */
  withdrawRoom(): number {
    return this.maxLength - HEADER - 4 - (this.family === 'ipv4-unicast' ? 0 : 7);
  }

  beginAnnounce(set: AttrSet): void {
    const { block, mp } = attrBlock(set, this.family, this.ctx);
    this.header();
    const w = this.w;
    w.u16(0);
    this.fieldAt = w.reserve(2);
    w.bytes(block);
    this.nlriStart = w.pos;
    if (mp) {
      // The MP_REACH header is last in the block: flags, code, 2-octet length, value.
      this.mpLenAt = this.nlriStart - block.length + mpHeaderOffset(block);
      this.kind = 'mp-announce';
    } else this.kind = 'classic-announce';
  }

  beginWithdraw(): void {
    this.header();
    const w = this.w;
    if (this.family === 'ipv4-unicast') {
      this.fieldAt = w.reserve(2);
      this.kind = 'classic-withdraw';
    } else {
      w.u16(0);
      this.fieldAt = w.reserve(2);
      w.u8(0x90).u8(15);
      this.mpLenAt = w.reserve(2);
      w.bytes(familyCode(this.family));
      this.kind = 'mp-withdraw';
    }
  }

  /** Appends one NLRI; false (and nothing written) when it does not fit. */
  add(item: NlriItem): boolean {
    const w = this.w;
    const at = w.pos;
    writeNlri(w, this.family, item.key, item.nlri, item.pathId);
    if (w.pos > this.maxLength - (this.kind === 'classic-withdraw' ? 2 : 0)) {
      w.pos = at;
      return false;
    }
    this.count++;
    return true;
  }

  get size(): number {
    return this.w.pos;
  }

  end(): Buffer {
    const w = this.w;
    const b = w.buf;
    switch (this.kind) {
      case 'classic-announce':
        b.writeUInt16BE(this.nlriStart - this.fieldAt - 2, this.fieldAt);
        break;
      case 'classic-withdraw':
        b.writeUInt16BE(w.pos - this.fieldAt - 2, this.fieldAt);
        w.u16(0);
        break;
      case 'mp-announce':
      case 'mp-withdraw':
        b.writeUInt16BE(w.pos - this.mpLenAt - 2, this.mpLenAt);
        b.writeUInt16BE(w.pos - this.fieldAt - 2, this.fieldAt);
        break;
    }
    b.writeUInt16BE(w.pos, this.lenAt);
    return w.take();
  }
}

function mpHeaderOffset(block: Buffer): number {
  // Walk the attributes to the last one (MP_REACH).
  let at = 0;
  let last = 0;
  while (at < block.length) {
    last = at;
    const flags = block[at]!;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? block.readUInt16BE(at + 2) : block[at + 2]!;
    at += (ext ? 4 : 3) + len;
  }
  return last + 2;
}

function familyCode(family: Family): Uint8Array {
  const m = encodeMessage({ type: 'ROUTE-REFRESH', family, subtype: 0 });
  return Uint8Array.of(m[19]!, m[20]!, m[22]!);
}

/** End-of-RIB marker (RFC 4724 §2): an empty UPDATE for IPv4 unicast, an empty MP_UNREACH otherwise. */
export function endOfRib(family: Family, ctx: CodecContext): Buffer {
  if (family === 'ipv4-unicast') return encodeMessage({ type: 'UPDATE', withdrawn: [], attributes: [], nlri: [] }, ctx);
  return encodeMessage({ type: 'UPDATE', withdrawn: [], attributes: [{ type: 'MP_UNREACH_NLRI', family, withdrawn: [] }], nlri: [] }, ctx);
}

/** Enhanced route refresh markers (RFC 7313 §3): 1 BoRR, 2 EoRR. */
export function refreshMarker(family: Family, subtype: 1 | 2): Buffer {
  return encodeMessage({ type: 'ROUTE-REFRESH', family, subtype });
}
