// Route identity: one key per (family, NLRI without its path ID). Unicast and multicast
// keys are the prefix text; labeled unicast the prefix (the label is a property of the
// path, RFC 8277 §2); VPN "rd|prefix" (RFC 4364 §4.1); EVPN the fields RFC 7432 §7 and
// RFC 9136 §3 name as the route key: "type|rd|…". Keys are family-less inside a family
// table; `qualifiedKey` adds the family for display ("ipv4-unicast|198.51.100.7/32").
import type { EvpnNlri, Family, LabeledNlri, Nlri, PrefixNlri, VpnNlri } from '../codec/index.js';

/** Families whose NLRI is exactly its prefix (the key alone rebuilds it). */
const PLAIN = new Set<Family>(['ipv4-unicast', 'ipv6-unicast', 'ipv4-multicast', 'ipv6-multicast']);

export function isPlainFamily(f: Family): boolean {
  return PLAIN.has(f);
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

export function routeKey(family: Family, n: Nlri): string {
  switch (family) {
    case 'ipv4-unicast':
    case 'ipv6-unicast':
    case 'ipv4-multicast':
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

export function qualifiedKey(family: Family, key: string): string {
  return `${family}|${key}`;
}

/** The NLRI without its path ID (what a path keeps for families whose key does not rebuild it). */
export function stripPathId(n: Nlri): Nlri {
  if (n.pathId === undefined) return n;
  const { pathId: _drop, ...rest } = n;
  return rest as Nlri;
}

/** The prefix a policy prefix-list looks at: unicast, labeled, VPN and EVPN type 5 have one. */
export function prefixOf(family: Family, key: string, nlri: Nlri | undefined): string | undefined {
  if (PLAIN.has(family)) return key;
  if (!nlri) return undefined;
  if ('prefix' in nlri && typeof nlri.prefix === 'string') return nlri.prefix;
  return undefined;
}
