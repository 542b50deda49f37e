// UPDATE packing: decode what drain() wrote with the codec and check every route is
// there exactly once, every message fits the session's maximum, UPDATEs are few, and
// the family-specific encodings (MP_REACH, RFC 8950, VPN, EVPN, 2-octet AS) are right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, type CodecContext, type Family, type PathAttribute } from '../codec/index.js';
import { Rib } from './rib.js';
import { toCodecRoute } from '../routespec.js';
import { PeerView } from './testkit.js';

const PEER = '192.0.2.1';
const CTX: CodecContext = { as4: true, addPath: new Set(), extendedMessage: false };

function ribWithPeer(families: Family[] = ['ipv4-unicast'], session: Partial<Parameters<Rib['peerUp']>[1]> = {}, asn = 65020) {
  const rib = new Rib({ asn, routerId: '192.0.2.20' });
  rib.addPeer({ address: PEER, asn: 65001 });
  rib.peerUp(PEER, { routerId: PEER, families, localAddress: '192.0.2.20', ...session });
  return rib;
}

const prefix = (i: number) => `${100}.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;

test('10,000 /32s with 3 attribute sets: each once, every UPDATE <= 4096 octets, nearly full', () => {
  const rib = ribWithPeer();
  const N = 10000;
  for (let i = 0; i < N; i++) rib.originate('ipv4-unicast', { prefix: prefix(i) }, [{ type: 'COMMUNITIES', values: [`65020:${i % 3}`] }], ['192.0.2.20']);
  const v = new PeerView(CTX).drainFrom(rib, PEER, 12000);
  assert.deepEqual(v.seenTwice, []);
  assert.equal(v.routes.size, N);
  assert.equal(v.announcements, N, 'no route sent twice');
  assert.ok(v.maxSize <= 4096);
  for (let i = 0; i < N; i++) {
    const r = v.get(`ipv4-unicast|${prefix(i)}`)!;
    assert.deepEqual(r.attrs.find((a) => a.type === 'COMMUNITIES'), { type: 'COMMUNITIES', values: [`65020:${i % 3}`] });
  }
  // Each group of 3,333 routes needs ceil(3333*5 / ~4060) = 5 UPDATEs.
  assert.ok(v.updates <= 15, `${v.updates} UPDATEs`);
  assert.deepEqual(v.eor, ['ipv4-unicast']);
  // Withdraw all: packed too.
  for (let i = 0; i < N; i++) rib.withdrawLocal('ipv4-unicast', { prefix: prefix(i) });
  const before = v.updates;
  v.drainFrom(rib, PEER);
  assert.equal(v.routes.size, 0);
  assert.equal(v.withdrawals, N);
  assert.ok(v.updates - before <= 13, `${v.updates - before} withdrawal UPDATEs`);
});

test('extended messages (RFC 8654): UPDATEs up to 65535 octets', () => {
  const ext: CodecContext = { ...CTX, extendedMessage: true };
  const rib = ribWithPeer(['ipv4-unicast', 'ipv6-unicast'], { tx: ext });
  for (let i = 0; i < 30000; i++) rib.originate('ipv4-unicast', { prefix: prefix(i) }, [], ['192.0.2.20']);
  for (let i = 0; i < 5000; i++) rib.originate('ipv6-unicast', { prefix: `2001:db8:${i.toString(16)}::/48` }, [], ['2001:db8::20']);
  const msgs: Buffer[] = [];
  for (let m = rib.drain(PEER, 1 << 20); m.length; m = rib.drain(PEER, 1 << 20)) msgs.push(...m);
  const v = new PeerView(ext).apply(msgs);
  assert.equal(v.routes.size, 35000);
  assert.ok(v.maxSize <= 65535 && v.maxSize > 60000, `largest ${v.maxSize}`);
  assert.ok(v.updates <= 4, `${v.updates} UPDATEs`);
  assert.deepEqual(v.eor, ['ipv4-unicast', 'ipv6-unicast']);
  const eor6 = decodeMessage(msgs.at(-1)!, ext);
  assert.ok(eor6.ok && eor6.message.type === 'UPDATE' && eor6.message.attributes[0]?.type === 'MP_UNREACH_NLRI', 'IPv6 End-of-RIB is an empty MP_UNREACH');
  assert.equal(msgs.at(-1)!.length, 29);
});

test('IPv6 routes go in MP_REACH; over an IPv4 session the next hop is IPv4-mapped', () => {
  const rib = ribWithPeer(['ipv6-unicast']);
  rib.originate('ipv6-unicast', { prefix: '2001:db8:7::/48' }, [], []);
  const v = new PeerView(CTX).drainFrom(rib, PEER);
  assert.deepEqual(v.get('ipv6-unicast|2001:db8:7::/48')?.nextHop, ['::ffff:192.0.2.20']);
  const rib2 = ribWithPeer(['ipv6-unicast']);
  rib2.peerUp(PEER, { routerId: PEER, families: ['ipv6-unicast'], localAddress: '2001:db8::20' });
  rib2.originate('ipv6-unicast', { prefix: '2001:db8:7::/48' }, [], []);
  assert.deepEqual(new PeerView(CTX).drainFrom(rib2, PEER).get('ipv6-unicast|2001:db8:7::/48')?.nextHop, ['2001:db8::20']);
});

test('RFC 8950: IPv4 routes with an IPv6 next hop go in MP_REACH when negotiated', () => {
  const rib = ribWithPeer(['ipv4-unicast'], { localAddress: '2001:db8::20', extendedNextHop: ['ipv4-unicast'] });
  rib.originate('ipv4-unicast', { prefix: '198.51.100.7/32' }, [], []);
  const msgs = rib.drain(PEER);
  const d = decodeMessage(msgs[0]!, CTX);
  assert.ok(d.ok && d.message.type === 'UPDATE');
  assert.equal(d.message.nlri.length, 0);
  const mp = d.message.attributes.find((a) => a.type === 'MP_REACH_NLRI');
  assert.ok(mp && mp.type === 'MP_REACH_NLRI');
  assert.equal(mp.family, 'ipv4-unicast');
  assert.deepEqual(mp.nextHop, ['2001:db8::20']);
  assert.deepEqual(JSON.parse(JSON.stringify(mp.nlri)), [{ prefix: '198.51.100.7/32' }]);
  // Withdrawals still use the RFC 4271 field.
  rib.withdrawLocal('ipv4-unicast', { prefix: '198.51.100.7/32' });
  const w = decodeMessage(rib.drain(PEER)[0]!, CTX);
  assert.ok(w.ok && w.message.type === 'UPDATE');
  assert.deepEqual(JSON.parse(JSON.stringify(w.message.withdrawn)), [{ prefix: '198.51.100.7/32' }]);
});

test('VPNv4 and EVPN type-5 routes from config: RD, label, route targets, VNI, router MAC', () => {
  const rib = ribWithPeer(['ipv4-vpn', 'l2vpn-evpn']);
  for (const r of [
    { family: 'ipv4-vpn' as const, prefix: '198.51.100.8/32', nextHop: '192.0.2.20', rd: '65020:10', routeTargets: ['65000:10'], label: 100 },
    { family: 'l2vpn-evpn' as const, routeType: 5, prefix: '198.51.100.9/32', nextHop: '192.0.2.20', rd: '65020:20', routeTargets: ['65000:20'], vni: 5020, routerMac: '02:00:00:00:00:01' },
  ]) {
    const l = toCodecRoute(r as Parameters<typeof toCodecRoute>[0]);
    rib.originate(l.family, l.nlri, l.attributes, l.nextHop ? [l.nextHop] : []);
  }
  assert.equal(rib.best('ipv4-vpn', '65020:10|198.51.100.8/32')?.source.id, 'local');
  assert.ok(rib.best('l2vpn-evpn', '5|65020:20|0|198.51.100.9/32'));
  const v = new PeerView(CTX).drainFrom(rib, PEER);
  const vpn = v.get('ipv4-vpn|65020:10|198.51.100.8/32')!;
  assert.deepEqual(vpn.nlri, { rd: '65020:10', prefix: '198.51.100.8/32', labels: [100] });
  assert.deepEqual(vpn.nextHop, ['192.0.2.20']);
  assert.deepEqual(vpn.attrs.find((a) => a.type === 'EXTENDED_COMMUNITIES'), { type: 'EXTENDED_COMMUNITIES', values: [{ type: 'route-target', value: '65000:10' }] });
  const evpn = v.get('l2vpn-evpn|5|65020:20|0|198.51.100.9/32')!;
  assert.deepEqual(evpn.nlri, { routeType: 5, rd: '65020:20', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, prefix: '198.51.100.9/32', gateway: '0.0.0.0', label: 5020 });
  assert.deepEqual(evpn.attrs.find((a) => a.type === 'EXTENDED_COMMUNITIES'), {
    type: 'EXTENDED_COMMUNITIES',
    values: [{ type: 'route-target', value: '65000:20' }, { type: 'encapsulation', tunnelType: 8 }, { type: 'router-mac', mac: '02:00:00:00:00:01' }],
  });
  assert.deepEqual(v.eor.sort(), ['ipv4-vpn', 'l2vpn-evpn']);
  // Withdraw the VPN route: MP_UNREACH with its NLRI.
  rib.withdrawLocal('ipv4-vpn', { rd: '65020:10', prefix: '198.51.100.8/32', labels: [100] });
  v.drainFrom(rib, PEER);
  assert.equal(v.get('ipv4-vpn|65020:10|198.51.100.8/32'), undefined);
});

test('2-octet-AS peer: AS_TRANS in AS_PATH and the real path in AS4_PATH (RFC 6793 §4.2.2)', () => {
  const as2: CodecContext = { as4: false, addPath: new Set(), extendedMessage: false };
  const rib = ribWithPeer(['ipv4-unicast'], { tx: as2 }, 4200000001);
  rib.originate('ipv4-unicast', { prefix: '198.51.100.7/32' }, [], ['192.0.2.20']);
  const v = new PeerView(as2).drainFrom(rib, PEER);
  const attrs = v.get('ipv4-unicast|198.51.100.7/32')!.attrs;
  assert.deepEqual(attrs.find((a) => a.type === 'AS_PATH'), { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [23456] }] });
  assert.deepEqual(attrs.find((a) => a.type === 'AS4_PATH'), { type: 'AS4_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [4200000001] }] });
});

test('unknown optional transitive attributes pass with the Partial bit; non-transitive ones do not', () => {
  const rib = new Rib({ asn: 65020, routerId: '192.0.2.20' });
  rib.addPeer({ address: '192.0.2.9', asn: 65009 });
  rib.addPeer({ address: PEER, asn: 65001 });
  rib.peerUp(PEER, { routerId: PEER, families: ['ipv4-unicast'], localAddress: '192.0.2.20' });
  const attrs: PathAttribute[] = [
    { type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65009] }] }, { type: 'NEXT_HOP', value: '192.0.2.9' },
    { type: 'UNKNOWN', code: 99, flags: 0xc0, value: 'abcd' }, { type: 'UNKNOWN', code: 98, flags: 0x80, value: '01' },
  ];
  rib.receiveUpdate('192.0.2.9', { type: 'UPDATE', withdrawn: [], attributes: attrs, nlri: [{ prefix: '198.51.100.0/24' }] });
  const v = new PeerView(CTX).drainFrom(rib, PEER);
  const got = v.get('ipv4-unicast|198.51.100.0/24')!.attrs.filter((a) => a.type === 'UNKNOWN');
  assert.deepEqual(got, [{ type: 'UNKNOWN', code: 99, flags: 0xe0, value: 'abcd' }]);
});

type Op = { i: number; len: number; attr: number; del: boolean };

/** Originates (MED = attr, none for 0) or withdraws each op's prefix, keeping `want` (prefix → MED) in step. */
function applyOps(rib: Rib, want: Map<string, number>, ops: Op[], addrOf: (o: Op) => number): void {
  for (const o of ops) {
    const addr = addrOf(o);
    const p = `${addr >>> 24}.${(addr >> 16) & 255}.${(addr >> 8) & 255}.${addr & 255}/${o.len}`;
    if (o.del) {
      rib.withdrawLocal('ipv4-unicast', { prefix: p });
      want.delete(p);
    } else {
      rib.originate('ipv4-unicast', { prefix: p }, o.attr ? [{ type: 'MULTI_EXIT_DISC', value: o.attr }] : [], ['192.0.2.20']);
      want.set(p, o.attr);
    }
  }
}

test('property: any sequence of originate/withdraw, drained in any chunk size, leaves the peer with exactly the Loc-RIB', () => {
  const op = fc.record({ i: fc.integer({ min: 0, max: 400 }), len: fc.integer({ min: 8, max: 32 }), attr: fc.integer({ min: 0, max: 3 }), del: fc.boolean() });
  fc.assert(
    fc.property(fc.array(fc.array(op, { maxLength: 120 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 100, max: 20000 }), (rounds, chunk) => {
      const rib = ribWithPeer();
      const want = new Map<string, number>();
      const v = new PeerView(CTX);
      for (const ops of rounds) {
        applyOps(rib, want, ops, ({ i, len }) => ((0x0a000000 + i * 0x10000 * 7 + i) >>> 0) & (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0));
        v.drainFrom(rib, PEER, chunk);
        assert.ok(v.maxSize <= 4096);
        assert.deepEqual(v.seenTwice, []);
        assert.deepEqual(new Set([...v.routes.keys()].map((k) => k.slice('ipv4-unicast|'.length))), new Set(want.keys()));
        for (const [p, attr] of want) {
          const med = v.get(`ipv4-unicast|${p}`)!.attrs.find((a) => a.type === 'MULTI_EXIT_DISC');
          assert.deepEqual(med && med.type === 'MULTI_EXIT_DISC' ? med.value : 0, attr);
        }
      }
      assert.deepEqual(v.eor, ['ipv4-unicast']);
    }),
    { numRuns: 60 },
  );
});

test('property: a route refresh drained a chunk at a time while routes change still leaves the peer with exactly the Loc-RIB', () => {
  // The re-send walks the Adj-RIB-Out with an iterator held across drain() calls while
  // originate/withdraw change it; keymap.test.ts checks that iterator skips nothing.
  const op = fc.record({ i: fc.integer({ min: 0, max: 300 }), len: fc.constantFrom(24, 32), attr: fc.integer({ min: 0, max: 2 }), del: fc.boolean() });
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 150 }), fc.array(op, { maxLength: 150 }), fc.integer({ min: 100, max: 3000 }), (first, during, chunk) => {
      const rib = ribWithPeer();
      const want = new Map<string, number>();
      const apply = (ops: Op[]) => applyOps(rib, want, ops, ({ i, len }) => (0x0a000000 + i * 0x101) >>> 0 & (len === 24 ? 0xffffff00 : 0xffffffff));
      const v = new PeerView(CTX);
      apply(first);
      v.drainFrom(rib, PEER, chunk);
      rib.routeRefresh(PEER, 'ipv4-unicast');
      // interleave: one chunk of the re-send, a few changes, the next chunk...
      for (let k = 0; k < during.length; k += 10) {
        v.apply(rib.drain(PEER, chunk));
        apply(during.slice(k, k + 10));
      }
      v.drainFrom(rib, PEER, chunk);
      assert.deepEqual(new Set([...v.routes.keys()].map((k) => k.slice('ipv4-unicast|'.length))), new Set(want.keys()));
      for (const [p, attr] of want) {
        const med = v.get(`ipv4-unicast|${p}`)!.attrs.find((a) => a.type === 'MULTI_EXIT_DISC');
        assert.deepEqual(med && med.type === 'MULTI_EXIT_DISC' ? med.value : 0, attr);
      }
    }),
    { numRuns: 100 },
  );
});
