// EVPN NLRI (RFC 7432 §7): route types 1 (Ethernet A-D), 2 (MAC/IP advertisement),
// 3 (inclusive multicast Ethernet tag), 4 (Ethernet segment) and 5 (IP prefix, RFC 9136
// §3). Label fields are kept as the raw 24-bit value: RFC 8365 §5.1.3 puts the VNI
// there for VXLAN. A route of unknown type, or one whose shape we do not recognise,
// is kept raw (routeType + hex) so it survives.
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { EncodeError, formatColonHex, formatIPv4, formatIPv6, formatMac, fromHex, parseColonHex, parseIP, parseMac, parsePrefix, toHex } from '../addr.js';
import { formatRd, parseRd } from './rd.js';
import type { EvpnNlri } from '../types.js';
import type { NlriError } from './prefix.js';

const u32 = (b: Uint8Array, i: number) => b[i]! * 0x1000000 + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
const u24 = (b: Uint8Array, i: number) => (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;

/** Parses one route's value (after type and length); undefined when the shape is not the RFC's. */
function parseRoute(type: number, v: Uint8Array): EvpnNlri | undefined {
  const len = v.length;
  const rd = () => formatRd(v, 0);
  const esi = (at: number) => formatColonHex(v.subarray(at, at + 10));
  const ip = (at: number, n: number) => (n === 4 ? formatIPv4(v, at) : formatIPv6(v, at));
  switch (type) {
    case 1:
      if (len !== 25) return undefined;
      return { routeType: 1, rd: rd(), esi: esi(8), ethernetTag: u32(v, 18), label: u24(v, 22) };
    case 2: {
      if (len < 33 || v[22] !== 48) return undefined;
      const ipBits = v[29]!;
      if (ipBits !== 0 && ipBits !== 32 && ipBits !== 128) return undefined;
      const ipLen = ipBits >> 3;
      const rest = len - 30 - ipLen;
      if (rest !== 3 && rest !== 6) return undefined;
      const at = 30 + ipLen;
      const labels = rest === 3 ? [u24(v, at)] : [u24(v, at), u24(v, at + 3)];
      const r: EvpnNlri = { routeType: 2, rd: rd(), esi: esi(8), ethernetTag: u32(v, 18), mac: formatMac(v, 23), labels };
      if (ipLen) r.ip = ip(30, ipLen);
      return r;
    }
    case 3: {
      const ipBits = v[12];
      if (!((len === 17 && ipBits === 32) || (len === 29 && ipBits === 128))) return undefined;
      return { routeType: 3, rd: rd(), ethernetTag: u32(v, 8), originatorIp: ip(13, ipBits >> 3) };
    }
    case 4: {
      const ipBits = v[18];
      if (!((len === 23 && ipBits === 32) || (len === 35 && ipBits === 128))) return undefined;
      return { routeType: 4, rd: rd(), esi: esi(8), originatorIp: ip(19, ipBits >> 3) };
    }
    case 5: {
      const n = len === 34 ? 4 : len === 58 ? 16 : 0;
      if (!n) return undefined;
      const plen = v[22]!;
      if (plen > n * 8) return undefined;
      return {
        routeType: 5, rd: rd(), esi: esi(8), ethernetTag: u32(v, 18),
        prefix: `${ip(23, n)}/${plen}`, gateway: ip(23 + n, n), label: u24(v, 23 + 2 * n),
      };
    }
    default:
      return undefined;
  }
}

export function decodeEvpn(r: Reader, addPath: boolean, out: EvpnNlri[], err: NlriError): void {
  while (r.pos < r.end) {
    const pathId = addPath ? r.u32('path identifier') : undefined;
    if (r.remaining < 2) throw err('EVPN route header overruns the NLRI field');
    const type = r.u8();
    const len = r.u8();
    if (len > r.remaining) throw err(`EVPN route type ${type} length ${len} overruns the NLRI field`);
    const v = r.bytes(len);
    const route = parseRoute(type, v) ?? { routeType: type, value: toHex(v) };
    if (pathId !== undefined) route.pathId = pathId;
    out.push(route);
  }
}

function writeU32(w: Writer, v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(field, `${v} is not a 32-bit value`);
  w.u32(v);
}

function writeLabel(w: Writer, v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffff) throw new EncodeError(field, `${v} is not a 24-bit label field`);
  w.u24(v);
}

function writeIpWithLength(w: Writer, s: string, field: string): void {
  const ip = parseIP(s, field);
  w.u8(ip.length * 8).bytes(ip);
}

export function encodeEvpn(w: Writer, n: EvpnNlri, addPath: boolean): void {
  if (addPath) w.u32(n.pathId ?? 0);
  w.u8(n.routeType);
  const at = w.reserve(1);
  if ('value' in n) {
    w.bytes(fromHex(n.value, 'value'));
  } else {
    w.bytes(parseRd(n.rd));
    switch (n.routeType) {
      case 1:
        w.bytes(parseColonHex(n.esi, 10, 'esi'));
        writeU32(w, n.ethernetTag, 'ethernetTag');
        writeLabel(w, n.label, 'label');
        break;
      case 2:
        w.bytes(parseColonHex(n.esi, 10, 'esi'));
        writeU32(w, n.ethernetTag, 'ethernetTag');
        w.u8(48).bytes(parseMac(n.mac));
        if (n.ip === undefined) w.u8(0);
        else writeIpWithLength(w, n.ip, 'ip');
        if (!Array.isArray(n.labels) || n.labels.length < 1 || n.labels.length > 2) throw new EncodeError('labels', 'one or two label fields');
        for (const l of n.labels) writeLabel(w, l, 'labels');
        break;
      case 3:
        writeU32(w, n.ethernetTag, 'ethernetTag');
        writeIpWithLength(w, n.originatorIp, 'originatorIp');
        break;
      case 4:
        w.bytes(parseColonHex(n.esi, 10, 'esi'));
        writeIpWithLength(w, n.originatorIp, 'originatorIp');
        break;
      case 5: {
        w.bytes(parseColonHex(n.esi, 10, 'esi'));
        writeU32(w, n.ethernetTag, 'ethernetTag');
        const p = parsePrefix(n.prefix);
        const gw = parseIP(n.gateway, 'gateway');
        if (gw.length !== p.addr.length) throw new EncodeError('gateway', 'must be of the same family as the prefix');
        w.u8(p.len).bytes(p.addr).bytes(gw);
        writeLabel(w, n.label, 'label');
        break;
      }
    }
  }
  w.patch(at, 1, 'EVPN route');
}

