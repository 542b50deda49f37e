// Address families (AFI/SAFI, RFC 4760) by the names edgeflow uses in config and JSON.
// Unknown pairs are written "AFI/SAFI" (e.g. "1/133") and carried as raw bytes.

export type KnownFamily =
  | 'ipv4-unicast'
  | 'ipv6-unicast'
  | 'ipv4-multicast'
  | 'ipv6-multicast'
  | 'ipv4-labeled-unicast'
  | 'ipv6-labeled-unicast'
  | 'ipv4-vpn'
  | 'ipv6-vpn'
  | 'l2vpn-evpn';
export type Family = KnownFamily | `${number}/${number}`;

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const AFI_L2VPN = 25;
export const SAFI_UNICAST = 1;
export const SAFI_MULTICAST = 2;
export const SAFI_LABELED = 4;
export const SAFI_EVPN = 70;
export const SAFI_VPN = 128;

const TABLE: Array<[KnownFamily, number, number]> = [
  ['ipv4-unicast', AFI_IPV4, SAFI_UNICAST],
  ['ipv6-unicast', AFI_IPV6, SAFI_UNICAST],
  ['ipv4-multicast', AFI_IPV4, SAFI_MULTICAST],
  ['ipv6-multicast', AFI_IPV6, SAFI_MULTICAST],
  ['ipv4-labeled-unicast', AFI_IPV4, SAFI_LABELED],
  ['ipv6-labeled-unicast', AFI_IPV6, SAFI_LABELED],
  ['ipv4-vpn', AFI_IPV4, SAFI_VPN],
  ['ipv6-vpn', AFI_IPV6, SAFI_VPN],
  ['l2vpn-evpn', AFI_L2VPN, SAFI_EVPN],
];
const BY_CODE = new Map<number, KnownFamily>(TABLE.map(([n, a, s]) => [(a << 8) | s, n]));
const BY_NAME = new Map<string, [number, number]>(TABLE.map(([n, a, s]) => [n, [a, s]]));

export const KNOWN_FAMILIES: readonly KnownFamily[] = TABLE.map(([n]) => n);

export function familyOf(afi: number, safi: number): Family {
  return BY_CODE.get((afi << 8) | safi) ?? `${afi}/${safi}`;
}

/** AFI and SAFI of a family name; throws on an unknown name. */
export function afiSafi(family: string): [number, number] {
  const known = BY_NAME.get(family);
  if (known) return known;
  const m = /^(\d{1,5})\/(\d{1,3})$/.exec(family);
  if (m && Number(m[1]) <= 0xffff && Number(m[2]) <= 0xff) return [Number(m[1]), Number(m[2])];
  throw new TypeError(`unknown address family "${family}" (expected one of ${KNOWN_FAMILIES.join(', ')} or AFI/SAFI)`);
}

export function isFamily(s: string): s is Family {
  try {
    afiSafi(s);
    return true;
  } catch {
    return false;
  }
}

/** Whether the family's NLRI/next hops are IPv6. */
export function isIPv6Family(f: Family): boolean {
  return f.startsWith('ipv6-') || f.startsWith('2/');
}
