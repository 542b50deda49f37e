// Route identity: one key per (family, NLRI without its path ID). IPv4 unicast and
// multicast keys are numbers (a /32 is its address as an int32, a V8 small integer, so
// a million of them cost no heap object and no string hashing; other lengths are
// (len + 1) · 2^32 + address, exact in a double); IPv6 unicast and multicast keys are the
// prefix text; labeled unicast the prefix (the label is a property of the
// path, RFC 8277 §2); VPN "rd|prefix" (RFC 4364 §4.1); EVPN the fields RFC 7432 §7 and
// RFC 9136 §3 name as the route key: "type|rd|…". Keys are family-less inside a family
// table; `qualifiedKey` adds the family for display ("ipv4-unicast|198.51.100.7/32").
import { Prefix4, type EvpnNlri, type Family, type LabeledNlri, type Nlri, type PrefixNlri, type VpnNlri } from '../codec/index.js';

/** Families whose NLRI is exactly its prefix (the key alone rebuilds it). */
const PLAIN = new Set<Family>(['ipv4-unicast', 'ipv6-unicast', 'ipv4-multicast', 'ipv6-multicast']);

export function isPlainFamily(f: Family): boolean {
  return PLAIN.has(f);
}

/** A route's key inside its family table: a number for IPv4 unicast/multicast, text otherwise. */
export type RouteKey = string | number;

const TWO32 = 4294967296;

/** Families whose keys are numbers (see ipv4Key). */
export function isNumericFamily(f: Family): boolean {
  return f === 'ipv4-unicast' || f === 'ipv4-multicast';
}

/**
 * "a.b.c.d/len" as a number: a /32 is the address as an int32 (a small integer in V8),
 * any other length (len + 1) · 2^32 + address (≥ 2^32, so never an int32). Text that is not
 * a canonical IPv4 prefix stays text (it cannot come from the codec, which builds it).
 */
export function ipv4Key(s: string): RouteKey {
  let addr = 0;
  let octet = 0;
  let dots = 0;
  let digits = 0;
  let i = 0;
  const n = s.length;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 || c === 47) {
      if (digits === 0 || octet > 255) return s;
      addr = addr * 256 + octet;
      octet = 0;
      digits = 0;
      if (c === 47) break;
      dots++;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || digits === 3) return s;
      octet = octet * 10 + d;
      digits++;
    }
  }
  if (i === n || dots !== 3) return s;
  let len = 0;
  digits = 0;
  for (i++; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || digits === 2) return s;
    len = len * 10 + d;
    digits++;
  }
  if (digits === 0 || len > 32) return s;
  return len === 32 ? addr | 0 : (len + 1) * TWO32 + addr;
}

/** Prefix length and address of a numeric key. */
export function ipv4KeyParts(k: number): { addr: number; len: number } {
  if (k < 2147483648) return { addr: k >>> 0, len: 32 };
  const hi = Math.floor(k / TWO32);
  return { addr: k - hi * TWO32, len: hi - 1 };
}

/** Prefix length of a numeric key (no allocation). */
export function ipv4KeyLength(k: number): number {
  return k < 2147483648 ? 32 : Math.floor(k / TWO32) - 1;
}

/** Address of a numeric key as an unsigned 32-bit number. */
export function ipv4KeyAddress(k: number): number {
  return k < 2147483648 ? k >>> 0 : k % TWO32;
}

/** The text form of a key ("198.51.100.7/32"), as the API and views show it. */
export function keyText(k: RouteKey): string {
  if (typeof k === 'string') return k;
  const len = ipv4KeyLength(k);
  const a = ipv4KeyAddress(k);
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${len}`;
}

/** The key of a family's route given as text (API and test lookups: "198.51.100.7/32"). */
export function keyOf(family: Family, text: string): RouteKey {
  return isNumericFamily(family) ? ipv4Key(text) : text;
}

/** Add-path: one Adj-RIB-Out entry per (key, transmit path ID), as text "key\0id". */
export function compositeKey(k: RouteKey, id: number): string {
  return `${k}\u0000${id}`;
}

/** The key and path ID of a composite key (the key part of a numeric family is a number again). */
export function splitComposite(family: Family, ck: string): { key: RouteKey; id: number } {
  const sep = ck.indexOf('\u0000');
  const head = ck.slice(0, sep);
  const numeric = isNumericFamily(family) && /^-?\d+$/.test(head);
  return { key: numeric ? Number(head) : head, id: Number(ck.slice(sep + 1)) };
}

/**
 * The same text as one flat string. Decoded prefixes are built by concatenation (V8
 * cons strings, ~100 bytes for "198.51.100.7/32"); reading a character flattens them and
 * the garbage collector then drops the cons wrapper, so a key costs ~35 bytes.
 */
export function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

export function routeKey(family: Family, n: Nlri): RouteKey {
  switch (family) {
    case 'ipv4-unicast':
    case 'ipv4-multicast':
      // Decoded prefixes carry the address as a number: no text is made (RFC 4271 §4.3 wire form).
      if (n instanceof Prefix4) return n.len === 32 ? n.addr | 0 : (n.len + 1) * TWO32 + n.addr;
      return ipv4Key((n as PrefixNlri).prefix);
    case 'ipv6-unicast':
    case 'ipv6-multicast':
    case 'ipv4-labeled-unicast':
    case 'ipv6-labeled-unicast':
      return flat((n as PrefixNlri | LabeledNlri).prefix);
    case 'ipv4-vpn':
    case 'ipv6-vpn': {
      const v = n as VpnNlri;
      return flat(`${v.rd}|${v.prefix}`);
    }
    case 'l2vpn-evpn':
      return flat(evpnKey(n as EvpnNlri));
    default: {
      // Unknown families arrive raw; the whole value is the key.
      const { pathId: _drop, ...rest } = n as PrefixNlri;
      return JSON.stringify(rest);
    }
  }
}

function evpnKey(n: EvpnNlri): string {
  if ('value' in n) return `${n.routeType}|${n.value}`;
  switch (n.routeType) {
    case 1: return `1|${n.rd}|${n.esi}|${n.ethernetTag}`;
    case 2: return `2|${n.rd}|${n.ethernetTag}|${n.mac}|${n.ip ?? ''}`;
    case 3: return `3|${n.rd}|${n.ethernetTag}|${n.originatorIp}`;
    case 4: return `4|${n.rd}|${n.esi}|${n.originatorIp}`;
    case 5: return `5|${n.rd}|${n.ethernetTag}|${n.prefix}`;
  }
}

export function qualifiedKey(family: Family, key: RouteKey): string {
  return `${family}|${keyText(key)}`;
}

/** The NLRI without its path ID (what a path keeps for families whose key does not rebuild it). */
export function stripPathId(n: Nlri): Nlri {
  if (n.pathId === undefined) return n;
  const { pathId: _drop, ...rest } = n;
  return rest as Nlri;
}

/** The prefix a policy prefix-list looks at: unicast, labeled, VPN and EVPN type 5 have one. */
export function prefixOf(family: Family, key: RouteKey, nlri: Nlri | undefined): string | undefined {
  if (PLAIN.has(family)) return keyText(key);
  if (!nlri) return undefined;
  if ('prefix' in nlri && typeof nlri.prefix === 'string') return nlri.prefix;
  return undefined;
}
