// MRT TABLE_DUMP_V2 reader (RFC 6396 §4.3; add-path subtypes RFC 8050 §4.1): the
// PEER_INDEX_TABLE, then RIB records — RIB_IPV4/IPV6_UNICAST/MULTICAST and RIB_GENERIC
// (one NLRI of any family we decode). Attributes inside are 4-octet-AS encoded
// (§4.3.4) and decoded by bgp/codec; the abbreviated MP_REACH_NLRI of RIB entries (only
// next-hop length and next hop) is expanded before decoding. Other record types are
// skipped and counted. Lengths come from the file and are all bounds-checked.
import {
  Prefix4, decodeMessage, familyOf, formatIPv4, formatIPv6, nlriCodec, Reader, BgpError, AFI_IPV4, AFI_IPV6, SAFI_MULTICAST, SAFI_UNICAST,
  type CodecContext, type Family, type Nlri, type PathAttribute,
} from '../codec/index.js';

export const MRT_TABLE_DUMP_V2 = 13;

export const enum Subtype {
  PeerIndexTable = 1,
  RibIpv4Unicast = 2,
  RibIpv4Multicast = 3,
  RibIpv6Unicast = 4,
  RibIpv6Multicast = 5,
  RibGeneric = 6,
  RibIpv4UnicastAddPath = 8,
  RibIpv4MulticastAddPath = 9,
  RibIpv6UnicastAddPath = 10,
  RibIpv6MulticastAddPath = 11,
  RibGenericAddPath = 12,
}

export class MrtError extends Error {
  constructor(readonly offset: number, message: string) {
    super(`MRT at offset ${offset}: ${message}`);
    this.name = 'MrtError';
  }
}

export interface MrtPeer {
  index: number;
  bgpId: string;
  address: string;
  asn: number;
}

export interface MrtRoute {
  family: Family;
  nlri: Nlri;
  /** Path attributes without NEXT_HOP and MP_REACH_NLRI. */
  attrs: PathAttribute[];
  nextHop: string[];
  peerIndex: number;
  peer: MrtPeer | undefined;
  /** Seconds since the epoch. */
  originatedTime: number;
  /** Path identifier (add-path subtypes). */
  pathId?: number;
  /** Position of the entry among the prefix's entries (0 = first). */
  entry: number;
}

export interface MrtTable {
  collectorId: string;
  viewName: string;
  peers: MrtPeer[];
}

export interface MrtStats {
  records: number;
  ribEntries: number;
  /** Records of types/subtypes we do not read. */
  skippedRecords: number;
  /** RIB entries whose attributes could not be decoded. */
  badEntries: number;
}

const CTX: CodecContext = { as4: true, addPath: new Set(), extendedMessage: true };

interface Cursor {
  buf: Uint8Array;
  pos: number;
  end: number;
}

function need(c: Cursor, n: number, what: string): void {
  if (c.pos + n > c.end) throw new MrtError(c.pos, `${what} overruns the record`);
}
function u8(c: Cursor, what: string): number {
  need(c, 1, what);
  return c.buf[c.pos++]!;
}
function u16(c: Cursor, what: string): number {
  need(c, 2, what);
  const v = (c.buf[c.pos]! << 8) | c.buf[c.pos + 1]!;
  c.pos += 2;
  return v;
}
function u32(c: Cursor, what: string): number {
  need(c, 4, what);
  const b = c.buf;
  const v = b[c.pos]! * 0x1000000 + ((b[c.pos + 1]! << 16) | (b[c.pos + 2]! << 8) | b[c.pos + 3]!);
  c.pos += 4;
  return v;
}
function bytes(c: Cursor, n: number, what: string): Uint8Array {
  need(c, n, what);
  const v = c.buf.subarray(c.pos, c.pos + n);
  c.pos += n;
  return v;
}

/** An IPv4 prefix is kept as numbers (the codec's Prefix4: its text is made only when asked for). */
function prefixNlri(b: Uint8Array, len: number, v6: boolean): Nlri {
  if (v6) {
    const full = new Uint8Array(16);
    full.set(b);
    return { prefix: `${formatIPv6(full)}/${len}` };
  }
  const addr = ((b.length > 0 ? b[0]! << 24 : 0) | (b.length > 1 ? b[1]! << 16 : 0) | (b.length > 2 ? b[2]! << 8 : 0) | (b.length > 3 ? b[3]! : 0)) >>> 0;
  return new Prefix4(addr, len);
}

/** The octets one NLRI of `family` takes at `c.pos` (RIB_GENERIC carries exactly one). */
function singleNlriLength(c: Cursor, family: Family): number {
  const at = c.pos;
  need(c, 1, 'NLRI');
  if (family === 'l2vpn-evpn') {
    need(c, 2, 'EVPN NLRI');
    return 2 + c.buf[at + 1]!;
  }
  return 1 + ((c.buf[at]! + 7) >> 3);
}

/**
 * Parses a whole MRT file. Routes come out through `onRoute` as they are read (a full
 * table does not have to sit in memory twice). Throws MrtError on a malformed record.
 */
export function readTableDump(buf: Uint8Array, onRoute: (r: MrtRoute) => void): { table: MrtTable | undefined; stats: MrtStats } {
  const r = new TableDumpReader(buf, onRoute);
  r.read(Infinity);
  return { table: r.table, stats: r.stats };
}

/**
 * The same reading in slices: read(n) reads up to n records and says whether the file is
 * done, so a caller can load a large table between other work (sessions, timers).
 */
export class TableDumpReader {
  readonly stats: MrtStats = { records: 0, ribEntries: 0, skippedRecords: 0, badEntries: 0 };
  table: MrtTable | undefined;
  /** Attributes decoded once per distinct raw attribute block (the same object for equal blocks). */
  private readonly attrCache = new Map<string, { attrs: PathAttribute[]; nextHop: string[] } | null>();
  private at = 0;
  private readonly lastBlock: LastBlock = { raw: undefined, afi: 0, safi: 0, decoded: null };

  constructor(private readonly buf: Uint8Array, private readonly onRoute: (r: MrtRoute) => void) {}

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  /** Reads up to `maxRecords` records; true when the end of the file is reached. */
  read(maxRecords: number): boolean {
    const { buf, stats, attrCache, onRoute } = this;
    let table = this.table;
    let at = this.at;
    let n = 0;
    try {
      while (at < buf.length && n++ < maxRecords) {
        if (at + 12 > buf.length) throw new MrtError(at, 'truncated MRT header');
        const c: Cursor = { buf, pos: at, end: buf.length };
        u32(c, 'timestamp');
        const type = u16(c, 'type');
        const subtype = u16(c, 'subtype');
        const len = u32(c, 'length');
        const body: Cursor = { buf, pos: c.pos, end: c.pos + len };
        if (body.end > buf.length) throw new MrtError(at, `record length ${len} overruns the file`);
        at = body.end;
        stats.records++;
        if (type !== MRT_TABLE_DUMP_V2) {
          stats.skippedRecords++;
          continue;
        }
        switch (subtype) {
          case Subtype.PeerIndexTable:
            table = readPeerIndex(body);
            break;
          case Subtype.RibIpv4Unicast:
          case Subtype.RibIpv4Multicast:
          case Subtype.RibIpv6Unicast:
          case Subtype.RibIpv6Multicast:
          case Subtype.RibIpv4UnicastAddPath:
          case Subtype.RibIpv4MulticastAddPath:
          case Subtype.RibIpv6UnicastAddPath:
          case Subtype.RibIpv6MulticastAddPath: {
            const base = subtype >= 8 ? subtype - 6 : subtype;
            const v6 = base >= Subtype.RibIpv6Unicast;
            const afi = v6 ? AFI_IPV6 : AFI_IPV4;
            const safi = base === Subtype.RibIpv4Multicast || base === Subtype.RibIpv6Multicast ? SAFI_MULTICAST : SAFI_UNICAST;
            u32(body, 'sequence number');
            const plen = u8(body, 'prefix length');
            if (plen > (v6 ? 128 : 32)) throw new MrtError(body.pos - 1, `prefix length ${plen}`);
            const nlri = prefixNlri(bytes(body, (plen + 7) >> 3, 'prefix'), plen, v6);
            readEntries(body, afi, safi, nlri, subtype >= 8, table, attrCache, stats, onRoute, this.lastBlock);
            break;
          }
          case Subtype.RibGeneric:
          case Subtype.RibGenericAddPath: {
            u32(body, 'sequence number');
            const afi = u16(body, 'AFI');
            const safi = u8(body, 'SAFI');
            const family = familyOf(afi, safi);
            const codec = nlriCodec(family);
            if (!codec) {
              stats.skippedRecords++;
              break;
            }
            const n = singleNlriLength(body, family);
            need(body, n, 'NLRI');
            const list: Nlri[] = [];
            const r = new Reader(buf, (what) => new BgpError(3, 10, what), body.pos, body.pos + n);
            try {
              codec.decode(r, false, list, (what) => new BgpError(3, 10, what));
            } catch (e) {
              if (e instanceof BgpError) throw new MrtError(body.pos, `NLRI: ${e.message}`);
              throw e;
            }
            body.pos += n;
            if (list.length !== 1) throw new MrtError(body.pos, 'RIB_GENERIC needs exactly one NLRI');
            readEntries(body, afi, safi, list[0]!, subtype === Subtype.RibGenericAddPath, table, attrCache, stats, onRoute, this.lastBlock);
            break;
          }
          default:
            stats.skippedRecords++;
        }
      }
    } finally {
      this.at = at;
      this.table = table;
    }
    return at >= buf.length;
  }
}

function readPeerIndex(c: Cursor): MrtTable {
  const collectorId = formatIPv4(bytes(c, 4, 'collector BGP ID'));
  const nameLen = u16(c, 'view name length');
  const viewName = Buffer.from(bytes(c, nameLen, 'view name')).toString('utf8');
  const count = u16(c, 'peer count');
  const peers: MrtPeer[] = [];
  for (let i = 0; i < count; i++) {
    const type = u8(c, 'peer type');
    const bgpId = formatIPv4(bytes(c, 4, 'peer BGP ID'));
    const address = type & 1 ? formatIPv6(bytes(c, 16, 'peer address')) : formatIPv4(bytes(c, 4, 'peer address'));
    const asn = type & 2 ? u32(c, 'peer AS') : u16(c, 'peer AS');
    peers.push({ index: i, bgpId, address, asn });
  }
  return { collectorId, viewName, peers };
}

/** The attribute block of the last entry read and what it decoded to (a view of the file's buffer). */
interface LastBlock { raw: Uint8Array | undefined; afi: number; safi: number; decoded: { attrs: PathAttribute[]; nextHop: string[] } | null }

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function readEntries(
  c: Cursor, afi: number, safi: number, nlri: Nlri, addPath: boolean, table: MrtTable | undefined,
  cache: Map<string, { attrs: PathAttribute[]; nextHop: string[] } | null>, stats: MrtStats, onRoute: (r: MrtRoute) => void, lastBlock: LastBlock,
): void {
  const count = u16(c, 'entry count');
  const family = familyOf(afi, safi);
  for (let i = 0; i < count; i++) {
    const peerIndex = u16(c, 'peer index');
    const originatedTime = u32(c, 'originated time');
    const pathId = addPath ? u32(c, 'path identifier') : undefined;
    const attrLen = u16(c, 'attribute length');
    const raw = bytes(c, attrLen, 'attributes');
    stats.ribEntries++;
    // Consecutive entries mostly carry the same attribute bytes: compare with the last block before building a cache key.
    let decoded: { attrs: PathAttribute[]; nextHop: string[] } | null | undefined;
    const last = lastBlock;
    if (last.raw !== undefined && last.afi === afi && last.safi === safi && sameBytes(last.raw, raw)) decoded = last.decoded;
    else {
      const key = `${afi}/${safi}|${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1')}`;
      decoded = cache.get(key);
      if (decoded === undefined) {
        decoded = decodeAttributes(raw, afi, safi);
        cache.set(key, decoded);
      }
      last.raw = raw;
      last.afi = afi;
      last.safi = safi;
      last.decoded = decoded;
    }
    if (decoded === null) {
      stats.badEntries++;
      continue;
    }
    const route: MrtRoute = { family, nlri, attrs: decoded.attrs, nextHop: decoded.nextHop, peerIndex, peer: table?.peers[peerIndex], originatedTime, entry: i };
    if (pathId !== undefined) route.pathId = pathId;
    onRoute(route);
  }
}

/** Decodes a RIB entry's attributes by wrapping them in an UPDATE; null when they do not decode. */
export function decodeAttributes(raw: Uint8Array, afi: number, safi: number): { attrs: PathAttribute[]; nextHop: string[] } | null {
  const parts: Uint8Array[] = [];
  let at = 0;
  while (at < raw.length) {
    if (at + 3 > raw.length) return null;
    const flags = raw[at]!;
    const code = raw[at + 1]!;
    const ext = (flags & 0x10) !== 0;
    if (ext && at + 4 > raw.length) return null;
    const len = ext ? (raw[at + 2]! << 8) | raw[at + 3]! : raw[at + 2]!;
    const hdr = ext ? 4 : 3;
    if (at + hdr + len > raw.length) return null;
    const value = raw.subarray(at + hdr, at + hdr + len);
    if (code === 14 && len >= 1 && value[0]! + 1 === len) {
      // RFC 6396 §4.3.4: abbreviated MP_REACH_NLRI — only the next-hop length and next hop.
      const full = new Uint8Array(3 + len + 1);
      full[0] = afi >> 8;
      full[1] = afi & 0xff;
      full[2] = safi;
      full.set(value, 3);
      const h = full.length > 255 ? Uint8Array.of(flags | 0x10, code, full.length >> 8, full.length & 0xff) : Uint8Array.of(flags & ~0x10, code, full.length);
      parts.push(h, full);
    } else parts.push(raw.subarray(at, at + hdr + len));
    at += hdr + len;
  }
  const attrLen = parts.reduce((n, p) => n + p.length, 0);
  const total = 19 + 4 + attrLen;
  if (total > 65535) return null;
  const msg = new Uint8Array(total);
  msg.fill(0xff, 0, 16);
  msg[16] = total >> 8;
  msg[17] = total & 0xff;
  msg[18] = 2;
  msg[21] = attrLen >> 8;
  msg[22] = attrLen & 0xff;
  let p = 23;
  for (const part of parts) {
    msg.set(part, p);
    p += part.length;
  }
  const d = decodeMessage(msg, CTX);
  if (!d.ok || d.message.type !== 'UPDATE') return null;
  if (d.error && d.error.action !== 'attribute-discard') return null;
  let nextHop: string[] = [];
  const attrs: PathAttribute[] = [];
  for (const a of d.message.attributes) {
    if (a.type === 'NEXT_HOP') {
      if (nextHop.length === 0) nextHop = [a.value];
    } else if (a.type === 'MP_REACH_NLRI') nextHop = a.nextHop;
    else if (a.type !== 'MP_UNREACH_NLRI') attrs.push(a);
  }
  return { attrs, nextHop };
}
