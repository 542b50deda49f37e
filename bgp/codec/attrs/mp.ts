// MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4). Next hops: one address, or a
// global and a link-local IPv6 address (RFC 2545 §3); VPN families put a zero route
// distinguisher before each (RFC 4364 §4.3.2, RFC 4659 §3.2.1); IPv4 NLRI may have an
// IPv6 next hop (RFC 8950). NLRI go through the family table; unknown families stay raw.
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { formatIPv4, formatIPv6, fromHex, parseIP, toHex } from '../addr.js';
import { afiSafi, familyOf, SAFI_VPN, type Family } from '../family.js';
import { nlriCodec } from '../nlri/index.js';
import { BgpError, updateError, UpdateSub } from '../errors.js';
import type { CodecContext, MpReach, MpUnreach, Nlri } from '../types.js';

/** RFC 7606 §7.3, RFC 4760 §7: an NLRI we cannot parse disables the family (or resets the session). */
const nlriError = (family: Family) => (what: string): BgpError =>
  updateError(UpdateSub.OptionalAttributeError, `${family}: ${what}`, 'afi-safi-disable');

function decodeNextHop(b: Uint8Array, vpn: boolean): string[] | undefined {
  const step = vpn ? 8 : 0;
  const out: string[] = [];
  const rdZero = (at: number) => b[at] === 0 && b[at + 1] === 0 && b[at + 2] === 0 && b[at + 3] === 0 && b[at + 4] === 0 && b[at + 5] === 0 && b[at + 6] === 0 && b[at + 7] === 0;
  if (b.length === 4 + step) {
    if (vpn && !rdZero(0)) return undefined;
    out.push(formatIPv4(b, step));
  } else if (b.length === 16 + step || b.length === 2 * (16 + step)) {
    for (let at = 0; at < b.length; at += 16 + step) {
      if (vpn && !rdZero(at)) return undefined;
      out.push(formatIPv6(b, at + step));
    }
  } else return undefined;
  return out;
}

function encodeNextHop(w: Writer, nextHop: string[], vpn: boolean): void {
  for (const nh of nextHop) {
    if (vpn) w.fill(0, 8);
    w.bytes(parseIP(nh, 'nextHop'));
  }
}

function decodeNlriList(family: Family, r: Reader, ctx: CodecContext): { list: Nlri[]; raw?: string } {
  const codec = nlriCodec(family);
  if (!codec) return { list: [], raw: toHex(r.rest()) };
  const list: Nlri[] = [];
  codec.decode(r, ctx.addPath.has(family), list, nlriError(family));
  return { list };
}

export function decodeMpReach(r: Reader, ctx: CodecContext): MpReach {
  const err = nlriError('MP_REACH_NLRI' as Family);
  if (r.remaining < 5) throw err('shorter than its fixed fields');
  const afi = r.u16();
  const safi = r.u8();
  const family = familyOf(afi, safi);
  const nhLen = r.u8();
  if (r.remaining < nhLen + 1) throw nlriError(family)('next hop overruns the attribute');
  const nhBytes = r.bytes(nhLen);
  const reserved = r.u8();
  const { list, raw } = decodeNlriList(family, r, ctx);
  const nextHop = decodeNextHop(nhBytes, safi === SAFI_VPN);
  const m: MpReach = { type: 'MP_REACH_NLRI', family, nextHop: nextHop ?? [], nlri: list };
  if (!nextHop) m.nextHopRaw = toHex(nhBytes);
  if (raw !== undefined) m.nlriRaw = raw;
  if (reserved !== 0) m.reserved = reserved;
  return m;
}

export function encodeMpReach(w: Writer, m: MpReach, ctx: CodecContext): void {
  const [afi, safi] = afiSafi(m.family);
  w.u16(afi).u8(safi);
  const at = w.reserve(1);
  if (m.nextHopRaw !== undefined) w.bytes(fromHex(m.nextHopRaw, 'nextHopRaw'));
  else encodeNextHop(w, m.nextHop, safi === SAFI_VPN);
  w.patch(at, 1, 'next hop');
  w.u8(m.reserved ?? 0);
  encodeNlriList(w, m.family, m.nlri, m.nlriRaw, ctx);
}

export function decodeMpUnreach(r: Reader, ctx: CodecContext): MpUnreach {
  if (r.remaining < 3) throw nlriError('MP_UNREACH_NLRI' as Family)('shorter than its fixed fields');
  const afi = r.u16();
  const safi = r.u8();
  const family = familyOf(afi, safi);
  const { list, raw } = decodeNlriList(family, r, ctx);
  const m: MpUnreach = { type: 'MP_UNREACH_NLRI', family, withdrawn: list };
  if (raw !== undefined) m.nlriRaw = raw;
  return m;
}

export function encodeMpUnreach(w: Writer, m: MpUnreach, ctx: CodecContext): void {
  const [afi, safi] = afiSafi(m.family);
  w.u16(afi).u8(safi);
  encodeNlriList(w, m.family, m.withdrawn, m.nlriRaw, ctx);
}

function encodeNlriList(w: Writer, family: Family, list: Nlri[], raw: string | undefined, ctx: CodecContext): void {
  if (raw !== undefined) {
    w.bytes(fromHex(raw, 'nlriRaw'));
    return;
  }
  const codec = nlriCodec(family);
  if (!codec) {
    if (list.length) throw new TypeError(`${family}: cannot encode NLRI of this family (give nlriRaw)`);
    return;
  }
  const addPath = ctx.addPath.has(family);
  for (const n of list) codec.encode(w, n, addPath);
}
