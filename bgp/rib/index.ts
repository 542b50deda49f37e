// bgp/rib — the RIB (RFC 4271 §3.2, §9): Adj-RIB-In per peer, Loc-RIB with the §9.1.2
// decision process, Adj-RIB-Out per peer with UPDATE packing, import/export policy,
// graceful-restart helper (RFC 4724), route refresh (RFC 2918, 7313), add-path (RFC 7911),
// max-prefix. Driven by plain synchronous calls from one command loop; no sockets.
//
//   const rib = new Rib({ asn: 65020, routerId: '192.0.2.20', onBestChange });
//   rib.addPeer({ address: '192.0.2.1', asn: 65000 });
//   rib.peerUp('192.0.2.1', { routerId, families, rx, tx, localAddress });
//   rib.receiveUpdate('192.0.2.1', update, error)   → { limitExceeded?, endOfRib?, … }
//   rib.originate('ipv4-unicast', { prefix: '198.51.100.7/32' }, attrs, ['192.0.2.20']);
//   rib.drain('192.0.2.1', 65536)                  → Buffer[] of UPDATEs to write
//   rib.peerDown('192.0.2.1', { gracefulRestart })  / markStale / purgeStale / routeRefresh
export { Rib, Peer, RibPath, LOCAL, endOfRibFamily, mergeAs4 } from './rib.js';
export type { PeerConfig, SessionInfo, RibOptions, UpdateResult, RouteView } from './rib.js';
export { AttrSet, AttrTable, findAttr, withAttr, withoutAttr, sortAttrs } from './attrs.js';
export { decide, compare, type DecisionReason, type Decision, type DecisionOptions, type Candidate, type DecisionSource, type SourceKind } from './decision.js';
export { CompiledPolicy, PolicyError, prependAs, type Policy, type PolicyRule, type PolicyMatch, type PolicySet, type PrefixMatch } from './policy.js';
export { routeKey, qualifiedKey, isPlainFamily, prefixOf, keyText, keyOf, type RouteKey } from './keys.js';
export { AdjRibOut, OutRoute, type Sent, type DrainStats } from './adjout.js';
export { UpdateBuilder, attrBlock, endOfRib, refreshMarker, toAs2, nlriSize, writeNlri } from './pack.js';
