// RIB behaviour: eBGP/iBGP export rules, route reflection, withdraw on session loss,
// graceful-restart stale handling, max-prefix, add-path, route refresh, RFC 7606
// treat-as-withdraw, best-change notifications, export deferral, import policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BgpError, type CodecContext, type Family } from '../codec/index.js';
import { Rib, mergeAs4, type RibPath } from './rib.js';
import { base, PeerView, update, withdraw } from './testkit.js';

const V4: Family[] = ['ipv4-unicast'];
const E1 = '192.0.2.1'; // eBGP AS 65001
const E2 = '192.0.2.2'; // eBGP AS 65002
const I1 = '192.0.2.11'; // iBGP
const I2 = '192.0.2.12'; // iBGP

function lab(opts: { rrClient?: string[]; maxPrefix?: number } = {}) {
  const changes: Array<[string, string | undefined]> = [];
  const rib = new Rib({ asn: 65020, routerId: '192.0.2.20', onBestChange: (_f, key, best) => changes.push([key, best?.source.id]) });
  rib.addPeer({ address: E1, asn: 65001, maxPrefix: opts.maxPrefix });
  rib.addPeer({ address: E2, asn: 65002 });
  rib.addPeer({ address: I1, asn: 65020, routeReflectorClient: opts.rrClient?.includes(I1) });
  rib.addPeer({ address: I2, asn: 65020, routeReflectorClient: opts.rrClient?.includes(I2) });
  for (const a of [E1, E2, I1, I2]) rib.peerUp(a, { routerId: a, families: V4, localAddress: '192.0.2.20' });
  const views = new Map([E1, E2, I1, I2].map((a) => [a, new PeerView()]));
  const sync = () => {
    for (const [a, v] of views) v.drainFrom(rib, a);
    return views;
  };
  return { rib, views, sync, changes };
}

const K = (p: string) => `ipv4-unicast|${p}`;

test('eBGP route to iBGP and eBGP peers: next hop, AS_PATH, LOCAL_PREF and MED rules', () => {
  const { rib, sync } = lab();
  sync();
  const r = rib.receiveUpdate(E1, update(['198.51.100.0/24'], base([65001], [{ type: 'MULTI_EXIT_DISC', value: 7 }, { type: 'LOCAL_PREF', value: 999 }, { type: 'COMMUNITIES', values: ['65001:1'] }]), E1));
  assert.deepEqual(r, { announced: 1, withdrawn: 0, filtered: 0 });
  assert.equal(rib.best('ipv4-unicast', '198.51.100.0/24')?.attrs.localPref, undefined, 'LOCAL_PREF from eBGP is ignored (RFC 4271 §5.1.5)');
  const v = sync();
  const ibgp = v.get(I1)!.get(K('198.51.100.0/24'))!;
  assert.deepEqual(ibgp.nextHop, [E1], 'iBGP: next hop unchanged');
  assert.equal(v.get(I1)!.attr(K('198.51.100.0/24'), 'LOCAL_PREF')?.value, 100, 'iBGP: LOCAL_PREF added');
  assert.equal(v.get(I1)!.attr(K('198.51.100.0/24'), 'MULTI_EXIT_DISC')?.value, 7, 'iBGP: MED kept');
  assert.deepEqual(v.get(I1)!.attr(K('198.51.100.0/24'), 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [65001] }]);
  const ebgp = v.get(E2)!.get(K('198.51.100.0/24'))!;
  assert.deepEqual(ebgp.nextHop, ['192.0.2.20'], 'eBGP: next hop self');
  assert.deepEqual(v.get(E2)!.attr(K('198.51.100.0/24'), 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [65020, 65001] }]);
  assert.equal(v.get(E2)!.attr(K('198.51.100.0/24'), 'LOCAL_PREF'), undefined, 'eBGP: no LOCAL_PREF');
  assert.equal(v.get(E2)!.attr(K('198.51.100.0/24'), 'MULTI_EXIT_DISC'), undefined, 'eBGP: MED from another AS not passed on');
  assert.deepEqual(v.get(E2)!.attr(K('198.51.100.0/24'), 'COMMUNITIES')?.values, ['65001:1']);
  assert.equal(v.get(E1)!.get(K('198.51.100.0/24')), undefined, 'not sent back to the peer it came from');
});

test('iBGP-learned routes are not re-advertised to iBGP peers, except by a route reflector', () => {
  const plain = lab();
  plain.sync();
  plain.rib.receiveUpdate(I1, update(['203.0.113.0/24'], base([], [{ type: 'LOCAL_PREF', value: 200 }]), '192.0.2.99'));
  let v = plain.sync();
  assert.equal(v.get(I2)!.get(K('203.0.113.0/24')), undefined);
  assert.ok(v.get(E1)!.get(K('203.0.113.0/24')), 'but to eBGP peers');
  assert.deepEqual(v.get(E1)!.attr(K('203.0.113.0/24'), 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [65020] }]);

  const rr = lab({ rrClient: [I1] });
  rr.sync();
  rr.rib.receiveUpdate(I1, update(['203.0.113.0/24'], base([], [{ type: 'LOCAL_PREF', value: 200 }]), '192.0.2.99'));
  v = rr.sync();
  const got = v.get(I2)!;
  assert.ok(got.get(K('203.0.113.0/24')), 'reflected from a client to a non-client');
  assert.equal(got.attr(K('203.0.113.0/24'), 'ORIGINATOR_ID')?.value, I1);
  assert.deepEqual(got.attr(K('203.0.113.0/24'), 'CLUSTER_LIST')?.values, ['192.0.2.20']);
  assert.equal(got.attr(K('203.0.113.0/24'), 'LOCAL_PREF')?.value, 200);
  assert.deepEqual(got.get(K('203.0.113.0/24'))!.nextHop, ['192.0.2.99']);
  // A route carrying our own cluster ID comes back: rejected (RFC 4456 §8).
  const loop = rr.rib.receiveUpdate(I2, update(['192.0.2.128/25'], base([], [{ type: 'ORIGINATOR_ID', value: '192.0.2.50' }, { type: 'CLUSTER_LIST', values: ['192.0.2.20'] }])));
  assert.equal(loop.filtered, 1);
  assert.equal(rr.rib.best('ipv4-unicast', '192.0.2.128/25'), undefined);
});

test('eBGP AS_PATH loop is rejected and implicitly withdraws the older route', () => {
  const { rib } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.0/24'], base([65001])));
  const r = rib.receiveUpdate(E1, update(['198.51.100.0/24'], base([65001, 65020, 65003])));
  assert.deepEqual(r, { announced: 0, withdrawn: 1, filtered: 1 });
  assert.equal(rib.size('ipv4-unicast'), 0);
});

test('well-known communities: NO_EXPORT stays inside the AS, NO_ADVERTISE goes nowhere', () => {
  const { rib, sync } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.1/32'], base([65001], [{ type: 'COMMUNITIES', values: ['NO_EXPORT'] }])));
  rib.receiveUpdate(E1, update(['198.51.100.2/32'], base([65001], [{ type: 'COMMUNITIES', values: ['NO_ADVERTISE'] }])));
  const v = sync();
  assert.ok(v.get(I1)!.get(K('198.51.100.1/32')));
  assert.equal(v.get(E2)!.get(K('198.51.100.1/32')), undefined);
  assert.equal(v.get(I1)!.get(K('198.51.100.2/32')), undefined);
  assert.equal(v.get(E2)!.get(K('198.51.100.2/32')), undefined);
});

test('best path moves between peers; the old source gets the new best, the new source a withdrawal', () => {
  const { rib, sync, changes } = lab();
  sync();
  rib.receiveUpdate(E1, update(['198.51.100.0/24'], base([65001, 65009])));
  let v = sync();
  assert.ok(v.get(E2)!.get(K('198.51.100.0/24')));
  rib.receiveUpdate(E2, update(['198.51.100.0/24'], base([65002]), E2));
  assert.deepEqual(rib.explain('ipv4-unicast', '198.51.100.0/24')?.reason, 'as-path-length');
  v = sync();
  assert.equal(v.get(E2)!.get(K('198.51.100.0/24')), undefined, 'E2 is now the source: what we sent it is withdrawn');
  assert.deepEqual(v.get(E1)!.attr(K('198.51.100.0/24'), 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [65020, 65002] }]);
  assert.deepEqual(changes, [['198.51.100.0/24', E1], ['198.51.100.0/24', E2]]);
  rib.receiveUpdate(E2, withdraw(['198.51.100.0/24']));
  assert.deepEqual(changes.at(-1), ['198.51.100.0/24', E1]);
  v = sync();
  assert.equal(v.get(E1)!.get(K('198.51.100.0/24')), undefined);
  assert.ok(v.get(E2)!.get(K('198.51.100.0/24')));
});

test('session loss withdraws every route of the peer, and peers are told', () => {
  const { rib, sync, changes } = lab();
  sync();
  const prefixes = Array.from({ length: 300 }, (_, i) => `198.51.100.${i % 256}/32`).slice(0, 256);
  rib.receiveUpdate(E1, update(prefixes, base([65001])));
  let v = sync();
  assert.equal(v.get(I1)!.routes.size, 256);
  changes.length = 0;
  assert.equal(rib.peerDown(E1), 256);
  assert.equal(rib.size('ipv4-unicast'), 0);
  assert.equal(changes.length, 256);
  assert.ok(changes.every(([, best]) => best === undefined));
  v = sync();
  assert.equal(v.get(I1)!.routes.size, 0);
  assert.equal(v.get(E2)!.routes.size, 0);
  assert.equal(v.get(I1)!.withdrawals, 256);
  assert.equal(v.get(I1)!.updates, 2, 'one UPDATE for the announcements, one for the withdrawals');
});

test('graceful restart helper: stale routes stay until End-of-RIB, then the ones not re-sent are purged', () => {
  const { rib, sync } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32'], base([65001])));
  sync();
  assert.equal(rib.peerDown(E1, { gracefulRestart: true }), 3);
  assert.equal(rib.peerStats(E1).stale, 3);
  assert.equal(rib.best('ipv4-unicast', '198.51.100.1/32')?.stale, true);
  let v = sync();
  assert.equal(v.get(I1)!.routes.size, 3, 'stale routes are still advertised');
  rib.peerUp(E1, { routerId: E1, families: V4, localAddress: '192.0.2.20' });
  rib.receiveUpdate(E1, update(['198.51.100.1/32', '198.51.100.2/32'], base([65001])));
  assert.equal(rib.best('ipv4-unicast', '198.51.100.1/32')?.stale, false, 're-sent routes are fresh again');
  assert.equal(rib.peerStats(E1).stale, 1);
  const r = rib.receiveUpdate(E1, { type: 'UPDATE', withdrawn: [], attributes: [], nlri: [] });
  assert.equal(r.endOfRib, 'ipv4-unicast');
  assert.equal(rib.peerStats(E1).stale, 0);
  assert.equal(rib.best('ipv4-unicast', '198.51.100.3/32'), undefined);
  v = sync();
  assert.deepEqual([...v.get(I1)!.routes.keys()].sort(), [K('198.51.100.1/32'), K('198.51.100.2/32')]);
});

test('graceful restart helper: the restart timer (external) purges all stale routes; per-family purge', () => {
  const { rib } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.1/32'], base([65001])));
  rib.receiveUpdate(E1, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: [...base([65001]), { type: 'MP_REACH_NLRI', family: 'ipv6-unicast', nextHop: ['2001:db8::1'], nlri: [{ prefix: '2001:db8:1::/48' }] }] });
  rib.markStale(E1);
  assert.equal(rib.purgeStale(E1, 'ipv6-unicast'), 1);
  assert.equal(rib.size('ipv6-unicast'), 0);
  assert.equal(rib.size('ipv4-unicast'), 1);
  assert.equal(rib.purgeStale(E1), 1);
  assert.equal(rib.size('ipv4-unicast'), 0);
  assert.equal(rib.purgeStale(E1), 0);
});

test('max-prefix: the RIB reports the limit exceeded (caller sends Cease/1)', () => {
  const { rib } = lab({ maxPrefix: 5 });
  const five = Array.from({ length: 5 }, (_, i) => `198.51.100.${i}/32`);
  assert.equal(rib.receiveUpdate(E1, update(five, base([65001]))).limitExceeded, undefined);
  assert.equal(rib.receiveUpdate(E1, update(five, base([65001, 65002]))).limitExceeded, undefined, 'replacements do not count twice');
  assert.equal(rib.receiveUpdate(E1, update(['198.51.100.9/32'], base([65001]))).limitExceeded, true);
});

test('RFC 7606 treat-as-withdraw: the UPDATE\'s NLRI (IPv4 and MP_REACH) are withdrawn', () => {
  const { rib } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.1/32'], base([65001])));
  rib.receiveUpdate(E1, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: [...base([65001]), { type: 'MP_REACH_NLRI', family: 'ipv6-unicast', nextHop: ['2001:db8::1'], nlri: [{ prefix: '2001:db8:1::/48' }] }] });
  const err = new BgpError(3, 5, 'COMMUNITIES: length 3 is wrong', { action: 'treat-as-withdraw' });
  const r1 = rib.receiveUpdate(E1, update(['198.51.100.1/32', '198.51.100.2/32'], base([65001])), err);
  assert.equal(r1.treatedAsWithdraw, true);
  assert.equal(r1.withdrawn, 1);
  assert.equal(rib.size('ipv4-unicast'), 0);
  rib.receiveUpdate(E1, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: [...base([65001]), { type: 'MP_REACH_NLRI', family: 'ipv6-unicast', nextHop: ['2001:db8::1'], nlri: [{ prefix: '2001:db8:1::/48' }] }] }, err);
  assert.equal(rib.size('ipv6-unicast'), 0);
  // attribute-discard needs nothing from the RIB: the route is kept.
  rib.receiveUpdate(E1, update(['198.51.100.3/32'], base([65001])), new BgpError(3, 5, 'AGGREGATOR', { action: 'attribute-discard' }));
  assert.equal(rib.size('ipv4-unicast'), 1);
});

test('add-path: paths received with path IDs are kept apart and all sent to an add-path peer', () => {
  const rib = new Rib({ asn: 65020, routerId: '192.0.2.20' });
  rib.addPeer({ address: E1, asn: 65001 });
  rib.addPeer({ address: I1, asn: 65020 });
  const ap: CodecContext = { as4: true, addPath: new Set(V4), extendedMessage: false };
  rib.peerUp(E1, { routerId: E1, families: V4, rx: ap, localAddress: '192.0.2.20' });
  rib.peerUp(I1, { routerId: I1, families: V4, tx: ap, localAddress: '192.0.2.20' });
  const u = (pathId: number, asns: number[], nh: string) => ({ type: 'UPDATE' as const, withdrawn: [], attributes: [...base(asns), { type: 'NEXT_HOP' as const, value: nh }], nlri: [{ prefix: '198.51.100.0/24', pathId }] });
  rib.receiveUpdate(E1, u(1, [65001, 65005], '192.0.2.101'));
  rib.receiveUpdate(E1, u(2, [65001], '192.0.2.102'));
  assert.equal(rib.paths('ipv4-unicast', '198.51.100.0/24').length, 2);
  assert.equal(rib.best('ipv4-unicast', '198.51.100.0/24')?.pathId, 2);
  const v = new PeerView(ap).drainFrom(rib, I1);
  const got = [...v.routes.values()].map((r) => r.nextHop[0]).sort();
  assert.deepEqual(got, ['192.0.2.101', '192.0.2.102']);
  const ids = [...v.routes.values()].map((r) => r.nlri.pathId);
  assert.equal(new Set(ids).size, 2, 'distinct transmit path IDs');
  // Withdraw one path: only it goes.
  rib.receiveUpdate(E1, { type: 'UPDATE', withdrawn: [{ prefix: '198.51.100.0/24', pathId: 1 }], attributes: [], nlri: [] });
  v.drainFrom(rib, I1);
  assert.deepEqual([...v.routes.values()].map((r) => r.nextHop[0]), ['192.0.2.102']);
});

test('route refresh re-sends the Adj-RIB-Out; enhanced route refresh wraps it in BoRR/EoRR', () => {
  const { rib, sync, views } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.1/32', '198.51.100.2/32'], base([65001])));
  sync();
  const before = views.get(E2)!.announcements;
  assert.equal(rib.routeRefresh(E2, 'ipv4-unicast'), 1);
  sync();
  assert.equal(views.get(E2)!.announcements - before, 2);
  assert.deepEqual(views.get(E2)!.markers, []);
  rib.peerUp(E2, { routerId: E2, families: V4, localAddress: '192.0.2.20', enhancedRouteRefresh: true });
  const v = new PeerView().drainFrom(rib, E2);
  assert.deepEqual(v.eor, ['ipv4-unicast']);
  rib.routeRefresh(E2, 'ipv4-unicast');
  const msgs = rib.drain(E2);
  const w = new PeerView().apply(msgs);
  assert.deepEqual(w.markers, [{ family: 'ipv4-unicast', subtype: 1 }, { family: 'ipv4-unicast', subtype: 2 }]);
  assert.equal(msgs[0]![18], 5, 'BoRR first');
  assert.equal(msgs.at(-1)![18], 5, 'EoRR last');
  assert.equal(w.announcements, 2);
});

test('enhanced route refresh from the peer: BoRR marks stale, EoRR purges what was not re-sent', () => {
  const { rib } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.1/32', '198.51.100.2/32'], base([65001])));
  assert.equal(rib.routeRefresh(E1, 'ipv4-unicast', 1), 2);
  rib.receiveUpdate(E1, update(['198.51.100.2/32'], base([65001])));
  assert.equal(rib.routeRefresh(E1, 'ipv4-unicast', 2), 1);
  assert.deepEqual([...rib.locRib('ipv4-unicast')].map(([k]) => k), ['198.51.100.2/32']);
});

test('initial dump ends with End-of-RIB per family; export can be held until peers send End-of-RIB', () => {
  const rib = new Rib({ asn: 65020, routerId: '192.0.2.20' });
  rib.addPeer({ address: E1, asn: 65001 });
  rib.addPeer({ address: E2, asn: 65002 });
  rib.originate('ipv4-unicast', { prefix: '198.51.100.7/32' }, [], ['192.0.2.20']);
  rib.holdExport([E1]);
  rib.peerUp(E1, { routerId: E1, families: ['ipv4-unicast', 'ipv6-unicast'], localAddress: '192.0.2.20' });
  rib.peerUp(E2, { routerId: E2, families: V4, localAddress: '192.0.2.20' });
  assert.deepEqual(rib.drain(E2), [], 'held');
  assert.equal(rib.hasPending(E2), false);
  rib.receiveUpdate(E1, { type: 'UPDATE', withdrawn: [], attributes: [], nlri: [] });
  assert.deepEqual(rib.drain(E2), [], 'still held: no End-of-RIB for ipv6-unicast yet');
  rib.receiveUpdate(E1, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: [{ type: 'MP_UNREACH_NLRI', family: 'ipv6-unicast', withdrawn: [] }] });
  assert.equal(rib.hasPending(E2), true);
  const v = new PeerView().drainFrom(rib, E2);
  assert.ok(v.get(K('198.51.100.7/32')));
  assert.deepEqual(v.eor, ['ipv4-unicast']);
  const w = new PeerView().drainFrom(rib, E1);
  assert.deepEqual(w.eor, ['ipv4-unicast', 'ipv6-unicast']);
  rib.holdExport([E2]);
  rib.releaseExport();
  assert.equal(rib.exportHeld, false);
});

test('import policy with a kept pre-policy copy: changing the policy re-imports without a refresh', () => {
  const rib = new Rib({ asn: 65020, routerId: '192.0.2.20' });
  rib.addPeer({ address: E1, asn: 65001, keepPrePolicy: true, importPolicy: { rules: [{ match: { prefixes: [{ prefix: '10.0.0.0/8', le: 32 }] }, action: 'deny' }, { action: 'permit', set: { localPref: 250 } }] } });
  rib.addPeer({ address: E2, asn: 65002 });
  rib.peerUp(E1, { routerId: E1, families: V4 });
  const r = rib.receiveUpdate(E1, update(['10.1.0.0/16', '198.51.100.0/24'], base([65001])));
  assert.deepEqual(r, { announced: 1, withdrawn: 0, filtered: 1 });
  assert.equal(rib.best('ipv4-unicast', '198.51.100.0/24')?.attrs.localPref, 250);
  assert.equal(rib.peerStats(E1).received, 2);
  assert.equal([...rib.adjRibIn(E1, 'ipv4-unicast', { prePolicy: true })].length, 2);
  assert.equal(rib.setPolicy(E1, { importPolicy: null }), true);
  assert.equal(rib.size('ipv4-unicast'), 2);
  assert.equal(rib.best('ipv4-unicast', '198.51.100.0/24')?.attrs.localPref, undefined);
  assert.equal(rib.setPolicy(E2, { importPolicy: { rules: [] } }), false, 'no pre-policy copy: ask the peer for a refresh');
});

test('export policy change is re-advertised', () => {
  const { rib, sync, views } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.0/24', '203.0.113.0/24'], base([65001])));
  sync();
  rib.setPolicy(E2, { exportPolicy: { rules: [{ match: { prefixes: [{ prefix: '203.0.113.0/24' }] }, action: 'deny' }, { action: 'permit', set: { med: 30, prepend: { count: 2 } } }] } });
  sync();
  const v = views.get(E2)!;
  assert.equal(v.get(K('203.0.113.0/24')), undefined);
  assert.equal(v.attr(K('198.51.100.0/24'), 'MULTI_EXIT_DISC')?.value, 30, 'a MED set by our policy is sent');
  assert.deepEqual(v.attr(K('198.51.100.0/24'), 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [65020, 65020, 65020, 65001] }]);
});

test('locally originated routes: to iBGP with LOCAL_PREF 100 and empty AS_PATH; withdrawLocal', () => {
  const { rib, sync, changes } = lab();
  sync();
  rib.originate('ipv4-unicast', { prefix: '198.51.100.7/32' }, [{ type: 'COMMUNITIES', values: ['65000:100'] }, { type: 'MULTI_EXIT_DISC', value: 5 }], ['192.0.2.20']);
  let v = sync();
  assert.deepEqual(v.get(I1)!.attr(K('198.51.100.7/32'), 'AS_PATH')?.segments, []);
  assert.equal(v.get(I1)!.attr(K('198.51.100.7/32'), 'LOCAL_PREF')?.value, 100);
  assert.equal(v.get(E1)!.attr(K('198.51.100.7/32'), 'MULTI_EXIT_DISC')?.value, 5, 'our own MED goes to eBGP');
  assert.deepEqual(changes, [['198.51.100.7/32', 'local']]);
  const view = rib.view('ipv4-unicast', '198.51.100.7/32', rib.best('ipv4-unicast', '198.51.100.7/32') as RibPath);
  assert.equal(view.best, true);
  assert.equal(view.reason, 'only-path');
  assert.equal(rib.withdrawLocal('ipv4-unicast', { prefix: '198.51.100.7/32' }), true);
  v = sync();
  assert.equal(v.get(I1)!.routes.size, 0);
});

test('2-octet-AS peer: AS4_PATH merged on receipt (RFC 6793 §4.2.3)', () => {
  const merged = mergeAs4([
    { type: 'ORIGIN', value: 'IGP' },
    { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001, 23456, 23456] }] },
    { type: 'AS4_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [4200000001, 4200000002] }] },
  ]);
  assert.deepEqual(merged, [
    { type: 'ORIGIN', value: 'IGP' },
    { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001] }, { type: 'AS_SEQUENCE', asns: [4200000001, 4200000002] }] },
  ]);
  const rib = new Rib({ asn: 65020, routerId: '192.0.2.20' });
  rib.addPeer({ address: E1, asn: 65001 });
  rib.peerUp(E1, { routerId: E1, families: V4, rx: { as4: false, addPath: new Set(), extendedMessage: false } });
  rib.receiveUpdate(E1, update(['198.51.100.0/24'], [
    { type: 'ORIGIN', value: 'IGP' },
    { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001, 23456] }] },
    { type: 'AS4_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [4200000001] }] },
  ]));
  assert.equal(rib.best('ipv4-unicast', '198.51.100.0/24')?.attrs.asPathLength, 2);
  assert.ok(rib.best('ipv4-unicast', '198.51.100.0/24')?.attrs.pathContains(4200000001));
});

test('removing a peer withdraws its routes; attribute sets are released when unused', () => {
  const { rib } = lab();
  rib.receiveUpdate(E1, update(['198.51.100.0/24'], base([65001])));
  const before = rib.table.size;
  assert.ok(before >= 1);
  rib.removePeer(E1);
  assert.equal(rib.size('ipv4-unicast'), 0);
  assert.throws(() => rib.peer(E1), RangeError);
  assert.ok(rib.table.size < before);
});

test('a local route keeps its configured next hop towards eBGP peers (third-party next hop); without one, next hop self', () => {
  const { rib, sync } = lab();
  sync();
  rib.originate('ipv4-unicast', { prefix: '198.51.100.7/32' }, base([]), ['192.0.2.99']);
  rib.originate('ipv4-unicast', { prefix: '198.51.100.8/32' }, base([]), []);
  const v = sync();
  assert.deepEqual(v.get(E2)!.get(K('198.51.100.7/32'))!.nextHop, ['192.0.2.99']);
  assert.deepEqual(v.get(E2)!.get(K('198.51.100.8/32'))!.nextHop, ['192.0.2.20']);
});

test('routes with equal attributes share one path object; changing, adding to or marking one route leaves the others as they were', () => {
  const { rib, sync } = lab();
  const keys = ['198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32'];
  rib.receiveUpdate(E1, update(keys, base([65001])));
  const b = (k: string) => rib.best('ipv4-unicast', k)!;
  assert.equal(b(keys[0]!), b(keys[1]!), 'one object for the single paths of equal attributes');
  // a new attribute set for one route only
  rib.receiveUpdate(E1, update([keys[0]!], base([65001], [{ type: 'MULTI_EXIT_DISC', value: 5 }])));
  assert.equal(b(keys[0]!).attrs.med, 5);
  assert.equal(b(keys[1]!).attrs.med, undefined, 'the other routes keep their attributes');
  assert.equal(b(keys[2]!).attrs.med, undefined);
  // a second path at one key
  rib.receiveUpdate(E2, update([keys[1]!], base([65002, 65003])));
  assert.equal(rib.paths('ipv4-unicast', keys[1]!).length, 2);
  assert.equal(rib.paths('ipv4-unicast', keys[2]!).length, 1, 'no second path at the other keys');
  assert.equal(rib.explain('ipv4-unicast', keys[1]!)?.reason, 'as-path-length');
  // withdrawing the second path leaves the route alone again
  rib.receiveUpdate(E2, withdraw([keys[1]!]));
  assert.equal(rib.paths('ipv4-unicast', keys[1]!).length, 1);
  // stale marks are per route: a re-sent route is fresh, the others stay stale
  rib.receiveUpdate(E1, update([keys[0]!], base([65001])));
  assert.equal(rib.peerDown(E1, { gracefulRestart: true }), 3);
  rib.peerUp(E1, { routerId: E1, families: V4, localAddress: '192.0.2.20' });
  rib.receiveUpdate(E1, update([keys[2]!], base([65001])));
  assert.deepEqual(keys.map((k) => b(k).stale), [true, true, false]);
  rib.endOfRib(E1, 'ipv4-unicast');
  assert.deepEqual(keys.map((k) => rib.best('ipv4-unicast', k)?.source.id), [undefined, undefined, E1]);
  const v = sync();
  assert.deepEqual([...v.get(E2)!.routes.keys()], [K(keys[2]!)]);
  assert.equal(rib.peerStats(E1).accepted, 1);
});
