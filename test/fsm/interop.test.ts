// Interop tests of bgp/fsm against real FRR 8.4, BIRD 2 and GoBGP 3 in efs- namespaces:
// sessions Established both ways (we connect / they connect), capabilities and hold time
// as each peer shows them, a peer's shutdown communication (RFC 8203), connection
// collision (§6.8, both sides delay their OPEN so two connections really meet), hold
// timer expiry against a frozen peer (SIGSTOP), and garbage on a passive session
// (Message Header Error, process stays up). Our sessions run in test/fsm/child.ts inside
// namespace efs-fsm-us. Short timers: FRR `timers 1 3`, connect retry 1 s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, NETNS_SKIP, nsRun, waitFor } from '../harness/netns.js';
import { frrBgpConfig, haveFrr, startFrr, type FrrHandle } from '../harness/frr.js';
import { birdProtocolInfo, haveBird, startBird, type BirdHandle } from '../harness/bird.js';
import { gobgpConfig, haveGobgp, startGobgp, type GobgpHandle } from '../harness/gobgp.js';
import { startFsmChild, type FsmChild } from './driver.js';
import type { SessionOptions } from '../../bgp/fsm/index.js';

const skip = NETNS_SKIP || (!haveFrr() ? 'FRR not installed' : !haveBird() ? 'BIRD not installed' : !haveGobgp() ? 'GoBGP not installed' : false);
if (skip) console.log(`# skipping bgp/fsm interop tests: ${skip}`);

const US = 'efs-fsm-us';
const NS = { frr: 'efs-fsm-frr', bird: 'efs-fsm-bird', gobgp: 'efs-fsm-gobgp', junk: 'efs-fsm-junk' };
// /30 per peer: us .1/.5/.9/.13, peer .2/.6/.10/.14
const FRR = '192.0.2.2';
const BIRD = '192.0.2.6';
const GOBGP = '192.0.2.10';
const JUNK = '192.0.2.14';

const lab = new Lab();
let child: FsmChild;
let frr: FrrHandle;
let bird: BirdHandle;
let gobgp: GobgpHandle;

const common = (peerAddress: string, localAddress: string, peerAs: number, extra: Partial<SessionOptions> = {}): SessionOptions => ({
  peerAddress,
  localAddress,
  localAs: 65010,
  routerId: '192.0.2.1',
  peerAs,
  holdTime: 9,
  connectRetryTime: 1,
  idleHoldTime: 1,
  idleHoldMaxTime: 2,
  ...extra,
});

before(async () => {
  if (skip) return;
  await lab.ns(US);
  for (const n of Object.values(NS)) await lab.ns(n);
  await lab.link(US, 'to-frr', '192.0.2.1/30', NS.frr, 'to-us', `${FRR}/30`);
  await lab.link(US, 'to-bird', '192.0.2.5/30', NS.bird, 'to-us', `${BIRD}/30`);
  await lab.link(US, 'to-gobgp', '192.0.2.9/30', NS.gobgp, 'to-us', `${GOBGP}/30`);
  await lab.link(US, 'to-junk', '192.0.2.13/30', NS.junk, 'to-us', `${JUNK}/30`);
  child = await startFsmChild(lab, US);
  await child.listen(179);
  await child.add(common(FRR, '192.0.2.1', 65001, {
    capabilities: { families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { 'ipv4-unicast': 'both' }, gracefulRestart: { restartTime: 120 } },
  }));
  await child.add(common(BIRD, '192.0.2.5', 4200000002, { passive: true, capabilities: { families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { 'ipv6-unicast': 'receive' } } }));
  await child.add(common(GOBGP, '192.0.2.9', 65003, { capabilities: { families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { 'ipv4-unicast': 'receive' } } }));
  await child.add(common(JUNK, '192.0.2.13', 65004, { passive: true }));
  // Daemons start in parallel; FRR is passive (we connect), BIRD connects to us, we connect to GoBGP.
  [frr, bird, gobgp] = await Promise.all([
    startFrr(lab, NS.frr, {
      noKernel: true,
      config: frrBgpConfig({
        asn: 65001, routerId: FRR, hostname: 'efs-frr', bgp: ['bgp graceful-restart'],
        neighbors: [{
          address: '192.0.2.1', remoteAs: 65010, options: ['timers 1 3', 'timers connect 1', 'passive'],
          families: ['ipv4 unicast', 'ipv6 unicast'], familyOptions: { 'ipv4 unicast': ['addpath-tx-all-paths'] },
        }],
      }),
    }),
    startBird(lab, NS.bird, [
      `router id ${BIRD};`,
      'protocol device {}',
      'protocol bgp tor { local 192.0.2.6 as 4200000002; neighbor 192.0.2.5 as 65010; connect delay time 1; connect retry time 1; hold time 9;',
      '  ipv4 { import all; export none; }; ipv6 { import all; export none; add paths tx; }; }',
      '',
    ].join('\n')),
    startGobgp(lab, NS.gobgp, gobgpConfig({ asn: 65003, routerId: GOBGP, neighbors: [{ address: '192.0.2.9', peerAs: 65010, families: ['ipv4-unicast', 'ipv6-unicast'], addPath: ['ipv4-unicast'], passive: true }] })),
  ]);
  for (const p of [FRR, BIRD, GOBGP, JUNK]) await child.start(p);
});

after(async () => {
  await lab.cleanup();
});

const established = (peer: string, from = 0) => child.waitEvent(`${peer} Established`, (e) => e.ev === 'established' && e.peer === peer, 20000, from);

test('FRR (passive): we connect; Established with the capabilities FRR shows (root, netns, FRR)', { skip, timeout: 30000 }, async () => {
  const up = await established(FRR);
  const n = up.negotiated;
  const j = (await frr.vtyshJson('show bgp neighbors 192.0.2.1 json'))['192.0.2.1'];
  assert.equal(j.bgpState, 'Established');
  assert.equal(j.hostForeign, '192.0.2.1');
  assert.equal(j.portLocal, 179, 'FRR listened, we connected');
  const caps = j.neighborCapabilities;
  // Hold time: min(9, 3) on both sides.
  assert.equal(n.holdTime, 3);
  assert.equal(j.bgpTimerHoldTimeMsecs, n.holdTime * 1000);
  assert.equal(caps['4byteAs'], 'advertisedAndReceived');
  assert.equal(n.as4, true);
  assert.equal(caps.extendedMessage, 'advertisedAndReceived');
  assert.deepEqual(n.extendedMessage, { send: true, receive: true });
  assert.equal(caps.enhancedRouteRefresh, 'advertisedAndReceived');
  assert.equal(n.enhancedRouteRefresh, true);
  assert.match(caps.routeRefresh, /^advertisedAndReceived/);
  assert.deepEqual(Object.keys(caps.multiprotocolExtensions).sort(), ['ipv4Unicast', 'ipv6Unicast']);
  assert.deepEqual(n.families, ['ipv4-unicast', 'ipv6-unicast']);
  // Add-path: both ways on ipv4 for FRR and for us; on ipv6 only FRR offered.
  assert.deepEqual(caps.addPath.ipv4Unicast, { txAdvertisedAndReceived: true, rxAdvertisedAndReceived: true });
  assert.deepEqual(n.addPath, { 'ipv4-unicast': { receive: true, send: true } });
  assert.deepEqual(n.receiveContext.addPath, ['ipv4-unicast']);
  // Graceful restart: FRR received our 120 s; we received FRR's restart time and hostname.
  assert.equal(caps.gracefulRestart, 'advertisedAndReceived');
  assert.equal(caps.gracefulRestartRemoteTimerMsecs, 120000);
  assert.equal(n.gracefulRestart.restartTime, j.gracefulRestartInfo.timers.configuredRestartTimer);
  assert.equal(n.peerHostname, caps.hostName.advHostName);
  const info = await child.info(FRR);
  assert.equal(info.state, 'Established');
  assert.equal(info.remote.port, 179);
  assert.ok(info.messages.in.keepalive >= 1);
});

test('BIRD: it connects to our passive session; 4-octet ASN, hold time and add-path as BIRD shows them (root, netns, BIRD)', { skip, timeout: 30000 }, async () => {
  const up = await established(BIRD);
  const n = up.negotiated;
  await waitFor('BIRD Established', async () => (await birdProtocolInfo(bird, 'tor'))?.includes('Established'), 10000);
  const all = await bird.birdc(['show', 'protocols', 'all', 'tor']);
  assert.equal(n.peerAs, 4200000002);
  assert.equal(n.holdTime, 9);
  assert.match(all, /Hold timer:\s+[\d.]+\/9/);
  assert.match(all, /Session:\s+external AS4/);
  // BIRD 2.0.12 lists what we sent under "Neighbor capabilities".
  const theirs = all.split('Neighbor capabilities')[1]?.split('Session:')[0] ?? '';
  assert.match(theirs, /4-octet AS numbers/);
  assert.match(theirs, /Extended message/);
  assert.match(theirs, /ADD-PATH\s+RX: ipv6\s+TX:\s*\n/, 'BIRD sees our add-path receive on ipv6');
  assert.match(theirs, /Enhanced refresh/);
  assert.doesNotMatch(theirs, /Graceful restart/, 'we did not offer graceful restart to BIRD');
  assert.deepEqual(n.extendedMessage, { send: false, receive: true }, 'BIRD did not offer extended messages');
  assert.ok(n.longLivedGracefulRestart, 'BIRD offered long-lived GR');
  // BIRD sends path IDs on ipv6 (add paths tx) and we asked to receive them.
  assert.deepEqual(n.addPath, { 'ipv6-unicast': { receive: true, send: false } });
  const info = await child.info(BIRD);
  assert.notEqual(info.remote.port, 179, 'BIRD initiated: its port is ephemeral');
  assert.equal(info.local.port, 179, 'we accepted on 179');
});

test('GoBGP (passive): we connect; capabilities as GoBGP shows them (root, netns, GoBGP)', { skip, timeout: 30000 }, async () => {
  const up = await established(GOBGP);
  const n = up.negotiated;
  const nb = await waitFor('GoBGP established', async () => {
    const j = await gobgp.gobgpJson(['neighbor', '192.0.2.9']);
    return j?.state?.session_state === 6 ? j : undefined; // 6 = ESTABLISHED in GoBGP's API
  }, 10000);
  assert.equal(n.peerAs, 65003);
  assert.equal(n.holdTime, 9);
  assert.equal(nb.timers.state.negotiated_hold_time, n.holdTime);
  // GoBGP's record of what we sent: protobuf type names; values are base64 protobuf.
  const remote = (nb.state.remote_cap as Array<{ type_url: string; value?: string }>).map((c) => ({ t: c.type_url.split('.').pop(), v: c.value }));
  assert.deepEqual(remote.map((c) => c.t).sort(), [
    'AddPathCapability', 'EnhancedRouteRefreshCapability', 'FourOctetASNCapability', 'MultiProtocolCapability', 'MultiProtocolCapability',
    'RouteRefreshCapability', 'UnknownCapability',
  ]);
  // Field 1 varint 65010 (08 f2 fb 03): our 4-octet ASN.
  assert.equal(remote.find((c) => c.t === 'FourOctetASNCapability')?.v, Buffer.from([0x08, 0xf2, 0xfb, 0x03]).toString('base64'));
  // Extended message (code 6) is unknown to GoBGP 3.10: field 1 varint 6.
  assert.equal(remote.find((c) => c.t === 'UnknownCapability')?.v, Buffer.from([0x08, 0x06]).toString('base64'));
  // Add-path: one tuple, ipv4 unicast (afi 1, safi 1), mode 1 = receive.
  assert.equal(remote.find((c) => c.t === 'AddPathCapability')?.v, Buffer.from([0x0a, 0x08, 0x0a, 0x04, 0x08, 0x01, 0x10, 0x01, 0x10, 0x01]).toString('base64'));
  assert.deepEqual(n.families, ['ipv4-unicast', 'ipv6-unicast']);
  assert.deepEqual(n.addPath, { 'ipv4-unicast': { receive: true, send: false } });
  assert.equal(n.gracefulRestart, undefined);
  assert.equal(n.enhancedRouteRefresh, false);
});

test('a peer sending garbage to our passive session gets Message Header Error 1/1; the process stays up (root, netns)', { skip, timeout: 20000 }, async () => {
  // A raw TCP client in the junk namespace: prints every byte it receives as hex.
  const script = `const s=require('net').connect({host:'192.0.2.13',port:179,localAddress:'${JUNK}'},()=>s.write(Buffer.from('GET / HTTP/1.1\\r\\nHost: edgeflow\\r\\n\\r\\n')));let b=[];s.on('data',d=>b.push(d));s.on('close',()=>{process.stdout.write(Buffer.concat(b).toString('hex'));});s.on('error',()=>{});setTimeout(()=>s.destroy(),5000);`;
  const hex = await nsRun(NS.junk, process.execPath, ['-e', script]);
  const bytes = Buffer.from(hex, 'hex');
  // Our OPEN first (we are passive: TCP up → OPEN), then NOTIFICATION 1/1.
  assert.ok(bytes.length >= 19 + 21, `got ${hex}`);
  const openLen = bytes.readUInt16BE(16);
  assert.equal(bytes[18], 1, 'OPEN');
  const notif = bytes.subarray(openLen);
  assert.equal(notif[18], 3, 'NOTIFICATION');
  assert.deepEqual([notif[19], notif[20]], [1, 1], 'Message Header Error / Connection Not Synchronized');
  assert.equal(child.alive(), true);
  const ping = await child.ping();
  assert.equal(ping.sessions.length, 4);
  const info = await child.info(JUNK);
  assert.equal(info.lastError.direction, 'sent');
  assert.equal(info.lastError.name, 'Message Header Error/Connection Not Synchronized');
  // The other sessions did not notice.
  for (const p of [BIRD, GOBGP]) assert.equal((await child.info(p)).state, 'Established');
});

test('FRR `neighbor shutdown message`: we report the RFC 8203 text, then reconnect when it is lifted (root, netns, FRR)', { skip, timeout: 30000 }, async () => {
  await established(FRR);
  const from = child.events.length;
  await frr.vtysh(['conf t', 'router bgp 65001', 'neighbor 192.0.2.1 shutdown message efs maintenance window']);
  const down = await child.waitEvent('FRR down', (e) => e.ev === 'down' && e.peer === FRR, 10000, from);
  assert.equal(down.notification.direction, 'received');
  assert.deepEqual([down.notification.code, down.notification.subcode], [6, 2]);
  assert.equal(down.notification.shutdownMessage, 'efs maintenance window');
  assert.match(down.reason, /efs maintenance window/);
  const info = await child.info(FRR);
  assert.equal(info.lastError.shutdownMessage, 'efs maintenance window');
  await frr.vtysh(['conf t', 'router bgp 65001', 'no neighbor 192.0.2.1 shutdown']);
  await established(FRR, from);
});

test('collision: both sides connect and delay their OPEN; one connection survives, the higher BGP identifier\'s (root, netns, FRR)', { skip, timeout: 40000 }, async () => {
  // Make FRR active with DelayOpen 2 s and restart both sides together.
  await child.stop(FRR, { message: 'collision test' });
  await frr.vtysh(['conf t', 'router bgp 65001', 'neighbor 192.0.2.1 shutdown']);
  await child.add(common(FRR, '192.0.2.1', 65001, { delayOpenTime: 2, connectRetryTime: 1 }));
  await frr.vtysh(['conf t', 'router bgp 65001', 'no neighbor 192.0.2.1 passive', 'neighbor 192.0.2.1 timers delayopen 2']);
  const from = child.events.length;
  await Promise.all([child.start(FRR), frr.vtysh(['conf t', 'router bgp 65001', 'no neighbor 192.0.2.1 shutdown'])]);
  const col = await child.waitEvent('collision', (e) => e.ev === 'collision' && e.peer === FRR, 15000, from);
  // FRR's identifier 192.0.2.2 > ours 192.0.2.1: the connection FRR initiated (incoming for us) stays.
  assert.equal(col.keep, 'incoming');
  await established(FRR, from);
  const j = await waitFor('FRR Established', async () => {
    const x = (await frr.vtyshJson('show bgp neighbors 192.0.2.1 json'))['192.0.2.1'];
    return x.bgpState === 'Established' ? x : undefined;
  }, 10000);
  assert.equal(j.portForeign, 179, 'FRR keeps the connection it initiated (to our port 179)');
  // Exactly one BGP connection between us, and it stays up.
  await new Promise((r) => setTimeout(r, 2000));
  const ss = await nsRun(US, 'ss', ['-Htn', 'state', 'established', 'dst', FRR]);
  assert.equal(ss.trim().split('\n').filter(Boolean).length, 1, ss);
  const info = await child.info(FRR);
  assert.equal(info.state, 'Established');
  assert.equal(info.local.port, 179, 'we kept the incoming connection');
  assert.ok(info.history.some((h: { reason: string }) => /collision/.test(h.reason)), JSON.stringify(info.history));
});

test('hold timer: FRR frozen with SIGSTOP → we send Hold Timer Expired and go down (root, netns, FRR)', { skip, timeout: 30000 }, async () => {
  await established(FRR);
  const pid = frr.pids.bgpd!;
  const from = child.events.length;
  process.kill(pid, 'SIGSTOP');
  try {
    const down = await child.waitEvent('hold timer expiry', (e) => e.ev === 'down' && e.peer === FRR, 10000, from);
    assert.match(down.reason, /hold timer expired/);
    assert.deepEqual([down.notification.direction, down.notification.code, down.notification.subcode], ['sent', 4, 0]);
    const info = await child.info(FRR);
    assert.equal(info.lastError.name, 'Hold Timer Expired');
    assert.ok(info.flaps >= 1);
  } finally {
    process.kill(pid, 'SIGCONT');
    await frr.stop();
  }
  assert.equal(child.alive(), true);
});
