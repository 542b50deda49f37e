// Locally originated routes as the speaker's config and REST API write them
// (`{ prefix, nextHop, communities, largeCommunities }`, VPN with rd/routeTargets/label
// (RFC 4364), EVPN type 5 with rd/routeTargets/vni/routerMac (RFC 9136, RFC 8365 VXLAN
// encapsulation, RFC 9135 router's MAC)) turned into a family, NLRI and attributes.
import {
  EncodeError, parseCommunity, parseLargeCommunity, parsePrefix, isFamily, formatCommunity,
  type ExtendedCommunity, type Family, type Nlri, type PathAttribute,
} from '../codec/index.js';
import { sortAttrs } from './attrs.js';

export interface RouteConfig {
  family?: Family;
  prefix: string;
  nextHop?: string;
  communities?: string[];
  largeCommunities?: string[];
  med?: number;
  localPref?: number;
  origin?: 'IGP' | 'EGP' | 'INCOMPLETE';
  asPath?: number[];
  /** VPN and EVPN. */
  rd?: string;
  routeTargets?: string[];
  /** VPN / labeled unicast MPLS label. */
  label?: number;
  /** EVPN. */
  routeType?: number;
  vni?: number;
  routerMac?: string;
  ethernetTag?: number;
  gateway?: string;
}

export interface LocalRoute {
  family: Family;
  nlri: Nlri;
  attrs: PathAttribute[];
  nextHop: string[];
}

const VXLAN = 8; // RFC 9012 tunnel type

export function routeFromConfig(r: RouteConfig): LocalRoute {
  if (!r || typeof r.prefix !== 'string') throw new EncodeError('prefix', 'a route needs a prefix');
  const p = parsePrefix(r.prefix);
  const family: Family = r.family ?? (p.v6 ? 'ipv6-unicast' : 'ipv4-unicast');
  if (!isFamily(family)) throw new EncodeError('family', `unknown family ${family}`);
  const attrs: PathAttribute[] = [
    { type: 'ORIGIN', value: r.origin ?? 'IGP' },
    { type: 'AS_PATH', segments: r.asPath?.length ? [{ type: 'AS_SEQUENCE', asns: r.asPath }] : [] },
  ];
  if (r.med !== undefined) attrs.push({ type: 'MULTI_EXIT_DISC', value: r.med });
  if (r.localPref !== undefined) attrs.push({ type: 'LOCAL_PREF', value: r.localPref });
  if (r.communities?.length) attrs.push({ type: 'COMMUNITIES', values: r.communities.map((c) => formatCommunity(parseCommunity(c))) });
  if (r.largeCommunities?.length) attrs.push({ type: 'LARGE_COMMUNITIES', values: r.largeCommunities.map((c) => parseLargeCommunity(c).join(':')) });
  const ext: ExtendedCommunity[] = (r.routeTargets ?? []).map((value) => ({ type: 'route-target', value }));
  let nlri: Nlri;
  const needRd = () => {
    if (!r.rd) throw new EncodeError('rd', `a ${family} route needs an rd`);
    return r.rd;
  };
  switch (family) {
    case 'ipv4-vpn':
    case 'ipv6-vpn':
      nlri = { rd: needRd(), prefix: r.prefix, labels: [r.label ?? 0] };
      break;
    case 'ipv4-labeled-unicast':
    case 'ipv6-labeled-unicast':
      nlri = { prefix: r.prefix, labels: [r.label ?? 3] };
      break;
    case 'l2vpn-evpn': {
      if ((r.routeType ?? 5) !== 5) throw new EncodeError('routeType', 'only EVPN route type 5 can be configured');
      nlri = {
        routeType: 5, rd: needRd(), esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: r.ethernetTag ?? 0,
        prefix: r.prefix, gateway: r.gateway ?? (p.v6 ? '::' : '0.0.0.0'), label: r.vni ?? r.label ?? 0,
      };
      ext.push({ type: 'encapsulation', tunnelType: VXLAN });
      if (r.routerMac) ext.push({ type: 'router-mac', mac: r.routerMac.toLowerCase() });
      break;
    }
    default:
      nlri = { prefix: r.prefix };
  }
  if (ext.length) attrs.push({ type: 'EXTENDED_COMMUNITIES', values: ext });
  return { family, nlri, attrs: sortAttrs(attrs), nextHop: r.nextHop ? [r.nextHop] : [] };
}
