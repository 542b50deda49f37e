// One `edgeflow speaker` with three neighbors at once, in efp-m- namespaces: FRR 8.4 (we
// connect; ipv4), BIRD 2 (it connects to us; ipv4 and ipv6 over one IPv4 session) and
// GoBGP 3 (we connect; ipv4, ipv6, VPNv4 and EVPN). Every peer originates routes and
// receives ours and the others' (eBGP transit); the checks compare our REST view and
// `edgeflow ctl` with what each peer shows: state, prefix counts both ways, and the
// attributes of VPNv4 (RD, RT, label) and EVPN type 5 (RD, RT, VNI, router MAC) both ways
// with GoBGP. Then GoBGP withdraws its routes and BIRD is stopped: they leave our RIB
// and the other peers' tables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, NETNS_SKIP, waitFor } from '../harness/netns.js';
import { frrBgpConfig, haveFrr, startFrr, type FrrHandle } from '../harness/frr.js';
import { haveBird, startBird, type BirdHandle } from '../harness/bird.js';
import { gobgpConfig, haveGobgp, startGobgp, type GobgpHandle } from '../harness/gobgp.js';
import { frrNeighbor, startSpeaker, type SpeakerProc } from './driver.js';
import type { NeighborView, PathView } from '../../bgp/view.js';

const skip = NETNS_SKIP || (!haveFrr() ? 'FRR not installed' : !haveBird() ? 'BIRD not installed' : !haveGobgp() ? 'GoBGP not installed' : false);
if (skip) console.log(`# skipping edgeflow speaker multi-peer interop: ${skip}`);

const US = 'efp-m-us';
const NS = { frr: 'efp-m-frr', bird: 'efp-m-bird', gobgp: 'efp-m-gobgp' };
// /30 per peer: us .1/.5/.9, peer .2/.6/.10; an IPv6 /64 per link for next hops of the other family
const FRR = '192.0.2.2';
const BIRD = '192.0.2.6';
const GOBGP = '192.0.2.10';
const OURS = { frr: '192.0.2.1', bird: '192.0.2.5', gobgp: '192.0.2.9' };

const lab = new Lab();
let frr: FrrHandle;
let bird: BirdHandle;
let gobgp: GobgpHandle;
let sp: SpeakerProc;

const BIRD_CONF = [
  `router id ${BIRD};`,
  'protocol device {}',
  'protocol static s4 { ipv4; route 203.0.113.64/26 blackhole; route 203.0.113.96/27 blackhole; }',
  'protocol static s6 { ipv6; route 2001:db8:300::/48 blackhole; }',
  `protocol bgp edge { local ${BIRD} as 65002; neighbor ${OURS.bird} as 65020; connect delay time 1; connect retry time 1; hold time 9; error wait time 1, 2;`,
  '  ipv4 { import all; export where proto = "s4"; };',
  '  ipv6 { import all; export where proto = "s6"; next hop address 2001:db8:2::2; }; }',
  '',
].join('\n');

before(async () => {
  if (skip) return;
  await lab.ns(US);
  for (const n of Object.values(NS)) await lab.ns(n);
  await lab.link(US, 'to-frr', `${OURS.frr}/30`, NS.frr, 'to-us', `${FRR}/30`);
  await lab.link(US, 'to-bird', [`${OURS.bird}/30`, '2001:db8:2::1/64'], NS.bird, 'to-us', [`${BIRD}/30`, '2001:db8:2::2/64']);
  await lab.link(US, 'to-gobgp', [`${OURS.gobgp}/30`, '2001:db8:3::1/64'], NS.gobgp, 'to-us', [`${GOBGP}/30`, '2001:db8:3::2/64']);
  [frr, bird, gobgp, sp] = await Promise.all([
    startFrr(lab, NS.frr, {
      noKernel: true,
      config: frrBgpConfig({
        asn: 65001, routerId: FRR, hostname: 'efp-frr',
        // FRR sends only its own route (no echo of ours and the others' back to us)
        before: ['bgp as-path access-list LOCAL seq 5 permit ^$', 'route-map OWN permit 10', ' match as-path LOCAL', 'exit'],
        neighbors: [{ address: OURS.frr, remoteAs: 65020, options: ['timers 1 3', 'timers connect 1', 'passive'], familyOptions: { 'ipv4 unicast': ['route-map OWN out'] } }],
        families: { 'ipv4 unicast': ['network 203.0.113.0/26'] },
      }),
    }),
    startBird(lab, NS.bird, BIRD_CONF),
    startGobgp(lab, NS.gobgp, gobgpConfig({
      asn: 65003, routerId: GOBGP,
      neighbors: [{ address: OURS.gobgp, peerAs: 65020, families: ['ipv4-unicast', 'ipv6-unicast', 'l3vpn-ipv4-unicast', 'l2vpn-evpn'], passive: true }],
    })),
    startSpeaker(lab, US, {
      asn: 65020,
      routerId: '192.0.2.1',
      listen: { address: '0.0.0.0', port: 179 },
      neighbors: [
        { address: FRR, asn: 65001, holdTime: 9, connectRetry: 1, idleHoldTime: 1, description: 'tor-frr' },
        { address: BIRD, asn: 65002, families: ['ipv4-unicast', 'ipv6-unicast'], holdTime: 9, passive: true, idleHoldTime: 1, description: 'tor-bird' },
        { address: GOBGP, asn: 65003, families: ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'l2vpn-evpn'], holdTime: 9, connectRetry: 1, idleHoldTime: 1, description: 'rr-gobgp' },
      ],
      routes: [
        { prefix: '198.51.100.7/32', communities: ['65020:7'] },
        { prefix: '2001:db8:100::7/128' },
        { family: 'ipv4-vpn', prefix: '198.51.100.8/32', rd: '65020:10', routeTargets: ['65000:10'], label: 100 },
        { family: 'l2vpn-evpn', routeType: 5, prefix: '198.51.100.9/32', rd: '65020:20', routeTargets: ['65000:20'], vni: 5020, routerMac: '02:00:00:00:00:01' },
      ],
    }),
  ]);
  // GoBGP originates one route of each family it speaks with us.
  await gobgp.gobgp(['global', 'rib', 'add', '203.0.113.128/26', '-a', 'ipv4']);
  await gobgp.gobgp(['global', 'rib', 'add', '2001:db8:400::/48', '-a', 'ipv6']);
  await gobgp.gobgp(['global', 'rib', 'add', '10.1.0.0/24', 'label', '200', 'rd', '65003:1', 'rt', '65003:1', '-a', 'vpnv4']);
  await gobgp.gobgp(['global', 'rib', 'add', 'prefix', '10.2.0.0/24', 'gw', '0.0.0.0', 'etag', '0', 'label', '3003', 'rd', '65003:2', 'rt', '65003:2', 'encap', 'vxlan', 'router-mac', '02:00:00:00:00:03', '-a', 'evpn']);
});

after(async () => {
  await lab.cleanup();
});

/** BIRD's "Routes: N imported, M exported" of channel `ch` of protocol `edge`. */
async function birdRoutes(ch: 'ipv4' | 'ipv6'): Promise<{ imported: number; exported: number } | undefined> {
  const out = await bird.birdc(['show', 'protocols', 'all', 'edge']);
  const part = out.split(/Channel /).find((p) => p.startsWith(ch));
  const m = /Routes:\s+(\d+) imported, (?:\d+ filtered, )?(\d+) exported/.exec(part ?? '');
  return m ? { imported: Number(m[1]), exported: Number(m[2]) } : undefined;
}

const gobgpAdjIn = async (family: string): Promise<any[]> => {
  const j = await gobgp.gobgpJson(['neighbor', OURS.gobgp, 'adj-in', '-a', family]);
  return Object.values(j ?? {}).flat() as any[];
};

const allUp = async (): Promise<NeighborView[]> => waitFor('all three Established', async () => {
  const n = await sp.get<NeighborView[]>('/api/v1/bgp/neighbors');
  return n.every((x) => x.state === 'Established') ? n : undefined;
}, 30000);

test('three neighbors at once: FRR (we connect), BIRD (connects to us), GoBGP (we connect) Established with their families (root, netns, FRR, BIRD, GoBGP)', { skip, timeout: 40000 }, async () => {
  const n = await allUp();
  assert.deepEqual(n.map((x) => [x.address, x.description, x.families]), [
    [FRR, 'tor-frr', ['ipv4-unicast']],
    [BIRD, 'tor-bird', ['ipv4-unicast', 'ipv6-unicast']],
    [GOBGP, 'rr-gobgp', ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'l2vpn-evpn']],
  ]);
  assert.equal((await frrNeighbor(frr.vtyshJson, OURS.frr)).bgpState, 'Established');
  assert.match(await bird.birdc(['show', 'protocols', 'edge']), /Established/);
  const g = await gobgp.gobgpJson(['neighbor', OURS.gobgp]);
  assert.equal(g.state.session_state, 6, 'GoBGP ESTABLISHED');
  const birdAll = await bird.birdc(['show', 'protocols', 'all', 'edge']);
  assert.match(birdAll, /Neighbor AS:\s+65020/);
});

test('routes both ways with every peer; prefix counts in our REST, `edgeflow ctl` and each peer agree (root, netns, FRR, BIRD, GoBGP)', { skip, timeout: 40000 }, async () => {
  await allUp();
  // What we must end up holding from each peer.
  const want: Record<string, Record<string, string[]>> = {
    [FRR]: { 'ipv4-unicast': ['203.0.113.0/26'] },
    [BIRD]: { 'ipv4-unicast': ['203.0.113.64/26', '203.0.113.96/27'], 'ipv6-unicast': ['2001:db8:300::/48'] },
    [GOBGP]: { 'ipv4-unicast': ['203.0.113.128/26'], 'ipv6-unicast': ['2001:db8:400::/48'], 'ipv4-vpn': ['65003:1|10.1.0.0/24'], 'l2vpn-evpn': ['x'] },
  };
  for (const [peer, fams] of Object.entries(want)) {
    for (const [family, prefixes] of Object.entries(fams)) {
      await waitFor(`${family} from ${peer}`, async () => (await sp.received(peer, family)).length === prefixes.length, 15000);
      if (family !== 'l2vpn-evpn') assert.deepEqual((await sp.received(peer, family)).map((p) => p.prefix).sort(), prefixes.sort(), `${family} from ${peer}`);
    }
  }
  // Each peer holds what we advertise to it (ours + the other two peers' routes, never its own back).
  await waitFor('FRR holds 1 + 2 + 1 ipv4 routes from us', async () => (await frr.vtyshJson('show bgp summary json')).ipv4Unicast?.peers?.[OURS.frr]?.pfxRcd === 4, 15000);
  await waitFor('BIRD imported ours and the others', async () => {
    const [r4, r6] = [await birdRoutes('ipv4'), await birdRoutes('ipv6')];
    return r4?.imported === 3 && r6?.imported === 2;
  }, 15000);
  await waitFor('GoBGP holds ours and the others', async () => (await gobgpAdjIn('ipv4')).length === 4 && (await gobgpAdjIn('ipv6')).length === 2
    && (await gobgpAdjIn('vpnv4')).length === 1 && (await gobgpAdjIn('evpn')).length === 1, 15000);

  // Our REST counters against the peers' own counts.
  const n = await sp.get<NeighborView[]>('/api/v1/bgp/neighbors');
  const by = Object.fromEntries(n.map((x) => [x.address, x]));
  const fsum = (await frr.vtyshJson('show bgp summary json')).ipv4Unicast.peers[OURS.frr];
  assert.equal(by[FRR]!.prefixes.accepted, fsum.pfxSnt, 'FRR sent = we accepted');
  assert.equal(by[FRR]!.prefixes.advertised, fsum.pfxRcd, 'we advertised = FRR received');
  const [b4, b6] = [await birdRoutes('ipv4'), await birdRoutes('ipv6')];
  assert.equal(by[BIRD]!.prefixes.accepted, b4!.exported + b6!.exported, 'BIRD exported = we accepted');
  assert.equal(by[BIRD]!.prefixes.advertised, b4!.imported + b6!.imported, 'we advertised = BIRD imported');
  const gIn = (await gobgpAdjIn('ipv4')).length + (await gobgpAdjIn('ipv6')).length + (await gobgpAdjIn('vpnv4')).length + (await gobgpAdjIn('evpn')).length;
  assert.equal(by[GOBGP]!.prefixes.advertised, gIn, 'we advertised = GoBGP adj-in');
  assert.equal(by[GOBGP]!.prefixes.accepted, 4);

  // `edgeflow ctl show bgp summary`: one line per neighbor, State/PfxRcd = accepted.
  const sum = await sp.ctl(['show', 'bgp', 'summary']);
  for (const x of n) {
    const line = sum.split('\n').find((l) => l.startsWith(x.address + ' '));
    assert.ok(line, sum);
    const cols = line.trim().split(/\s+/);
    assert.deepEqual([cols[2], cols[6], cols[7]], [String(x.asn), String(x.prefixes.accepted), x.description], line);
  }
  const rib4 = await sp.ctl(['show', 'bgp', 'rib', '--family', 'ipv4-unicast']);
  for (const p of ['198.51.100.7/32', '203.0.113.0/26', '203.0.113.64/26', '203.0.113.128/26']) assert.match(rib4, new RegExp(p.replace(/\./g, '\\.')), rib4);
});

test('VPNv4 and EVPN type 5 both ways with GoBGP: RD, RT, label, VNI, router MAC (root, netns, GoBGP)', { skip, timeout: 30000 }, async () => {
  await allUp();
  // GoBGP's routes as we hold them.
  const vpn = await waitFor('GoBGP VPNv4 in our RIB', async () => (await sp.received(GOBGP, 'ipv4-vpn'))[0], 10000);
  assert.equal(vpn.nlri.rd, '65003:1');
  assert.deepEqual(vpn.nlri.labels, [200]);
  assert.deepEqual(vpn.extendedCommunities, ['rt:65003:1']);
  assert.equal(vpn.nextHop, GOBGP);
  const ev = await waitFor('GoBGP EVPN in our RIB', async () => (await sp.received(GOBGP, 'l2vpn-evpn'))[0], 10000);
  assert.deepEqual([ev.nlri.routeType, ev.nlri.rd, ev.nlri.prefix, ev.nlri.label], [5, '65003:2', '10.2.0.0/24', 3003]);
  assert.deepEqual([...(ev.extendedCommunities ?? [])].sort(), ['encap:8', 'rmac:02:00:00:00:00:03', 'rt:65003:2']);

  // Ours as GoBGP holds them.
  const gv = (await gobgpAdjIn('vpnv4'))[0];
  assert.deepEqual([gv.nlri.prefix, gv.nlri.labels, gv.nlri.rd], ['198.51.100.8/32', [100], { type: 0, admin: 65020, assigned: 10 }], JSON.stringify(gv));
  assert.deepEqual(gv.attrs.find((a: any) => a.type === 16)?.value, [{ type: 0, subtype: 2, value: '65000:10' }], 'route target');
  assert.equal(gv.attrs.find((a: any) => a.type === 14)?.nexthop, OURS.gobgp);
  const rib = await gobgp.gobgp(['neighbor', OURS.gobgp, 'adj-in', '-a', 'evpn']);
  assert.match(rib, /\[type:Prefix\]\[rd:65020:20\]\[etag:0\]\[prefix:198\.51\.100\.9\/32\]/, rib);
  assert.match(rib, /\[5020\]/, 'VNI in the label column');
  assert.match(rib, /Extcomms: \[65000:20\], \[VXLAN\], \[router's mac: 02:00:00:00:00:01\]/, rib);
  const evj = JSON.stringify((await gobgpAdjIn('evpn'))[0]);
  assert.match(evj, /"label":5020/, evj);
});

test('withdraws across peers: GoBGP withdraws, BIRD stops → gone from our RIB and from FRR (root, netns, FRR, BIRD, GoBGP)', { skip, timeout: 30000 }, async () => {
  await allUp();
  await gobgp.gobgp(['global', 'rib', 'del', '203.0.113.128/26', '-a', 'ipv4']);
  await waitFor('GoBGP ipv4 route gone from our RIB', async () => (await sp.received(GOBGP, 'ipv4-unicast')).length === 0, 5000);
  await waitFor('and from FRR', async () => !(await frr.vtyshJson('show bgp ipv4 unicast 203.0.113.128/26 json')).paths?.length, 5000);
  await bird.stop();
  await waitFor('BIRD session down', async () => (await sp.neighbor(BIRD)).state !== 'Established', 10000);
  await waitFor('BIRD routes gone from our RIB', async () => (await sp.rib('ipv4-unicast')).every((p: PathView) => p.peer !== BIRD), 5000);
  await waitFor('and from FRR and GoBGP', async () => !(await frr.vtyshJson('show bgp ipv4 unicast 203.0.113.64/26 json')).paths?.length
    && (await gobgpAdjIn('ipv4')).every((p) => !JSON.stringify(p).includes('203.0.113.64')), 5000);
  assert.equal((await sp.neighbor(FRR)).state, 'Established');
  assert.equal((await sp.neighbor(GOBGP)).state, 'Established');
  assert.deepEqual((await sp.received(GOBGP, 'ipv4-vpn')).length, 1, 'other families of GoBGP stay');
});
