// Unit tests of negotiate.ts with OPENs captured from FRR, BIRD and GoBGP (testdata/opens.ts)
// and hand-built ones: families, 4-octet AS, add-path per direction, extended message and
// next hop, route refresh, graceful restart, hold time, and every OPEN error we raise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, type OpenMessage } from '../codec/index.js';
import { AS_TRANS, buildOpen, capabilitiesData, collisionWinner, negotiate, negotiatedJson, type Negotiated } from './negotiate.js';
import { BIRD_OPEN, FRR_OPEN, GOBGP_OPEN } from './testdata/opens.js';

function open(hex: string): OpenMessage {
  const d = decodeMessage(Buffer.from(hex, 'hex'));
  assert.ok(d.ok && d.message.type === 'OPEN', 'test vector decodes as an OPEN');
  return d.message as OpenMessage;
}

const ours = buildOpen({
  localAs: 65010,
  routerId: '192.0.2.10',
  holdTime: 90,
  capabilities: {
    families: ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn'],
    addPath: { 'ipv4-unicast': 'both', 'ipv6-unicast': 'receive' },
    gracefulRestart: { restartTime: 120, notification: true },
    extendedNextHop: [{ family: 'ipv4-unicast', nextHopAfi: 2 }],
  },
});

function ok(local: OpenMessage, peer: OpenMessage, policy = {}): Negotiated {
  const r = negotiate(local, peer, policy);
  if (!r.ok) assert.fail(`negotiation failed: ${r.error.message}`);
  return r.negotiated;
}

function err(local: OpenMessage, peer: OpenMessage, policy = {}): { code: number; subcode: number; data: string; message: string } {
  const r = negotiate(local, peer, policy);
  assert.equal(r.ok, false, 'negotiation must fail');
  if (r.ok) throw new Error('unreachable');
  return { code: r.error.code, subcode: r.error.subcode, data: Buffer.from(r.error.data).toString('hex'), message: r.error.message };
}

test('FRR 8.4 OPEN: families, add-path both ways, GR with R and N bits, LLGR, hostname, hold 3', () => {
  const n = ok(ours, open(FRR_OPEN), { peerAs: 65001 });
  assert.equal(n.peerAs, 65001);
  assert.equal(n.peerRouterId, '192.0.2.18');
  assert.equal(n.ibgp, false);
  assert.deepEqual(n.families, ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn']);
  assert.equal(n.holdTime, 3);
  assert.equal(n.keepaliveTime, 1);
  assert.equal(n.as4, true);
  // FRR says both on every family: we send and receive on ipv4, only receive on ipv6, nothing on vpn (we did not ask).
  assert.deepEqual(n.addPath, { 'ipv4-unicast': { receive: true, send: true }, 'ipv6-unicast': { receive: true, send: false } });
  assert.deepEqual([...n.receiveContext.addPath], ['ipv4-unicast', 'ipv6-unicast']);
  assert.deepEqual([...n.sendContext.addPath], ['ipv4-unicast']);
  assert.deepEqual(n.extendedMessage, { send: true, receive: true });
  assert.equal(n.receiveContext.extendedMessage, true);
  assert.equal(n.routeRefresh, true);
  assert.equal(n.enhancedRouteRefresh, true);
  assert.deepEqual(n.gracefulRestart, {
    restartTime: 120, restarting: true, notification: true,
    families: [{ family: 'ipv4-unicast', forwarding: false }, { family: 'ipv4-vpn', forwarding: false }, { family: 'ipv6-unicast', forwarding: false }],
  });
  assert.equal(n.localGracefulRestart, true);
  assert.equal(n.gracefulNotification, true, 'both sent the N bit');
  assert.equal(n.longLivedGracefulRestart?.length, 3, 'LLGR families limited to the shared ones');
  assert.equal(n.peerHostname, 'vm');
  // FRR did not send extended next hop: nothing to send; we still accept what we offered.
  assert.deepEqual(n.extendedNextHop, { send: [], receive: [{ family: 'ipv4-unicast', nextHopAfi: 2 }] });
});

test('BIRD 2 OPEN: 4-octet ASN behind AS_TRANS, add-path rx/tx mirrored, extended next hop, GR without R', () => {
  const bird = open(BIRD_OPEN);
  assert.equal(bird.myAs, AS_TRANS);
  const n = ok(ours, bird, { peerAs: 4200000002 });
  assert.equal(n.peerAs, 4200000002);
  assert.equal(n.holdTime, 9);
  assert.equal(n.keepaliveTime, 3);
  assert.deepEqual(n.families, ['ipv4-unicast', 'ipv6-unicast']);
  // BIRD: ipv4 receive → we (both) send; ipv6 send → we (receive) receive.
  assert.deepEqual(n.addPath, { 'ipv4-unicast': { receive: false, send: true }, 'ipv6-unicast': { receive: true, send: false } });
  assert.deepEqual(n.extendedNextHop.send, [{ family: 'ipv4-unicast', nextHopAfi: 2 }]);
  assert.deepEqual(n.extendedMessage, { send: false, receive: true }, 'BIRD 2.0.12 did not offer extended messages');
  assert.equal(n.sendContext.extendedMessage, false);
  assert.equal(n.gracefulRestart?.restarting, false);
  assert.equal(n.gracefulNotification, false);
  assert.deepEqual(n.longLivedGracefulRestart?.map((f) => f.staleTime), [3600, 3600]);
  assert.equal(n.enhancedRouteRefresh, true);
});

test('GoBGP 3.10 OPEN: no GR, no enhanced refresh, no extended message; add-path both on ipv4', () => {
  const n = ok(ours, open(GOBGP_OPEN), { peerAs: 65003 });
  assert.equal(n.peerAs, 65003);
  assert.deepEqual(n.families, ['ipv4-unicast', 'ipv6-unicast']);
  assert.deepEqual(n.addPath, { 'ipv4-unicast': { receive: true, send: true } });
  assert.equal(n.gracefulRestart, undefined);
  assert.equal(n.gracefulNotification, false);
  assert.equal(n.enhancedRouteRefresh, false);
  assert.equal(n.routeRefresh, true);
  assert.equal(n.sendContext.extendedMessage, false);
  assert.equal(n.peerHostname, 'vm');
  const json = JSON.parse(JSON.stringify(negotiatedJson(n)));
  assert.deepEqual(json.sendContext, { as4: true, addPath: ['ipv4-unicast'], extendedMessage: false });
});

test('a peer without the MP capability speaks IPv4 unicast only (RFC 4760 §8); no 4-octet AS → 2-octet paths', () => {
  const bare: OpenMessage = { type: 'OPEN', version: 4, myAs: 65001, holdTime: 180, bgpIdentifier: '192.0.2.1', parameters: [] };
  const n = ok(ours, bare);
  assert.deepEqual(n.families, ['ipv4-unicast']);
  assert.equal(n.as4, false);
  assert.equal(n.receiveContext.as4, false);
  assert.equal(n.sendContext.as4, false);
  assert.equal(n.peerAs, 65001);
  assert.equal(n.holdTime, 90, 'the smaller hold time');
  assert.equal(n.keepaliveTime, 30);
  assert.equal(n.routeRefresh, false);
  assert.deepEqual(n.addPath, {});
});

test('hold time: min of both, 0 turns keepalives off, keepalive never above a third, minimum enforced (2/6)', () => {
  const peer = (holdTime: number): OpenMessage => ({ type: 'OPEN', version: 4, myAs: 65001, holdTime, bgpIdentifier: '192.0.2.1', parameters: [] });
  assert.deepEqual([ok(ours, peer(0)).holdTime, ok(ours, peer(0)).keepaliveTime], [0, 0]);
  assert.deepEqual([ok(ours, peer(3)).holdTime, ok(ours, peer(3)).keepaliveTime], [3, 1]);
  assert.deepEqual([ok(ours, peer(10)).holdTime, ok(ours, peer(10)).keepaliveTime], [10, 3]);
  assert.equal(ok(ours, peer(65535)).holdTime, 90);
  assert.equal(ok(ours, peer(90), { keepaliveTime: 10 }).keepaliveTime, 10);
  assert.equal(ok(ours, peer(9), { keepaliveTime: 10 }).keepaliveTime, 3, 'configured keepalive capped at hold/3');
  const zero = buildOpen({ localAs: 65010, routerId: '192.0.2.10', holdTime: 0 });
  assert.equal(ok(zero, peer(30)).holdTime, 0);
  const e = err(ours, peer(4), { minHoldTime: 5 });
  assert.deepEqual([e.code, e.subcode, e.data], [2, 6, '0004']);
  // 0 is always acceptable (RFC 4271 §4.2).
  assert.equal(ok(ours, peer(0), { minHoldTime: 5 }).holdTime, 0);
});

test('Bad Peer AS (2/2), Bad BGP Identifier for an internal peer (2/3), same identifier allowed for eBGP', () => {
  const frr = open(FRR_OPEN);
  const e = err(ours, frr, { peerAs: 65002 });
  assert.deepEqual([e.code, e.subcode, e.data], [2, 2, 'fde9']);
  assert.match(e.message, /65001.*65002/);
  // 4-octet peer: the capability, not My AS, is the peer's AS.
  assert.equal(err(ours, open(BIRD_OPEN), { peerAs: AS_TRANS }).subcode, 2);

  const ibgpLocal = buildOpen({ localAs: 65001, routerId: '192.0.2.18', holdTime: 90 });
  const e2 = err(ibgpLocal, frr);
  assert.deepEqual([e2.code, e2.subcode, e2.data], [2, 3, 'c0000212']);
  const ebgpLocal = buildOpen({ localAs: 65010, routerId: '192.0.2.18', holdTime: 90 });
  assert.equal(ok(ebgpLocal, frr).peerRouterId, '192.0.2.18');
  const ibgp = ok(buildOpen({ localAs: 65001, routerId: '192.0.2.99', holdTime: 90 }), frr);
  assert.equal(ibgp.ibgp, true);
});

test('Unsupported Capability (2/7) with the capabilities in the data field (RFC 5492 §3)', () => {
  const v6only = buildOpen({ localAs: 65010, routerId: '192.0.2.10', holdTime: 90, capabilities: { families: ['l2vpn-evpn'] } });
  const e = err(v6only, open(BIRD_OPEN));
  // code 1 (MP), length 4, AFI 25, reserved, SAFI 70
  assert.deepEqual([e.code, e.subcode, e.data], [2, 7, '010400190046']);
  // A required family the peer lacks.
  const e2 = err(ours, open(GOBGP_OPEN), { requiredFamilies: ['ipv4-vpn'] });
  assert.deepEqual([e2.code, e2.subcode, e2.data], [2, 7, '010400010080']);
  // Required capabilities: GoBGP sends no graceful restart and no enhanced route refresh.
  const e3 = err(ours, open(GOBGP_OPEN), { requiredCapabilities: ['graceful-restart', 'enhanced-route-refresh'] });
  assert.equal(e3.subcode, 7);
  // GR (code 64): N bit 0x4000 | 120 = 0x4078, then ipv4/ipv6/vpn families with F=0; then code 70 length 0.
  assert.equal(e3.data, '400e4078' + '00010100' + '00020100' + '00018000' + '4600');
  assert.match(e3.message, /graceful-restart, enhanced-route-refresh/);
  // Cisco's route-refresh code satisfies a required route-refresh.
  const cisco: OpenMessage = { type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpIdentifier: '192.0.2.1', parameters: [{ type: 'capabilities', capabilities: [{ type: 'route-refresh-cisco' }] }] };
  assert.equal(ok(ours, cisco, { requiredCapabilities: ['route-refresh'] }).routeRefresh, true);
  assert.equal(err(ours, cisco, { requiredCapabilities: ['4-octet-as'] }).data, '41040000fdf2');
});

test('buildOpen: AS_TRANS for a 4-octet ASN, capabilities in a stable order, round trip through the codec', () => {
  const o = buildOpen({ localAs: 4200000010, routerId: '192.0.2.10', holdTime: 9, capabilities: { families: ['ipv4-unicast'], fqdn: { hostname: 'edge1' } } });
  assert.equal(o.myAs, AS_TRANS);
  const caps = o.parameters.flatMap((p) => (p.type === 'capabilities' ? p.capabilities : []));
  assert.deepEqual(caps.map((c) => c.type), ['multiprotocol', 'route-refresh', 'enhanced-route-refresh', 'extended-message', '4-octet-as', 'fqdn']);
  assert.throws(() => buildOpen({ localAs: 4200000010, routerId: '192.0.2.10', holdTime: 9, capabilities: { as4: false } }), /4-octet/);
  const n = ok(ours, o);
  assert.equal(n.peerAs, 4200000010);
  assert.equal(n.peerHostname, 'edge1');
  assert.equal(capabilitiesData([]).length, 0);
});

test('collision winner (§6.8, RFC 6286 §2.3): higher identifier keeps its own connection; ties go to the higher AS', () => {
  assert.equal(collisionWinner({ localId: '192.0.2.20', remoteId: '192.0.2.1', localAs: 1, remoteAs: 2 }), 'outgoing');
  assert.equal(collisionWinner({ localId: '192.0.2.1', remoteId: '192.0.2.20', localAs: 1, remoteAs: 2 }), 'incoming');
  // Compared as unsigned 32-bit numbers, not strings or signed ints.
  assert.equal(collisionWinner({ localId: '200.0.0.1', remoteId: '10.0.0.1', localAs: 1, remoteAs: 2 }), 'outgoing');
  assert.equal(collisionWinner({ localId: '9.0.0.1', remoteId: '10.0.0.1', localAs: 1, remoteAs: 2 }), 'incoming');
  assert.equal(collisionWinner({ localId: '192.0.2.1', remoteId: '192.0.2.1', localAs: 65002, remoteAs: 65001 }), 'outgoing');
  assert.equal(collisionWinner({ localId: '192.0.2.1', remoteId: '192.0.2.1', localAs: 65001, remoteAs: 65002 }), 'incoming');
});
