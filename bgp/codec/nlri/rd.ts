// Route distinguishers (RFC 4364 §4.2) and the matching administrator:value forms of
// route-target/route-origin extended communities (RFC 4360 §4, RFC 5668).
// Text: "65000:10" (2-octet AS, type 0), "192.0.2.1:10" (IPv4, type 1),
// "4200000000:10" (4-octet AS, type 2). A 4-octet-AS value whose AS fits 2 octets is
// written "65000L:10" so that it round-trips. Other RD types: "raw:<16 hex digits>".
import { EncodeError, formatIPv4, parseIPv4 } from '../addr.js';

/** Formats the 6-octet administrator:value part for `type` 0, 1 or 2; undefined otherwise. */
export function formatAdminValue(type: number, b: Uint8Array, at: number): string | undefined {
  const u32 = (i: number) => b[i]! * 0x1000000 + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
  const u16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  switch (type) {
    case 0: return `${u16(at)}:${u32(at + 2)}`;
    case 1: return `${formatIPv4(b, at)}:${u16(at + 4)}`;
    case 2: {
      const asn = u32(at);
      return `${asn}${asn <= 0xffff ? 'L' : ''}:${u16(at + 4)}`;
    }
    default: return undefined;
  }
}

/** Parses administrator:value text into (type, 6 octets). */
export function parseAdminValue(s: string, field: string): { type: number; bytes: Uint8Array } {
  const bad = () => new EncodeError(field, `"${s}" is not ASN:value, IPv4:value or ASN L:value`);
  if (typeof s !== 'string') throw bad();
  const colon = s.lastIndexOf(':');
  if (colon < 0) throw bad();
  const admin = s.slice(0, colon);
  const valueText = s.slice(colon + 1);
  if (!/^\d+$/.test(valueText)) throw bad();
  const value = Number(valueText);
  const out = new Uint8Array(6);
  const dv = new DataView(out.buffer);
  if (admin.includes('.')) {
    if (value > 0xffff) throw bad();
    out.set(parseIPv4(admin, field), 0);
    dv.setUint16(4, value);
    return { type: 1, bytes: out };
  }
  const m = /^(\d+)(L?)$/.exec(admin);
  if (!m) throw bad();
  const asn = Number(m[1]);
  if (asn > 0xffffffff) throw bad();
  if (asn <= 0xffff && m[2] !== 'L') {
    if (value > 0xffffffff) throw bad();
    dv.setUint16(0, asn);
    dv.setUint32(2, value);
    return { type: 0, bytes: out };
  }
  if (value > 0xffff) throw bad();
  dv.setUint32(0, asn);
  dv.setUint16(4, value);
  return { type: 2, bytes: out };
}

export function formatRd(b: Uint8Array, at: number): string {
  const type = (b[at]! << 8) | b[at + 1]!;
  return formatAdminValue(type, b, at + 2) ?? `raw:${Buffer.from(b.subarray(at, at + 8)).toString('hex')}`;
}

export function parseRd(s: string, field = 'rd'): Uint8Array {
  if (typeof s === 'string' && s.startsWith('raw:')) {
    if (!/^raw:[0-9a-fA-F]{16}$/.test(s)) throw new EncodeError(field, `"${s}" is not raw:<16 hex digits>`);
    return Uint8Array.from(Buffer.from(s.slice(4), 'hex'));
  }
  const { type, bytes } = parseAdminValue(s, field);
  const out = new Uint8Array(8);
  out[1] = type;
  out.set(bytes, 2);
  return out;
}
