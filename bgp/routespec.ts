// Route objects as operators write them (speaker config, REST, the agent's dynrouting):
//   { prefix: 198.51.100.7/32, nextHop: 192.0.2.20, communities: ["65000:100"] }
//   { family: ipv4-vpn, prefix, nextHop, rd: "65020:10", routeTargets: ["65000:10"], label: 100 }
//   { family: l2vpn-evpn, routeType: 5, prefix, nextHop, rd, routeTargets, vni: 5020, routerMac }
// and their conversion to the codec's NLRI and path attributes. Validation names the field.
import {
  parsePrefix, parseIP, parseRd, parseAdminValue, parseCommunity, parseLargeCommunity, parseMac, EncodeError,
  type ExtendedCommunity, type Family, type Nlri, type PathAttribute,
} from './codec/index.js';

export type RouteFamily = 'ipv4-unicast' | 'ipv6-unicast' | 'ipv4-vpn' | 'ipv6-vpn' | 'l2vpn-evpn';
export const ROUTE_FAMILIES: readonly RouteFamily[] = ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'ipv6-vpn', 'l2vpn-evpn'];

export interface RouteSpec {
  /** Defaults to ipv4-unicast or ipv6-unicast by the prefix. */
  family?: RouteFamily;
  prefix: string;
  /** Defaults to the speaker's own address on the session (next-hop self). */
  nextHop?: string;
  /** VPN and EVPN: route distinguisher and route targets. */
  rd?: string;
  routeTargets?: string[];
  /** VPN: MPLS label (20 bits). */
  label?: number;
  /** EVPN: only route type 5 (IP prefix) is originated from specs. */
  routeType?: 5;
  vni?: number;
  routerMac?: string;
  /** EVPN gateway IP (RFC 9136), default 0.0.0.0 / :: */
  gateway?: string;
  communities?: string[];
  largeCommunities?: string[];
  extendedCommunities?: ExtendedCommunity[];
  localPref?: number;
  med?: number;
  /** ASNs put in front of the AS_PATH (e.g. our own ASN repeated to make a backup path). */
  asPathPrepend?: number[];
  origin?: 'IGP' | 'EGP' | 'INCOMPLETE';
}

/** A route ready for the RIB: family, one NLRI and the attributes we originate it with. */
export interface CodecRoute {
  family: Family;
  nlri: Nlri;
  /** Next hop text (IPv4 or IPv6) or undefined for next-hop self. */
  nextHop?: string;
  attributes: PathAttribute[];
}

export class RouteSpecError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'RouteSpecError';
  }
}

const VXLAN_TUNNEL_TYPE = 8; // RFC 9012 §14.3 / RFC 8365

function fail(field: string, message: string): never {
  throw new RouteSpecError(field, message);
}

function check<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RouteSpecError) throw err;
    const msg = err instanceof EncodeError ? err.message.replace(/^[^:]*: /, '') : (err as Error).message;
    return fail(field, msg);
  }
}

/** The family a spec stands for. */
export function routeFamily(spec: RouteSpec): RouteFamily {
  if (spec.family !== undefined) {
    if (!ROUTE_FAMILIES.includes(spec.family)) fail('family', `"${spec.family}" is not one of ${ROUTE_FAMILIES.join(', ')}`);
    return spec.family;
  }
  return typeof spec.prefix === 'string' && spec.prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

/** Validates a spec and converts it; throws RouteSpecError naming the field. */
export function toCodecRoute(spec: RouteSpec): CodecRoute {
  if (!spec || typeof spec !== 'object') fail('route', 'must be an object');
  const family = routeFamily(spec);
  if (typeof spec.prefix !== 'string') fail('prefix', 'is required');
  const p = check('prefix', () => parsePrefix(spec.prefix));
  const v6 = family === 'ipv6-unicast' || family === 'ipv6-vpn' || (family === 'l2vpn-evpn' && p.v6);
  if (p.v6 !== v6) fail('prefix', `"${spec.prefix}" is not an ${v6 ? 'IPv6' : 'IPv4'} prefix for ${family}`);
  if (spec.nextHop !== undefined) check('nextHop', () => parseIP(spec.nextHop!));
  const ext: ExtendedCommunity[] = [];
  let nlri: Nlri;
  switch (family) {
    case 'ipv4-unicast':
    case 'ipv6-unicast':
      nlri = { prefix: spec.prefix };
      break;
    case 'ipv4-vpn':
    case 'ipv6-vpn': {
      if (spec.rd === undefined) fail('rd', `is required for ${family}`);
      check('rd', () => parseRd(spec.rd!));
      const label = spec.label ?? 3; // implicit null when the operator gives none
      if (!Number.isInteger(label) || label < 0 || label > 0xfffff) fail('label', `${label} is not a 20-bit MPLS label`);
      nlri = { rd: spec.rd, prefix: spec.prefix, labels: [label] };
      break;
    }
    case 'l2vpn-evpn': {
      if ((spec.routeType ?? 5) !== 5) fail('routeType', 'only EVPN route type 5 (IP prefix) can be originated');
      if (spec.rd === undefined) fail('rd', 'is required for l2vpn-evpn');
      check('rd', () => parseRd(spec.rd!));
      const vni = spec.vni;
      if (vni === undefined || !Number.isInteger(vni) || vni < 1 || vni > 0xffffff) fail('vni', `${vni} is not a 24-bit VNI`);
      const gateway = spec.gateway ?? (v6 ? '::' : '0.0.0.0');
      check('gateway', () => parseIP(gateway));
      nlri = { routeType: 5, rd: spec.rd, esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, prefix: spec.prefix, gateway, label: vni };
      ext.push({ type: 'encapsulation', tunnelType: VXLAN_TUNNEL_TYPE });
      if (spec.routerMac !== undefined) {
        check('routerMac', () => parseMac(spec.routerMac!));
        ext.push({ type: 'router-mac', mac: spec.routerMac.toLowerCase() });
      }
      break;
    }
  }
  if (family !== 'ipv4-unicast' && family !== 'ipv6-unicast') {
    if (!Array.isArray(spec.routeTargets) || spec.routeTargets.length === 0) fail('routeTargets', `at least one route target is required for ${family}`);
  }
  const rts: ExtendedCommunity[] = (spec.routeTargets ?? []).map((rt, i) => {
    check(`routeTargets[${i}]`, () => parseAdminValue(rt, 'routeTargets'));
    return { type: 'route-target', value: rt };
  });
  ext.unshift(...rts);
  const attributes: PathAttribute[] = [{ type: 'ORIGIN', value: spec.origin ?? 'IGP' }];
  if (!['IGP', 'EGP', 'INCOMPLETE'].includes(spec.origin ?? 'IGP')) fail('origin', 'must be IGP, EGP or INCOMPLETE');
  const prepend = spec.asPathPrepend ?? [];
  if (!Array.isArray(prepend) || prepend.some((a) => !Number.isInteger(a) || a < 1 || a > 0xffffffff)) fail('asPathPrepend', 'must be a list of ASNs');
  attributes.push({ type: 'AS_PATH', segments: prepend.length ? [{ type: 'AS_SEQUENCE', asns: prepend }] : [] });
  if (spec.med !== undefined) {
    if (!Number.isInteger(spec.med) || spec.med < 0 || spec.med > 0xffffffff) fail('med', 'must be 0..4294967295');
    attributes.push({ type: 'MULTI_EXIT_DISC', value: spec.med });
  }
  if (spec.localPref !== undefined) {
    if (!Number.isInteger(spec.localPref) || spec.localPref < 0 || spec.localPref > 0xffffffff) fail('localPref', 'must be 0..4294967295');
    attributes.push({ type: 'LOCAL_PREF', value: spec.localPref });
  }
  if (spec.communities?.length) {
    spec.communities.forEach((c, i) => check(`communities[${i}]`, () => parseCommunity(c)));
    attributes.push({ type: 'COMMUNITIES', values: spec.communities.slice() });
  }
  for (const c of spec.extendedCommunities ?? []) ext.push(c);
  if (ext.length) attributes.push({ type: 'EXTENDED_COMMUNITIES', values: ext });
  if (spec.largeCommunities?.length) {
    spec.largeCommunities.forEach((c, i) => check(`largeCommunities[${i}]`, () => parseLargeCommunity(c)));
    attributes.push({ type: 'LARGE_COMMUNITIES', values: spec.largeCommunities.slice() });
  }
  return { family, nlri, nextHop: spec.nextHop, attributes };
}

/** The identity of a spec's route (family + NLRI without path ID), used to replace or delete it. */
export function routeSpecKey(spec: RouteSpec): string {
  const family = routeFamily(spec);
  if (family === 'ipv4-unicast' || family === 'ipv6-unicast') return `${family}|${spec.prefix}`;
  if (family === 'l2vpn-evpn') return `${family}|5|${spec.rd}|0|${spec.prefix}`;
  return `${family}|${spec.rd}|${spec.prefix}`;
}
