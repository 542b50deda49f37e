// EXTENDED COMMUNITIES (RFC 4360): route target and route origin in the 2-octet-AS,
// IPv4 and 4-octet-AS forms (RFC 4360 §4, RFC 5668), tunnel encapsulation (RFC 9012
// §4.1), EVPN MAC mobility and router's MAC (RFC 7432 §7.7, RFC 9135 §8.1). Anything
// else, or a value that does not re-encode to its own bytes, stays raw (16 hex digits).
import { EncodeError, formatMac, fromHex, parseMac, toHex } from '../addr.js';
import { formatAdminValue, parseAdminValue } from '../nlri/rd.js';
import type { ExtendedCommunity } from '../types.js';

const SUB_ROUTE_TARGET = 0x02;
const SUB_ROUTE_ORIGIN = 0x03;
const TYPE_OPAQUE = 0x03;
const SUB_ENCAPSULATION = 0x0c;
const TYPE_EVPN = 0x06;
const SUB_MAC_MOBILITY = 0x00;
const SUB_ROUTER_MAC = 0x03;

function decodeOne(b: Uint8Array): ExtendedCommunity | undefined {
  const type = b[0]!;
  const sub = b[1]!;
  if (type <= 0x02 && (sub === SUB_ROUTE_TARGET || sub === SUB_ROUTE_ORIGIN)) {
    const value = formatAdminValue(type, b, 2)!;
    return { type: sub === SUB_ROUTE_TARGET ? 'route-target' : 'route-origin', value };
  }
  if (type === TYPE_OPAQUE && sub === SUB_ENCAPSULATION) return { type: 'encapsulation', tunnelType: (b[6]! << 8) | b[7]! };
  if (type === TYPE_EVPN && sub === SUB_ROUTER_MAC) return { type: 'router-mac', mac: formatMac(b, 2) };
  if (type === TYPE_EVPN && sub === SUB_MAC_MOBILITY) {
    return { type: 'mac-mobility', sticky: (b[2]! & 1) === 1, sequence: b[4]! * 0x1000000 + ((b[5]! << 16) | (b[6]! << 8) | b[7]!) };
  }
  return undefined;
}

export function encodeExtendedCommunity(c: ExtendedCommunity): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  switch (c.type) {
    case 'route-target':
    case 'route-origin': {
      const { type, bytes } = parseAdminValue(c.value, c.type);
      out[0] = type;
      out[1] = c.type === 'route-target' ? SUB_ROUTE_TARGET : SUB_ROUTE_ORIGIN;
      out.set(bytes, 2);
      break;
    }
    case 'encapsulation':
      if (!Number.isInteger(c.tunnelType) || c.tunnelType < 0 || c.tunnelType > 0xffff) throw new EncodeError('tunnelType', 'must be 0..65535');
      out[0] = TYPE_OPAQUE;
      out[1] = SUB_ENCAPSULATION;
      dv.setUint16(6, c.tunnelType);
      break;
    case 'router-mac':
      out[0] = TYPE_EVPN;
      out[1] = SUB_ROUTER_MAC;
      out.set(parseMac(c.mac, 'router-mac'), 2);
      break;
    case 'mac-mobility':
      out[0] = TYPE_EVPN;
      out[1] = SUB_MAC_MOBILITY;
      out[2] = c.sticky ? 1 : 0;
      dv.setUint32(4, c.sequence >>> 0);
      break;
    case 'raw': {
      const raw = fromHex(c.value, 'extended community');
      if (raw.length !== 8) throw new EncodeError('extended community', 'a raw extended community is 8 octets');
      out.set(raw);
      break;
    }
    default:
      throw new EncodeError('extended community', `unknown type "${(c as { type: string }).type}"`);
  }
  return out;
}

export function decodeExtendedCommunity(b: Uint8Array): ExtendedCommunity {
  const c = decodeOne(b);
  if (c) {
    const again = encodeExtendedCommunity(c);
    let same = true;
    for (let i = 0; i < 8; i++) if (again[i] !== b[i]) same = false;
    if (same) return c;
  }
  return { type: 'raw', value: toHex(b) };
}

/** "65000:10" as a 2-octet-AS route target (convenience for config and the speaker). */
export function routeTarget(value: string): ExtendedCommunity {
  return { type: 'route-target', value };
}
