// Intent → the exact set of routes one BGP speaker must originate (issue 5):
//   - FIP host routes (/32, /128) with next hop = the hosting chassis' uplink;
//   - hot-standby FIPs as backup paths: AS_PATH prepended with our ASN
//     (standbyAsPathPrepend times) AND the `standby` communities, whichever are
//     configured — prepending works with any RFC 4271 peer (shorter AS_PATH wins,
//     §9.1.2.2 b), the community lets a ToR route-map set a lower LOCAL_PREF;
//   - the chassis' SNAT addresses;
//   - tenant prefixes in the address scope of an external network (no NAT);
//   - for tenants with a VRF, the same FIP and tenant routes as VPNv4/VPNv6
//     (RFC 4364, 4659: RD, export RTs, label) or EVPN type-5 (RFC 9136: RD, RTs,
//     VNI, router MAC), in addition to or instead of unicast;
//   - central mode (Neutron dynamic routing style): one speaker originates every
//     chassis' FIPs and SNAT addresses with a third-party next hop (RFC 4271 §5.1.3).
// Communities per route class (RFC 1997; A:B:C ones go out as RFC 8092 large
// communities). Output is sorted and deduplicated by routeSpecKey, so equal intent
// always gives byte-equal output. Pure.
import type { Chassis, FloatingIp, Tenant } from '../store/model.js';
import { isEvpnVrf } from '../store/model.js';
import { parseCidr, parseIp } from '../store/address.js';
import { ROUTE_FAMILIES, routeFamily, routeSpecKey, type RouteSpec } from '../bgp/routespec.js';
import { IntentIndex, cmpStr, type DynroutingOptions, type EffectiveSettings, type Intent } from './intent.js';
import { fipRole, placeFip, type FipRole } from './placement.js';

/** Route classes, in the order that wins when two routes have the same key. */
export type RouteClass = 'fip' | 'fip-draining' | 'snat' | 'fip-standby' | 'tenant';
const CLASS_RANK: Record<RouteClass, number> = { fip: 0, 'fip-draining': 1, snat: 2, 'fip-standby': 3, tenant: 4 };

/** A route with why it is there (for logs, the status endpoint and tests). */
export interface PlannedRoute {
  spec: RouteSpec;
  class: RouteClass;
  /** The object it comes from: `floatingip/<id>`, `chassis/<name>`, `tenant/<id>`. */
  source: string;
}

/** Something in the intent that could not be turned into a route (never fatal). */
export interface Skipped {
  source: string;
  reason: string;
}

export interface RoutePlan {
  routes: PlannedRoute[];
  skipped: Skipped[];
}

function toIndex(i: Intent | IntentIndex): IntentIndex {
  return i instanceof IntentIndex ? i : new IntentIndex(i);
}

function isV6(addr: string): boolean {
  return addr.includes(':');
}

function hostPrefix(addr: string): string {
  return `${addr}/${isV6(addr) ? 128 : 32}`;
}

/**
 * Next hop toward `chassis` for a route of this address family: the IPv4 uplink for
 * IPv4 routes (or the IPv6 one via RFC 8950 when the chassis has no IPv4 uplink), the
 * IPv6 uplink for IPv6 routes, else the IPv4 uplink as an IPv4-mapped IPv6 address
 * (RFC 4659 §3.2.1.1, RFC 4798). EVPN (RFC 9136 §3.1) uses the VTEP address as is.
 */
export function nextHopFor(chassis: Chassis, v6Route: boolean, evpn = false): string {
  const up = chassis.uplinkIp;
  if (evpn) return up;
  if (!v6Route) return up;
  if (chassis.uplinkIpv6) return chassis.uplinkIpv6;
  return isV6(up) ? up : `::ffff:${up}`;
}

/** Splits configured communities into standard (A:B, well-known names) and large (A:B:C). */
function communityAttrs(list: readonly string[]): Pick<RouteSpec, 'communities' | 'largeCommunities'> {
  const std: string[] = [];
  const large: string[] = [];
  for (const c of list) {
    const target = c.split(':').length === 3 ? large : std;
    if (!target.includes(c)) target.push(c);
  }
  return { ...(std.length ? { communities: std } : {}), ...(large.length ? { largeCommunities: large } : {}) };
}

interface Attrs {
  communities: readonly string[];
  prepend: number[];
}

function unicastRoute(prefix: string, nextHop: string, a: Attrs): RouteSpec {
  return {
    family: isV6(prefix) ? 'ipv6-unicast' : 'ipv4-unicast',
    prefix,
    nextHop,
    ...communityAttrs(a.communities),
    ...(a.prepend.length ? { asPathPrepend: a.prepend } : {}),
  };
}

function vrfRoute(tenant: Tenant, prefix: string, chassis: Chassis, a: Attrs): RouteSpec {
  const vrf = tenant.vrf!;
  const v6 = isV6(prefix);
  const common = { ...communityAttrs(a.communities), ...(a.prepend.length ? { asPathPrepend: a.prepend } : {}) };
  if (isEvpnVrf(vrf)) {
    return {
      family: 'l2vpn-evpn', routeType: 5, prefix, nextHop: nextHopFor(chassis, v6, true),
      rd: vrf.rd, routeTargets: [...vrf.exportRts], vni: vrf.vni, routerMac: vrf.routerMac, ...common,
    };
  }
  return {
    family: v6 ? 'ipv6-vpn' : 'ipv4-vpn', prefix, nextHop: nextHopFor(chassis, v6),
    rd: vrf.rd, routeTargets: [...vrf.exportRts], ...(vrf.label !== undefined ? { label: vrf.label } : {}), ...common,
  };
}

/** Unicast and/or VRF routes for one prefix of a tenant, per settings. */
function tenantAware(tenant: Tenant | undefined, prefix: string, chassis: Chassis, a: Attrs, s: EffectiveSettings, source: string, skipped: Skipped[]): RouteSpec[] {
  const out: RouteSpec[] = [];
  const hasVrf = tenant?.vrf !== undefined;
  if (hasVrf && tenant!.vrf!.exportRts.length === 0) {
    skipped.push({ source, reason: `tenant ${tenant!.id} has a VRF without export route targets: no VPN/EVPN route for ${prefix}` });
  } else if (hasVrf) out.push(vrfRoute(tenant!, prefix, chassis, a));
  if (!hasVrf || s.vrfRoutes === 'add') out.push(unicastRoute(prefix, nextHopFor(chassis, isV6(prefix)), a));
  return out;
}

function prepend(chassis: Chassis, s: EffectiveSettings): number[] {
  return new Array<number>(s.standbyAsPathPrepend).fill(chassis.localAsn);
}

function fipRoutes(ix: IntentIndex, fip: FloatingIp, role: Exclude<FipRole, 'none'>, host: Chassis, s: EffectiveSettings, skipped: Skipped[]): PlannedRoute[] {
  const source = `floatingip/${fip.id}`;
  const net = ix.networks.get(fip.network);
  if (net && net.mode === 'l2') return []; // l2: the FIP is answered by ARP/NDP on the shared segment
  const standby = role === 'standby';
  const a: Attrs = {
    communities: [...(s.communities.fip ?? []), ...(standby ? s.communities.standby ?? [] : [])],
    prepend: standby ? prepend(host, s) : [],
  };
  const cls: RouteClass = role === 'active' ? 'fip' : role === 'draining' ? 'fip-draining' : 'fip-standby';
  return tenantAware(ix.tenants.get(fip.tenant), hostPrefix(fip.address), host, a, s, source, skipped).map((spec) => ({ spec, class: cls, source }));
}

function snatRoutes(host: Chassis, s: EffectiveSettings): PlannedRoute[] {
  const a: Attrs = { communities: s.communities.snat ?? [], prepend: [] };
  return host.snatAddresses.map((addr) => ({
    spec: unicastRoute(hostPrefix(addr), nextHopFor(host, isV6(addr)), a),
    class: 'snat' as const,
    source: `chassis/${host.name}`,
  }));
}

/**
 * Tenant prefixes to advertise from `host`: unicast for subnets in the address scope of
 * an external network of the same IP family (Neutron address scopes: no NAT between
 * them); into the tenant's VRF, when it has one, every subnet (a VRF is the tenant's
 * own routing domain).
 */
function tenantRoutes(ix: IntentIndex, tenant: Tenant, host: Chassis, s: EffectiveSettings, skipped: Skipped[]): PlannedRoute[] {
  const source = `tenant/${tenant.id}`;
  const a: Attrs = { communities: s.communities.tenant ?? [], prepend: [] };
  const out: PlannedRoute[] = [];
  for (const subnet of tenant.subnets) {
    const fam = parseCidr(subnet);
    if (!fam.ok) continue;
    const scoped = tenant.addressScope !== undefined && [...ix.networks.values()].some((n) => {
      const c = parseCidr(n.cidr);
      return n.addressScope === tenant.addressScope && c.ok && c.value.family === fam.value.family;
    });
    const v6 = fam.value.family === 6;
    if (tenant.vrf) {
      if (tenant.vrf.exportRts.length === 0) skipped.push({ source, reason: `tenant ${tenant.id} has a VRF without export route targets: no VPN/EVPN route for ${subnet}` });
      else out.push({ spec: vrfRoute(tenant, subnet, host, a), class: 'tenant', source });
    }
    if (scoped && (!tenant.vrf || s.vrfRoutes === 'add')) out.push({ spec: unicastRoute(subnet, nextHopFor(host, v6), a), class: 'tenant', source });
  }
  return out;
}

/** Sorts by family, RD, prefix (numerically), and keeps the first route of each key by class rank. */
function finish(routes: PlannedRoute[], skipped: Skipped[]): RoutePlan {
  const byKey = new Map<string, PlannedRoute>();
  const ordered = [...routes].sort((x, y) => CLASS_RANK[x.class] - CLASS_RANK[y.class] || cmpStr(x.source, y.source));
  for (const r of ordered) {
    const k = routeSpecKey(r.spec);
    const had = byKey.get(k);
    if (had) {
      if (had.source !== r.source) skipped.push({ source: r.source, reason: `${k} is already advertised for ${had.source}` });
      continue;
    }
    byKey.set(k, r);
  }
  const out = sortBy([...byKey.values()], (r) => r.spec);
  skipped.sort((x, y) => cmpStr(x.source, y.source) || cmpStr(x.reason, y.reason));
  return { routes: out, skipped };
}

/** What routes sort by, parsed once per route (parsing in the comparator cost 340 ms for 10,000). */
interface OrderKey {
  spec: RouteSpec;
  family: number;
  rd: string;
  /** Address family of the prefix (4, 6; 9 when unparsable), its value and length. */
  af: number;
  value: number | bigint;
  len: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function orderKey(spec: RouteSpec): OrderKey {
  const slash = spec.prefix.indexOf('/');
  const addr = slash < 0 ? spec.prefix : spec.prefix.slice(0, slash);
  const len = slash < 0 ? 0 : Number(spec.prefix.slice(slash + 1));
  const family = ROUTE_FAMILIES.indexOf(routeFamily(spec));
  const rd = spec.rd ?? '';
  const m = V4.exec(addr);
  if (m && +m[1]! < 256 && +m[2]! < 256 && +m[3]! < 256 && +m[4]! < 256) return { spec, family, rd, af: 4, value: ((+m[1]! * 256 + +m[2]!) * 256 + +m[3]!) * 256 + +m[4]!, len };
  const ip = parseIp(addr);
  return ip.ok ? { spec, family, rd, af: ip.value.family, value: ip.value.value, len } : { spec, family, rd, af: 9, value: 0, len: 0 };
}

function compareKeys(a: OrderKey, b: OrderKey): number {
  if (a.family !== b.family) return a.family - b.family;
  const rd = cmpStr(a.rd, b.rd);
  if (rd) return rd;
  if (a.af !== b.af) return a.af - b.af;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  if (a.len !== b.len) return a.len - b.len;
  return cmpStr(routeSpecKey(a.spec), routeSpecKey(b.spec));
}

/** Total order on routes: family, RD, prefix (address family, value, length). */
export function compareRoutes(a: RouteSpec, b: RouteSpec): number {
  return compareKeys(orderKey(a), orderKey(b));
}

/** `items` sorted by compareRoutes of their route, each route's key parsed once. */
export function sortBy<T>(items: readonly T[], spec: (item: T) => RouteSpec): T[] {
  const keyed = items.map((item) => ({ item, key: orderKey(spec(item)) }));
  keyed.sort((x, y) => compareKeys(x.key, y.key));
  return keyed.map((k) => k.item);
}

/** Routes sorted by compareRoutes (a new array). */
export function sortRoutes(routes: readonly RouteSpec[]): RouteSpec[] {
  return sortBy(routes, (r) => r);
}

/** Tenants with at least one port bound to `chassis`. */
export function localTenants(ix: IntentIndex, chassis: string): Tenant[] {
  const ids = new Set<string>();
  for (const p of ix.ports.values()) if (p.chassis === chassis) ids.add(p.tenant);
  return [...ids].sort(cmpStr).flatMap((id) => {
    const t = ix.tenants.get(id);
    return t ? [t] : [];
  });
}

/** Full plan for the speaker of one chassis (per-chassis mode); empty when the chassis' settings say central. */
export function planChassisRoutes(intent: Intent | IntentIndex, chassis: string, opts: DynroutingOptions = {}): RoutePlan {
  const ix = toIndex(intent);
  const host = ix.chassis.get(chassis);
  const skipped: Skipped[] = [];
  if (!host) return { routes: [], skipped: [{ source: `chassis/${chassis}`, reason: 'this chassis is not in the intent store' }] };
  const s = ix.settingsFor(chassis, opts);
  if (s.mode === 'central') return { routes: [], skipped: [] };
  const routes: PlannedRoute[] = [];
  if (s.advertiseFipHostRoutes) {
    for (const fip of ix.fips) {
      const role = fipRole(ix, fip, chassis);
      if (role !== 'none') routes.push(...fipRoutes(ix, fip, role, host, s, skipped));
    }
  }
  if (s.advertiseSnatAddresses) routes.push(...snatRoutes(host, s));
  if (s.advertiseTenantPrefixes) for (const t of localTenants(ix, chassis)) routes.push(...tenantRoutes(ix, t, host, s, skipped));
  return finish(routes, skipped);
}

/** The routes the speaker on `chassis` must originate, sorted. */
export function routesForChassis(intent: Intent | IntentIndex, chassis: string, opts: DynroutingOptions = {}): RouteSpec[] {
  return planChassisRoutes(intent, chassis, opts).routes.map((r) => r.spec);
}

/**
 * Central mode: one speaker originates every FIP of every chassis (and each chassis'
 * SNAT addresses) with a third-party next hop = the carrying chassis' uplink. During a
 * move the next hop stays on the old chassis until the new one confirms (placement.ts).
 * Standby paths are not originated (one route per key); tenant prefixes neither (they
 * live on many chassis at once). `settingsId` picks the settings (default `default`).
 */
export function planCentralRoutes(intent: Intent | IntentIndex, opts: DynroutingOptions & { settingsId?: string } = {}): RoutePlan {
  const ix = toIndex(intent);
  const s = ix.settingsFor(opts.settingsId ?? 'default', opts);
  const skipped: Skipped[] = [];
  const routes: PlannedRoute[] = [];
  if (s.advertiseFipHostRoutes) {
    for (const fip of ix.fips) {
      const p = placeFip(ix, fip);
      if (!p.carrier) continue;
      const host = ix.chassis.get(p.carrier);
      if (!host) {
        skipped.push({ source: `floatingip/${fip.id}`, reason: `chassis ${p.carrier} is not in the intent store` });
        continue;
      }
      routes.push(...fipRoutes(ix, fip, p.moving ? 'draining' : 'active', host, s, skipped));
    }
  }
  if (s.advertiseSnatAddresses) for (const c of [...ix.chassis.values()].sort((a, b) => cmpStr(a.name, b.name))) routes.push(...snatRoutes(c, s));
  return finish(routes, skipped);
}

export function routesForCentral(intent: Intent | IntentIndex, opts: DynroutingOptions & { settingsId?: string } = {}): RouteSpec[] {
  return planCentralRoutes(intent, opts).routes.map((r) => r.spec);
}
