// Address math for the intent model: strict parsing of IPv4/IPv6 addresses and
// prefixes into canonical text (RFC 5952 for IPv6), containment, and pool ranges
// as BigInt offsets so allocation never enumerates a pool. Built on ipaddr.js.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface ParsedIp {
  family: Family;
  /** Address as an unsigned integer (32 or 128 bits). */
  value: bigint;
  /** Canonical text: dotted quad, or RFC 5952 for IPv6. */
  text: string;
}

export interface ParsedCidr {
  family: Family;
  network: bigint;
  prefixLength: number;
  /** Canonical text, e.g. `10.0.0.0/24`, `2001:db8::/64`. */
  text: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** Parses one address; rejects shorthand IPv4 (`10.1`), hex/octal parts and IPv6 zone ids. */
export function parseIp(text: unknown): Parsed<ParsedIp> {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, message: 'must be an IP address string' };
  if (text.includes('.') && !text.includes(':')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return { ok: false, message: `${text} is not a dotted-quad IPv4 address` };
    const a = ipaddr.IPv4.parse(text);
    return { ok: true, value: { family: 4, value: bytesToBig(a.toByteArray()), text: a.toString() } };
  }
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const a = ipaddr.IPv6.parse(text);
    return { ok: true, value: { family: 6, value: bytesToBig(a.toByteArray()), text: a.toRFC5952String() } };
  }
  return { ok: false, message: `${text} is not an IP address` };
}

/** Parses `address/length`; the address must be the network address (no host bits). */
export function parseCidr(text: unknown): Parsed<ParsedCidr> {
  if (typeof text !== 'string') return { ok: false, message: 'must be a prefix string like 10.0.0.0/24' };
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, message: `${text} has no prefix length (expected address/length)` };
  const ip = parseIp(text.slice(0, slash));
  if (!ip.ok) return ip;
  const lenText = text.slice(slash + 1);
  const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  const bits = BITS[ip.value.family];
  if (!(len >= 0 && len <= bits)) return { ok: false, message: `${text} has an invalid prefix length (0..${bits})` };
  const network = ip.value.value & prefixMask(ip.value.family, len);
  const canonical = `${bigToText(network, ip.value.family)}/${len}`;
  if (network !== ip.value.value) return { ok: false, message: `${text} has host bits set (did you mean ${canonical}?)` };
  return { ok: true, value: { family: ip.value.family, network, prefixLength: len, text: canonical } };
}

export function prefixMask(family: Family, len: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return len === 0 ? 0n : (all << (bits - BigInt(len))) & all;
}

export function cidrContains(cidr: ParsedCidr, ip: ParsedIp): boolean {
  return cidr.family === ip.family && (ip.value & prefixMask(cidr.family, cidr.prefixLength)) === cidr.network;
}

/** True when one prefix contains the other (or they are equal). */
export function cidrOverlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family) return false;
  const len = Math.min(a.prefixLength, b.prefixLength);
  const m = prefixMask(a.family, len);
  return (a.network & m) === (b.network & m);
}

/** Last address of the prefix (IPv4 broadcast address). */
export function cidrLast(cidr: ParsedCidr): bigint {
  const bits = BigInt(BITS[cidr.family]);
  return cidr.network | ((1n << (bits - BigInt(cidr.prefixLength))) - 1n);
}

export function bytesToBig(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function bigToText(v: bigint, family: Family): string {
  const n = BITS[family] / 8;
  const bytes: number[] = new Array(n);
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  const a = ipaddr.fromByteArray(bytes);
  return a.kind() === 'ipv6' ? (a as ipaddr.IPv6).toRFC5952String() : a.toString();
}

/** Canonical text of an address, or undefined when it does not parse. */
export function canonicalIp(text: string): string | undefined {
  const p = parseIp(text);
  return p.ok ? p.value.text : undefined;
}
