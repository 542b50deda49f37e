// Path attributes (RFC 4271 §4.3, §5) in one table keyed by type code (BIRD's
// bgp_attr_table): canonical flags, the RFC 7606 §7 action when malformed, and a
// decode/encode pair per row. Unknown attributes are kept with their flags.
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { EncodeError, formatIP, formatIPv4, fromHex, parseIP, parseIPv4, toHex } from '../addr.js';
import type { ErrorAction } from '../errors.js';
import { UpdateSub } from '../errors.js';
import type { AttributeType, AttributeValue, CodecContext, PathAttribute } from '../types.js';
import { decodeSegments, encodeSegments, MalformedValue } from './aspath.js';
import { decodeCommunities, decodeLargeCommunities, encodeCommunities, encodeLargeCommunities } from './communities.js';
import { decodeExtendedCommunity, encodeExtendedCommunity } from './extcommunities.js';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach } from './mp.js';

export const FLAG_OPTIONAL = 0x80;
export const FLAG_TRANSITIVE = 0x40;
export const FLAG_PARTIAL = 0x20;
export const FLAG_EXTENDED_LENGTH = 0x10;

export const enum AttrCode {
  Origin = 1, AsPath = 2, NextHop = 3, Med = 4, LocalPref = 5, AtomicAggregate = 6, Aggregator = 7,
  Communities = 8, OriginatorId = 9, ClusterList = 10, MpReach = 14, MpUnreach = 15, ExtendedCommunities = 16,
  As4Path = 17, As4Aggregator = 18, PmsiTunnel = 22, LargeCommunities = 32, Otc = 35,
}

export interface AttrRow {
  code: number;
  type: AttributeType;
  /** Optional and transitive bits as RFC 4271 §5 / the defining RFC says. */
  flags: number;
  /** RFC 7606 §7 action when the attribute is malformed. */
  onError: ErrorAction;
  /** NOTIFICATION subcode for a malformed value. */
  subcode: UpdateSub;
  /** Exact value length(s), when fixed. */
  lengths?: (len: number, ctx: CodecContext) => boolean;
  decode(r: Reader, ctx: CodecContext): AttributeValue;
  encode(w: Writer, a: AttributeValue, ctx: CodecContext): void;
}

const WK = FLAG_TRANSITIVE;
const OPT = FLAG_OPTIONAL;
const OPT_T = FLAG_OPTIONAL | FLAG_TRANSITIVE;
const ORIGINS = ['IGP', 'EGP', 'INCOMPLETE'] as const;
const multipleOf = (n: number) => (len: number) => len > 0 && len % n === 0;
const exactly = (n: number) => (len: number) => len === n;

function u32Field(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(field, `${v} is not an unsigned 32-bit value`);
  return v;
}

type Of<T extends AttributeType> = Extract<AttributeValue, { type: T }>;
function row<T extends AttributeType>(r: Omit<AttrRow, 'decode' | 'encode' | 'type'> & {
  type: T;
  decode(r: Reader, ctx: CodecContext): Of<T>;
  encode(w: Writer, a: Of<T>, ctx: CodecContext): void;
}): AttrRow {
  return r as unknown as AttrRow;
}

const ROWS: AttrRow[] = [
  row({
    code: AttrCode.Origin, type: 'ORIGIN', flags: WK, onError: 'treat-as-withdraw', subcode: UpdateSub.InvalidOrigin, lengths: exactly(1),
    decode: (r) => {
      const v = ORIGINS[r.u8()];
      if (!v) throw new MalformedValue('undefined ORIGIN value');
      return { type: 'ORIGIN', value: v };
    },
    encode: (w, a) => {
      const i = ORIGINS.indexOf(a.value);
      if (i < 0) throw new EncodeError('ORIGIN', `"${a.value}" is not IGP, EGP or INCOMPLETE`);
      w.u8(i);
    },
  }),
  row({
    code: AttrCode.AsPath, type: 'AS_PATH', flags: WK, onError: 'treat-as-withdraw', subcode: UpdateSub.MalformedAsPath,
    decode: (r, ctx) => ({ type: 'AS_PATH', segments: decodeSegments(r, ctx.as4) }),
    encode: (w, a, ctx) => encodeSegments(w, a.segments, ctx.as4),
  }),
  row({
    code: AttrCode.NextHop, type: 'NEXT_HOP', flags: WK, onError: 'treat-as-withdraw', subcode: UpdateSub.InvalidNextHop, lengths: exactly(4),
    decode: (r) => ({ type: 'NEXT_HOP', value: formatIPv4(r.bytes(4)) }),
    encode: (w, a) => w.bytes(parseIPv4(a.value, 'NEXT_HOP')),
  }),
  row({
    code: AttrCode.Med, type: 'MULTI_EXIT_DISC', flags: OPT, onError: 'treat-as-withdraw', subcode: UpdateSub.AttributeLengthError, lengths: exactly(4),
    decode: (r) => ({ type: 'MULTI_EXIT_DISC', value: r.u32() }),
    encode: (w, a) => w.u32(u32Field(a.value, 'MULTI_EXIT_DISC')),
  }),
  row({
    code: AttrCode.LocalPref, type: 'LOCAL_PREF', flags: WK, onError: 'treat-as-withdraw', subcode: UpdateSub.AttributeLengthError, lengths: exactly(4),
    decode: (r) => ({ type: 'LOCAL_PREF', value: r.u32() }),
    encode: (w, a) => w.u32(u32Field(a.value, 'LOCAL_PREF')),
  }),
  row({
    code: AttrCode.AtomicAggregate, type: 'ATOMIC_AGGREGATE', flags: WK, onError: 'attribute-discard', subcode: UpdateSub.AttributeLengthError, lengths: exactly(0),
    decode: () => ({ type: 'ATOMIC_AGGREGATE' }),
    encode: () => undefined,
  }),
  row({
    code: AttrCode.Aggregator, type: 'AGGREGATOR', flags: OPT_T, onError: 'attribute-discard', subcode: UpdateSub.AttributeLengthError,
    lengths: (len, ctx) => len === (ctx.as4 ? 8 : 6),
    decode: (r, ctx) => ({ type: 'AGGREGATOR', asn: ctx.as4 ? r.u32() : r.u16(), address: formatIPv4(r.bytes(4)) }),
    encode: (w, a, ctx) => {
      if (ctx.as4) w.u32(u32Field(a.asn, 'AGGREGATOR'));
      else {
        if (a.asn > 0xffff) throw new EncodeError('AGGREGATOR', `${a.asn} needs 4 octets (use AS_TRANS and AS4_AGGREGATOR)`);
        w.u16(a.asn);
      }
      w.bytes(parseIPv4(a.address, 'AGGREGATOR'));
    },
  }),
  row({
    code: AttrCode.Communities, type: 'COMMUNITIES', flags: OPT_T, onError: 'treat-as-withdraw', subcode: UpdateSub.OptionalAttributeError, lengths: multipleOf(4),
    decode: (r) => ({ type: 'COMMUNITIES', values: decodeCommunities(r) }),
    encode: (w, a) => encodeCommunities(w, a.values),
  }),
  row({
    code: AttrCode.OriginatorId, type: 'ORIGINATOR_ID', flags: OPT, onError: 'treat-as-withdraw', subcode: UpdateSub.AttributeLengthError, lengths: exactly(4),
    decode: (r) => ({ type: 'ORIGINATOR_ID', value: formatIPv4(r.bytes(4)) }),
    encode: (w, a) => w.bytes(parseIPv4(a.value, 'ORIGINATOR_ID')),
  }),
  row({
    code: AttrCode.ClusterList, type: 'CLUSTER_LIST', flags: OPT, onError: 'treat-as-withdraw', subcode: UpdateSub.AttributeLengthError, lengths: multipleOf(4),
    decode: (r) => {
      const values: string[] = [];
      while (r.remaining > 0) values.push(formatIPv4(r.bytes(4)));
      return { type: 'CLUSTER_LIST', values };
    },
    encode: (w, a) => { for (const v of a.values) w.bytes(parseIPv4(v, 'CLUSTER_LIST')); },
  }),
  row({
    code: AttrCode.MpReach, type: 'MP_REACH_NLRI', flags: OPT, onError: 'session-reset', subcode: UpdateSub.OptionalAttributeError,
    decode: (r, ctx) => decodeMpReach(r, ctx),
    encode: (w, a, ctx) => encodeMpReach(w, a, ctx),
  }),
  row({
    code: AttrCode.MpUnreach, type: 'MP_UNREACH_NLRI', flags: OPT, onError: 'session-reset', subcode: UpdateSub.OptionalAttributeError,
    decode: (r, ctx) => decodeMpUnreach(r, ctx),
    encode: (w, a, ctx) => encodeMpUnreach(w, a, ctx),
  }),
  row({
    code: AttrCode.ExtendedCommunities, type: 'EXTENDED_COMMUNITIES', flags: OPT_T, onError: 'treat-as-withdraw', subcode: UpdateSub.OptionalAttributeError, lengths: multipleOf(8),
    decode: (r) => {
      const values = [];
      while (r.remaining > 0) values.push(decodeExtendedCommunity(r.bytes(8)));
      return { type: 'EXTENDED_COMMUNITIES', values };
    },
    encode: (w, a) => { for (const c of a.values) w.bytes(encodeExtendedCommunity(c)); },
  }),
  row({
    // RFC 6793 §6 / RFC 7606 §7.7: a malformed AS4_PATH is discarded.
    code: AttrCode.As4Path, type: 'AS4_PATH', flags: OPT_T, onError: 'attribute-discard', subcode: UpdateSub.OptionalAttributeError,
    decode: (r) => ({ type: 'AS4_PATH', segments: decodeSegments(r, true) }),
    encode: (w, a) => encodeSegments(w, a.segments, true),
  }),
  row({
    code: AttrCode.As4Aggregator, type: 'AS4_AGGREGATOR', flags: OPT_T, onError: 'attribute-discard', subcode: UpdateSub.OptionalAttributeError, lengths: exactly(8),
    decode: (r) => ({ type: 'AS4_AGGREGATOR', asn: r.u32(), address: formatIPv4(r.bytes(4)) }),
    encode: (w, a) => w.u32(u32Field(a.asn, 'AS4_AGGREGATOR')).bytes(parseIPv4(a.address, 'AS4_AGGREGATOR')),
  }),
  row({
    code: AttrCode.PmsiTunnel, type: 'PMSI_TUNNEL', flags: OPT_T, onError: 'treat-as-withdraw', subcode: UpdateSub.OptionalAttributeError,
    lengths: (len) => len >= 5,
    decode: (r) => {
      const pmsiFlags = r.u8();
      const tunnelType = r.u8();
      const label = r.u24();
      const id = r.rest();
      const tunnelId = id.length === 4 || id.length === 16 ? formatIP(id) : toHex(id);
      return { type: 'PMSI_TUNNEL', pmsiFlags, tunnelType, label, tunnelId };
    },
    encode: (w, a) => {
      w.u8(a.pmsiFlags).u8(a.tunnelType).u24(a.label);
      w.bytes(/[.:]/.test(a.tunnelId) ? parseIP(a.tunnelId, 'tunnelId') : fromHex(a.tunnelId, 'tunnelId'));
    },
  }),
  row({
    code: AttrCode.LargeCommunities, type: 'LARGE_COMMUNITIES', flags: OPT_T, onError: 'treat-as-withdraw', subcode: UpdateSub.OptionalAttributeError, lengths: multipleOf(12),
    decode: (r) => ({ type: 'LARGE_COMMUNITIES', values: decodeLargeCommunities(r) }),
    encode: (w, a) => encodeLargeCommunities(w, a.values),
  }),
  row({
    // RFC 9234 §5: a malformed OTC is treated as withdraw.
    code: AttrCode.Otc, type: 'OTC', flags: OPT_T, onError: 'treat-as-withdraw', subcode: UpdateSub.OptionalAttributeError, lengths: exactly(4),
    decode: (r) => ({ type: 'OTC', value: r.u32() }),
    encode: (w, a) => w.u32(u32Field(a.value, 'OTC')),
  }),
];

export const ATTR_BY_CODE: ReadonlyArray<AttrRow | undefined> = (() => {
  const t: Array<AttrRow | undefined> = new Array(256).fill(undefined);
  for (const r of ROWS) t[r.code] = r;
  return t;
})();
export const ATTR_BY_TYPE: ReadonlyMap<AttributeType, AttrRow> = new Map(ROWS.map((r) => [r.type, r]));

const valueWriter = new Writer(4096);

/** Writes one attribute: flags, code, length (1 or 2 octets per the extended-length bit), value. */
export function encodeAttribute(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  let code: number;
  let flags: number;
  let value: Uint8Array;
  if (a.type === 'UNKNOWN') {
    code = a.code;
    value = fromHex(a.value, 'UNKNOWN attribute value');
    flags = a.flags ?? FLAG_OPTIONAL | FLAG_TRANSITIVE;
    if (a.flags === undefined && value.length > 255) flags |= FLAG_EXTENDED_LENGTH;
  } else {
    const r = ATTR_BY_TYPE.get(a.type);
    if (!r) throw new EncodeError('type', `unknown attribute type "${a.type}"`);
    code = r.code;
    valueWriter.reset();
    r.encode(valueWriter, a, ctx);
    value = valueWriter.buf.subarray(0, valueWriter.pos);
    flags = a.flags ?? (r.flags | (value.length > 255 ? FLAG_EXTENDED_LENGTH : 0));
  }
  const ext = (flags & FLAG_EXTENDED_LENGTH) !== 0;
  if (!ext && value.length > 255) throw new EncodeError(a.type, `value of ${value.length} octets needs the extended-length flag`);
  if (value.length > 0xffff) throw new EncodeError(a.type, `value of ${value.length} octets is too long`);
  w.u8(flags).u8(code);
  if (ext) w.u16(value.length);
  else w.u8(value.length);
  w.bytes(value);
}

/** The flags we would write for a value of `len` octets (to know whether the peer's are canonical). */
export function canonicalFlags(r: AttrRow, len: number): number {
  return r.flags | (len > 255 ? FLAG_EXTENDED_LENGTH : 0);
}
