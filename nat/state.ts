// What we own in nftables, as data: the fixed skeleton (maps, chains, rules of table
// `inet <name>`) plus the elements and SNAT rules computed from a validated desired
// state. `render()` prints it as one declarative nft text (golden-tested); diff.ts turns
// the difference with the kernel into a minimal transaction.
//
// Packet path (inet family, so one table serves IPv4 and IPv6):
//   raw_pre    (-300) packets from a tenant interface get the tenant's conntrack zone,
//                     original direction only, so replies from outside find them again
//   mangle_pre (-150) fwmark = tenant of the flow's zone, or of the FIP it is sent to;
//                     `ip rule fwmark → table base+zone` routes into the right tenant
//   nat_pre    (-100) DNAT FIP → fixed IP (map lookup, O(1))
//   nat_post   (+100) for tenant flows leaving by the external interface or hairpinned:
//                     SNAT (zone, fixed IP) → FIP, else the tenant's SNAT address

import { fipElements, type Element } from './fip/elements.js';
import { snatRules, tenantElements, type NftRule } from './snat/rules.js';
import type { Validated } from './validate.js';

export const MAP_DECL = {
  zone_by_iface: 'typeof iifname : ct zone',
  zone_mark: 'typeof ct original zone : meta mark',
  fip4_dnat: 'type ipv4_addr : ipv4_addr',
  fip4_snat: 'typeof ct original zone . ip saddr : ip saddr',
  fip4_mark: 'type ipv4_addr : mark',
  fip6_dnat: 'type ipv6_addr : ipv6_addr',
  fip6_snat: 'typeof ct original zone . ip6 saddr : ip6 saddr',
  fip6_mark: 'type ipv6_addr : mark',
} as const;
export type MapName = keyof typeof MAP_DECL;
export const MAP_NAMES = Object.keys(MAP_DECL) as MapName[];

export const CHAIN_DECL = {
  raw_pre: 'type filter hook prerouting priority raw; policy accept;',
  mangle_pre: 'type filter hook prerouting priority mangle; policy accept;',
  nat_pre: 'type nat hook prerouting priority dstnat; policy accept;',
  nat_post: 'type nat hook postrouting priority srcnat; policy accept;',
  snat_tenants: '',
} as const;
export type ChainName = keyof typeof CHAIN_DECL;
export const CHAIN_NAMES = Object.keys(CHAIN_DECL) as ChainName[];

/** Desired (or read-back) content of our table. Map elements: key text → value text. */
export interface NftDesired {
  maps: Record<MapName, Map<string, string>>;
  chains: Record<ChainName, NftRule[]>;
}

/** Bump when the skeleton rules change: the comments differ, so diff rewrites the chains. */
const V = 'efn:v1';

export function skeletonRules(externalInterface: string): Record<Exclude<ChainName, 'snat_tenants'>, NftRule[]> {
  return {
    raw_pre: [{ text: 'ct original zone set iifname map @zone_by_iface', comment: `${V}:zone` }],
    mangle_pre: [
      { text: 'meta mark set ct original zone map @zone_mark', comment: `${V}:tenant-mark` },
      { text: 'ct direction original meta mark set ip daddr map @fip4_mark', comment: `${V}:fip4-mark` },
      { text: 'ct direction original meta mark set ip6 daddr map @fip6_mark', comment: `${V}:fip6-mark` },
    ],
    nat_pre: [
      { text: 'dnat ip to ip daddr map @fip4_dnat', comment: `${V}:dnat4` },
      { text: 'dnat ip6 to ip6 daddr map @fip6_dnat', comment: `${V}:dnat6` },
    ],
    nat_post: [
      { text: 'ct original zone 0 return', comment: `${V}:not-tenant` },
      { text: `oifname != "${externalInterface}" ct status & dnat == 0 return`, comment: `${V}:gate:${externalInterface}` },
      { text: 'snat ip to ct original zone . ip saddr map @fip4_snat', comment: `${V}:fip-snat4` },
      { text: 'snat ip6 to ct original zone . ip6 saddr map @fip6_snat', comment: `${V}:fip-snat6` },
      { text: 'jump snat_tenants', comment: `${V}:snat` },
    ],
  };
}

export function emptyMaps(): Record<MapName, Map<string, string>> {
  return Object.fromEntries(MAP_NAMES.map((m) => [m, new Map<string, string>()])) as Record<MapName, Map<string, string>>;
}

/** Everything the validated desired state needs in our table. */
export function buildNft(v: Validated, externalInterface: string): NftDesired {
  const maps = emptyMaps();
  const put = (e: Element<MapName>): void => void maps[e.map].set(e.key, e.value);
  for (const t of v.tenants) tenantElements(t).forEach(put);
  for (const f of v.fips) fipElements(f).forEach(put);
  const snat = [...v.tenants].sort((a, b) => a.zone - b.zone).flatMap(snatRules);
  return { maps, chains: { ...skeletonRules(externalInterface), snat_tenants: snat } };
}

function ruleLine(r: NftRule): string {
  return `${r.text} comment "${r.comment}"`;
}
export { ruleLine };

/** Sort element keys so output does not depend on insertion order. */
export function sortedEntries(m: Map<string, string>): Array<[string, string]> {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The whole table as declarative nft text (for golden tests, logs and a fresh `nft -f`). */
export function render(d: NftDesired, table: string): string {
  const out: string[] = [`table inet ${table} {`];
  for (const m of MAP_NAMES) {
    out.push(`\tmap ${m} {`, `\t\t${MAP_DECL[m]}`);
    const els = sortedEntries(d.maps[m]);
    if (els.length) out.push(`\t\telements = { ${els.map(([k, v]) => `${k} : ${v}`).join(',\n\t\t\t     ')} }`);
    out.push('\t}');
  }
  for (const c of CHAIN_NAMES) {
    out.push(`\tchain ${c} {`);
    if (CHAIN_DECL[c]) out.push(`\t\t${CHAIN_DECL[c]}`);
    for (const r of d.chains[c]) out.push(`\t\t${ruleLine(r)}`);
    out.push('\t}');
  }
  out.push('}');
  return out.join('\n') + '\n';
}
