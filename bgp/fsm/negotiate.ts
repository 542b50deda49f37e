// Capability negotiation and OPEN checks for one session, from our OPEN and the peer's:
// RFC 4271 §4.2/§6.2 (peer AS, BGP Identifier, hold time), RFC 6286 §2.2 (identifier
// rules), RFC 5492 §5 (Unsupported Capability data), RFC 4760 (families; no MP
// capability means IPv4 unicast only), RFC 6793 (4-octet AS, AS_TRANS), RFC 7911
// (add-path per family and direction), RFC 8654 (extended message), RFC 8950 (extended
// next hop), RFC 2918/7313 (route refresh, enhanced), RFC 4724/8538 (graceful restart,
// N bit), RFC 9494 (long-lived GR). Pure: OPENs and policy in, a Negotiated value (with
// the codec contexts for receive and send) or the BgpError to send out.
import { BgpError, ErrorCode, OpenSub, encodeMessage, openCapabilities, parseIPv4 } from '../codec/index.js';
import type { AddPathMode, Capability, CodecContext, Family, OpenMessage } from '../codec/index.js';

/** RFC 6793 §9: the 2-octet placeholder for a 4-octet ASN. */
export const AS_TRANS = 23456;

export type CapabilityType = Capability['type'];

/** What we advertise. Everything but `families` has a sensible default. */
export interface CapabilityConfig {
  /** Families we offer (one multiprotocol capability each). Default ['ipv4-unicast']. */
  families?: Family[];
  /** RFC 6793; default true. */
  as4?: boolean;
  /** RFC 2918; default true. */
  routeRefresh?: boolean;
  /** RFC 7313; default true. */
  enhancedRouteRefresh?: boolean;
  /** RFC 8654; default true. */
  extendedMessage?: boolean;
  /** RFC 8950: families we can receive with a next hop of another AFI. */
  extendedNextHop?: Array<{ family: Family; nextHopAfi: number }>;
  /** RFC 7911: add-path mode per family. */
  addPath?: Partial<Record<Family, AddPathMode>>;
  /** RFC 4724 (N bit RFC 8538). Families default to all of ours, F bit clear. */
  gracefulRestart?: { restartTime: number; restarting?: boolean; notification?: boolean; families?: Array<{ family: Family; forwarding: boolean }> };
  /** RFC 9494. */
  longLivedGracefulRestart?: Array<{ family: Family; forwarding: boolean; staleTime: number }>;
  /** draft-walton-bgp-hostname-capability. */
  fqdn?: { hostname: string; domainName?: string };
  /** Further capabilities sent as given. */
  extra?: Capability[];
}

/** Builds our OPEN (RFC 4271 §4.2): AS_TRANS in My AS when the ASN needs 4 octets. */
export function buildOpen(p: { localAs: number; routerId: string; holdTime: number; capabilities?: CapabilityConfig }): OpenMessage {
  const c = p.capabilities ?? {};
  const families = c.families ?? ['ipv4-unicast'];
  const as4 = c.as4 ?? true;
  if (!as4 && p.localAs > 0xffff) throw new RangeError(`local AS ${p.localAs} needs the 4-octet AS capability`);
  const caps: Capability[] = families.map((family) => ({ type: 'multiprotocol', family }));
  if (c.routeRefresh ?? true) caps.push({ type: 'route-refresh' });
  if (c.enhancedRouteRefresh ?? true) caps.push({ type: 'enhanced-route-refresh' });
  if (c.extendedMessage ?? true) caps.push({ type: 'extended-message' });
  if (c.extendedNextHop?.length) caps.push({ type: 'extended-next-hop', entries: c.extendedNextHop });
  if (c.gracefulRestart) {
    const g = c.gracefulRestart;
    caps.push({
      type: 'graceful-restart',
      restarting: g.restarting ?? false,
      notification: g.notification ?? false,
      restartTime: g.restartTime,
      families: g.families ?? families.map((family) => ({ family, forwarding: false })),
    });
  }
  if (as4) caps.push({ type: '4-octet-as', asn: p.localAs });
  const addPath = Object.entries(c.addPath ?? {}).filter((e): e is [Family, AddPathMode] => e[1] !== undefined);
  if (addPath.length) caps.push({ type: 'add-path', entries: addPath.map(([family, mode]) => ({ family, mode })) });
  if (c.longLivedGracefulRestart?.length) caps.push({ type: 'long-lived-graceful-restart', families: c.longLivedGracefulRestart });
  if (c.fqdn) caps.push({ type: 'fqdn', hostname: c.fqdn.hostname, domainName: c.fqdn.domainName ?? '' });
  caps.push(...(c.extra ?? []));
  return {
    type: 'OPEN',
    version: 4,
    myAs: p.localAs > 0xffff ? AS_TRANS : p.localAs,
    holdTime: p.holdTime,
    bgpIdentifier: p.routerId,
    parameters: [{ type: 'capabilities', capabilities: caps }],
  };
}

/** What we require of the peer's OPEN beyond RFC 4271's checks. */
export interface OpenPolicy {
  /** Expected peer ASN; undefined accepts any. */
  peerAs?: number;
  /** Smallest non-zero hold time we accept (RFC 4271 §6.2 allows 0 or ≥ 3). Default 3. */
  minHoldTime?: number;
  /** Keepalive interval wanted (s); never more than a third of the negotiated hold time. */
  keepaliveTime?: number;
  /** Capabilities the peer must advertise, else OPEN Message Error / Unsupported Capability (RFC 5492 §5). */
  requiredCapabilities?: CapabilityType[];
  /** Families the peer must advertise, likewise. */
  requiredFamilies?: Family[];
}

export interface AddPathNegotiated {
  /** We receive path IDs for this family (we said receive, they said send). */
  receive: boolean;
  /** We send path IDs for this family (we said send, they said receive). */
  send: boolean;
}

export interface GracefulRestartInfo {
  restartTime: number;
  /** R bit: the peer has restarted. */
  restarting: boolean;
  /** N bit (RFC 8538) on the peer's side. */
  notification: boolean;
  /** Families the peer preserves, with its F bit, among the shared ones. */
  families: Array<{ family: Family; forwarding: boolean }>;
}

/** Everything the two OPENs decided. JSON-safe except the two codec contexts (use negotiatedJson). */
export interface Negotiated {
  peerAs: number;
  peerRouterId: string;
  localAs: number;
  localRouterId: string;
  /** Internal peer (same AS). */
  ibgp: boolean;
  holdTime: number;
  keepaliveTime: number;
  /** Families both advertised, in our order. */
  families: Family[];
  as4: boolean;
  addPath: Partial<Record<Family, AddPathNegotiated>>;
  extendedMessage: { send: boolean; receive: boolean };
  /** RFC 8950: next-hop AFIs the peer accepts (send) and that we accept (receive), among shared families. */
  extendedNextHop: { send: Array<{ family: Family; nextHopAfi: number }>; receive: Array<{ family: Family; nextHopAfi: number }> };
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** We advertised graceful restart. */
  localGracefulRestart: boolean;
  /** The peer's graceful-restart capability, when it sent one. */
  gracefulRestart?: GracefulRestartInfo;
  /** Both set the N bit (RFC 8538 §2): NOTIFICATIONs other than Hard Reset keep GR. */
  gracefulNotification: boolean;
  longLivedGracefulRestart?: Array<{ family: Family; forwarding: boolean; staleTime: number }>;
  peerHostname?: string;
  /** Capabilities as each side sent them. */
  localCapabilities: Capability[];
  peerCapabilities: Capability[];
  receiveContext: CodecContext;
  sendContext: CodecContext;
}

export type NegotiationResult = { ok: true; negotiated: Negotiated } | { ok: false; error: BgpError };

const TYPE_ALIASES: Partial<Record<CapabilityType, CapabilityType[]>> = { 'route-refresh': ['route-refresh', 'route-refresh-cisco'] };

function familiesOf(caps: Capability[]): Family[] {
  const out: Family[] = [];
  for (const c of caps) if (c.type === 'multiprotocol' && !out.includes(c.family)) out.push(c.family);
  // RFC 4760 §8: a speaker without the MP capability speaks IPv4 unicast only.
  return out.length ? out : ['ipv4-unicast'];
}

/** Last add-path entry per family wins (RFC 7911 §4 does not allow repeats; be lenient). */
function addPathModes(caps: Capability[]): Map<Family, AddPathMode> {
  const m = new Map<Family, AddPathMode>();
  for (const c of caps) if (c.type === 'add-path') for (const e of c.entries) m.set(e.family, e.mode);
  return m;
}

const canReceive = (m: AddPathMode | undefined): boolean => m === 'receive' || m === 'both';
const canSend = (m: AddPathMode | undefined): boolean => m === 'send' || m === 'both';

function ipv4ToU32(s: string): number {
  const b = parseIPv4(s, 'bgpIdentifier');
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

/** The Data field of an Unsupported Capability NOTIFICATION: the capabilities as (code, length, value) triples (RFC 5492 §3). */
export function capabilitiesData(caps: Capability[]): Uint8Array {
  if (caps.length === 0) return new Uint8Array(0);
  // Encode inside a throw-away OPEN and cut out the capability bytes: the codec stays the one writer.
  const buf = encodeMessage({ type: 'OPEN', version: 4, myAs: 0, holdTime: 0, bgpIdentifier: '0.0.0.1', parameters: [{ type: 'capabilities', capabilities: caps }] });
  return Uint8Array.from(buf.subarray(19 + 10 + 2));
}

/** Checks the peer's OPEN against ours and the policy, and negotiates the session (RFC 4271 §6.2, RFC 5492). */
export function negotiate(local: OpenMessage, peer: OpenMessage, policy: OpenPolicy = {}): NegotiationResult {
  const localCaps = openCapabilities(local);
  const peerCaps = openCapabilities(peer);
  const find = <T extends CapabilityType>(caps: Capability[], t: T) => caps.find((c): c is Extract<Capability, { type: T }> => c.type === t);

  // RFC 6793 §4.2.1: the real ASN comes from the capability; My AS is AS_TRANS then.
  const local4 = find(localCaps, '4-octet-as');
  const peer4 = find(peerCaps, '4-octet-as');
  const localAs = local4?.asn ?? local.myAs;
  const peerAs = peer4?.asn ?? peer.myAs;
  if (policy.peerAs !== undefined && peerAs !== policy.peerAs) {
    return fail(OpenSub.BadPeerAs, `peer AS ${peerAs}, expected ${policy.peerAs}`, Uint8Array.of(peer.myAs >> 8, peer.myAs & 0xff));
  }
  const ibgp = peerAs === localAs;
  // RFC 6286 §2.2: zero (checked by the codec) or, for an internal peer, our own identifier.
  if (ibgp && peer.bgpIdentifier === local.bgpIdentifier) {
    return fail(OpenSub.BadBgpIdentifier, `internal peer uses our BGP identifier ${peer.bgpIdentifier}`, parseIPv4(peer.bgpIdentifier, 'bgpIdentifier'));
  }
  // RFC 4271 §6.2: 1 and 2 are refused by the codec; a local minimum may refuse more.
  const minHold = policy.minHoldTime ?? 3;
  if (peer.holdTime !== 0 && peer.holdTime < minHold) {
    return fail(OpenSub.UnacceptableHoldTime, `hold time ${peer.holdTime} s is below our minimum ${minHold} s`, Uint8Array.of(peer.holdTime >> 8, peer.holdTime & 0xff));
  }
  // RFC 4271 §4.2: the smaller of the two; keepalive a third of it (or less if configured).
  const holdTime = Math.min(local.holdTime, peer.holdTime);
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.floor(Math.min(policy.keepaliveTime ?? Infinity, holdTime / 3)));

  const localFamilies = familiesOf(localCaps);
  const peerFamilies = familiesOf(peerCaps);
  const families = localFamilies.filter((f) => peerFamilies.includes(f));
  const mp = (fs: Family[]): Capability[] => fs.map((family) => ({ type: 'multiprotocol', family }));
  if (families.length === 0) {
    return fail(OpenSub.UnsupportedCapability, `no shared address family (we offer ${localFamilies.join(', ')}; peer ${peerFamilies.join(', ')})`, capabilitiesData(mp(localFamilies)));
  }
  const missingFamilies = (policy.requiredFamilies ?? []).filter((f) => !peerFamilies.includes(f));
  if (missingFamilies.length) {
    return fail(OpenSub.UnsupportedCapability, `peer lacks required families ${missingFamilies.join(', ')}`, capabilitiesData(mp(missingFamilies)));
  }
  const missing = (policy.requiredCapabilities ?? []).filter((t) => !peerCaps.some((c) => (TYPE_ALIASES[t] ?? [t]).includes(c.type)));
  if (missing.length) {
    const data = missing.map((t) => localCaps.find((c) => c.type === t) ?? defaultCapability(t, localAs)).filter((c): c is Capability => c !== undefined);
    return fail(OpenSub.UnsupportedCapability, `peer lacks required capabilities ${missing.join(', ')}`, capabilitiesData(data));
  }

  const as4 = local4 !== undefined && peer4 !== undefined;
  const localAp = addPathModes(localCaps);
  const peerAp = addPathModes(peerCaps);
  const addPath: Partial<Record<Family, AddPathNegotiated>> = {};
  const apReceive = new Set<Family>();
  const apSend = new Set<Family>();
  for (const f of families) {
    const receive = canReceive(localAp.get(f)) && canSend(peerAp.get(f));
    const send = canSend(localAp.get(f)) && canReceive(peerAp.get(f));
    if (receive) apReceive.add(f);
    if (send) apSend.add(f);
    if (receive || send) addPath[f] = { receive, send };
  }

  // RFC 8654 §4: send only what the peer said it can receive; we also require our own
  // capability before sending (as FRR does). We accept what we advertised.
  const localExt = find(localCaps, 'extended-message') !== undefined;
  const peerExt = find(peerCaps, 'extended-message') !== undefined;
  const extendedMessage = { send: localExt && peerExt, receive: localExt };

  const enh = (caps: Capability[]) => caps.flatMap((c) => (c.type === 'extended-next-hop' ? c.entries : [])).filter((e) => families.includes(e.family));
  const has = (caps: Capability[], ...types: CapabilityType[]) => caps.some((c) => types.includes(c.type));
  const routeRefresh = has(localCaps, 'route-refresh', 'route-refresh-cisco') && has(peerCaps, 'route-refresh', 'route-refresh-cisco');
  const enhancedRouteRefresh = has(localCaps, 'enhanced-route-refresh') && has(peerCaps, 'enhanced-route-refresh');

  const localGr = find(localCaps, 'graceful-restart');
  const peerGr = find(peerCaps, 'graceful-restart');
  const llgr = find(peerCaps, 'long-lived-graceful-restart');
  const fqdn = find(peerCaps, 'fqdn');

  const negotiated: Negotiated = {
    peerAs,
    peerRouterId: peer.bgpIdentifier,
    localAs,
    localRouterId: local.bgpIdentifier,
    ibgp,
    holdTime,
    keepaliveTime,
    families,
    as4,
    addPath,
    extendedMessage,
    extendedNextHop: { send: enh(peerCaps), receive: enh(localCaps) },
    routeRefresh,
    enhancedRouteRefresh,
    localGracefulRestart: localGr !== undefined,
    gracefulNotification: (localGr?.notification ?? false) && (peerGr?.notification ?? false),
    localCapabilities: localCaps,
    peerCapabilities: peerCaps,
    receiveContext: { as4, addPath: apReceive, extendedMessage: extendedMessage.receive },
    sendContext: { as4, addPath: apSend, extendedMessage: extendedMessage.send },
  };
  if (peerGr) {
    negotiated.gracefulRestart = {
      restartTime: peerGr.restartTime,
      restarting: peerGr.restarting,
      notification: peerGr.notification,
      families: peerGr.families.filter((f) => families.includes(f.family)),
    };
  }
  if (llgr) negotiated.longLivedGracefulRestart = llgr.families.filter((f) => families.includes(f.family));
  if (fqdn) negotiated.peerHostname = fqdn.domainName ? `${fqdn.hostname}.${fqdn.domainName}` : fqdn.hostname;
  return { ok: true, negotiated };
}

function defaultCapability(t: CapabilityType, localAs: number): Capability | undefined {
  switch (t) {
    case 'route-refresh': return { type: 'route-refresh' };
    case 'enhanced-route-refresh': return { type: 'enhanced-route-refresh' };
    case 'extended-message': return { type: 'extended-message' };
    case '4-octet-as': return { type: '4-octet-as', asn: localAs };
    default: return undefined;
  }
}

function fail(sub: OpenSub, message: string, data?: Uint8Array): NegotiationResult {
  return { ok: false, error: new BgpError(ErrorCode.OpenMessage, sub, message, { data }) };
}

/** §6.8 / RFC 6286 §2.3: which connection of a collision survives. */
export function collisionWinner(p: { localId: string; remoteId: string; localAs: number; remoteAs: number }): 'outgoing' | 'incoming' {
  const l = ipv4ToU32(p.localId);
  const r = ipv4ToU32(p.remoteId);
  // The connection initiated by the side with the higher identifier survives; with equal
  // identifiers (only legal between ASes), the one initiated by the higher AS.
  if (l !== r) return l > r ? 'outgoing' : 'incoming';
  return p.localAs > p.remoteAs ? 'outgoing' : 'incoming';
}

/** Negotiated as plain JSON (codec contexts as family lists). */
export function negotiatedJson(n: Negotiated): Record<string, unknown> {
  const ctx = (c: CodecContext) => ({ as4: c.as4, addPath: [...c.addPath], extendedMessage: c.extendedMessage });
  return { ...n, receiveContext: ctx(n.receiveContext), sendContext: ctx(n.sendContext) };
}
