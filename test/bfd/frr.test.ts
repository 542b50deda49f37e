// BFD interop with FRR 8.4 bfdd (RFC 5880/5881) and BIRD 2 in network namespaces: our
// BfdManager runs in its own namespace (test/bfd/child.ts) with the GTSM nftables rules of
// bgp/bfd applied on both sides, so a packet sent with a TTL other than 255 would never
// arrive. Proves: Up both ways, negotiated intervals in FRR's output and in our snapshot,
// a poll sequence when we change our TX while Up, FRR shutdown → our Down (diag 3),
// FRR frozen → our Down (diag 1), we frozen → FRR Down, a TTL-254 packet never reaches us.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, NETNS_SKIP, nsRun, run, waitFor } from '../harness/netns.js';
import { haveFrr, startFrr } from '../harness/frr.js';
import { haveBird, startBird } from '../harness/bird.js';
import { bfdGtsmNftScript } from '../../bgp/bfd/index.js';
import { frrBfdConfig, frrBfdPeer, startBfdChild } from './driver.js';

const haveNft = async (): Promise<boolean> => (await run('nft', ['--version'], { allowFail: true })) !== '';
const skip = NETNS_SKIP || (!haveFrr() ? 'FRR not installed' : false);
if (skip) console.log(`# skipping BFD/FRR interop: ${skip}`);

const US = 'efb-i-us';
const FRR = 'efb-i-frr';
const BIRD = 'efb-i-bird';

test('BFD with FRR bfdd: IPv4 and IPv6 Up, negotiation, poll, shutdown, freeze both ways, GTSM (root, netns, FRR, nftables)', { skip, timeout: 120000 }, async (t) => {
  assert.ok(await haveNft(), 'nft is needed for the GTSM rules');
  const lab = new Lab();
  t.after(() => lab.cleanup());
  await lab.ns(US);
  await lab.ns(FRR);
  await lab.link(US, 'to-frr', ['192.0.2.2/24', '2001:db8::2/64'], FRR, 'to-us', ['192.0.2.1/24', '2001:db8::1/64']);
  // GTSM on both ends: only TTL 255 reaches port 3784 (RFC 5881 §5).
  for (const ns of [US, FRR]) await nsRun(ns, 'nft', ['-f', '-'], { input: bfdGtsmNftScript() });

  const frr = await startFrr(lab, FRR, {
    daemons: ['bfdd'],
    config: frrBfdConfig({ hostname: FRR, peers: [{ peer: '192.0.2.2', local: '192.0.2.1' }, { peer: '2001:db8::2', local: '2001:db8::1' }], rx: 100, tx: 100, mult: 3 }),
  });
  const us = await startBfdChild(lab, US);
  // IPv6 too (hop limit 255, the ip6 GTSM rule): Up both ways, then removed with AdminDown.
  await us.add({ peer: '2001:db8::1', local: '2001:db8::2', minTx: 100, minRx: 100, multiplier: 3 });
  await us.waitEvent((e) => e.ev === 'up' && e.peer === '2001:db8::1', 20000, 0);
  await waitFor('FRR IPv6 peer up', async () => (await frrBfdPeer(frr, '2001:db8::2'))?.status === 'up', 20000);
  await us.remove('2001:db8::1');
  await waitFor('FRR sees our IPv6 AdminDown', async () => (await frrBfdPeer(frr, '2001:db8::2'))?.['remote-diagnostic'] === 'administratively down', 5000);
  // Asymmetric on purpose, so each negotiated value shows where it came from.
  await us.add({ peer: '192.0.2.1', local: '192.0.2.2', minTx: 100, minRx: 200, multiplier: 4 });

  // 1. Up both ways.
  let from: number;
  await us.waitEvent((e) => e.ev === 'up' && e.peer === '192.0.2.1', 20000, 0);
  await waitFor(`FRR peer up\n${frr.log()}`, async () => (await frrBfdPeer(frr, '192.0.2.2'))?.status === 'up', 20000);

  // 2. Intervals negotiated as configured: FRR sees our values, we see FRR's, once both polls are over.
  const p = await waitFor('FRR shows our timers', async () => {
    const x = await frrBfdPeer(frr, '192.0.2.2');
    return x && x['remote-receive-interval'] === 200 && x['remote-transmit-interval'] === 100 && x['remote-detect-multiplier'] === 4 ? x : undefined;
  }, 10000);
  assert.equal(p['receive-interval'], 100);
  assert.equal(p['transmit-interval'], 100);
  const snap = await waitFor('our snapshot settles', async () => {
    const s = (await us.snapshot()).find((x) => x.peer === '192.0.2.1');
    return s && s.rxInterval === 200 && s.txInterval === 100 ? s : undefined;
  }, 10000);
  assert.equal(snap.state, 'Up');
  assert.equal(snap.remoteState, 'Up');
  assert.equal(snap.multiplier, 4);
  assert.equal(snap.remoteMultiplier, 3);
  assert.equal(snap.detectionTimeMs, 600, 'FRR mult 3 × max(our rx 200, FRR tx 100)');
  assert.equal(snap.remoteDiscr, p.id, 'our remote discriminator is FRR’s local one');
  assert.equal(p['remote-id'], snap.localDiscr);
  assert.ok(snap.counters.pollsCompleted >= 1, 'the Up transition’s poll got its Final');

  // 3. Timer change while Up: poll sequence, FRR shows the new remote interval; no flap.
  const mark = us.events.length;
  await us.setTimers('192.0.2.1', { minTx: 300 });
  await waitFor('FRR sees TX 300', async () => (await frrBfdPeer(frr, '192.0.2.2'))?.['remote-transmit-interval'] === 300, 10000);
  const after = await waitFor('our TX is 300', async () => {
    const s = (await us.snapshot()).find((x) => x.peer === '192.0.2.1');
    return s && s.txInterval === 300 ? s : undefined;
  }, 5000);
  assert.ok(after.counters.pollsCompleted > snap.counters.pollsCompleted, 'a poll completed');
  assert.equal((await frrBfdPeer(frr, '192.0.2.2'))?.status, 'up');
  assert.ok(!us.events.slice(mark).some((e) => e.ev === 'down'), 'no flap during the change');
  await us.setTimers('192.0.2.1', { minTx: 100 });

  // 4. FRR shuts the peer down administratively → we go Down with diag 3, remote AdminDown.
  from = us.events.length;
  await frr.vtysh(['configure terminal', 'bfd', 'peer 192.0.2.2 local-address 192.0.2.1', 'shutdown']);
  const d1 = await us.waitEvent((e) => e.ev === 'down' && e.peer === '192.0.2.1', 10000, from);
  assert.equal(d1.diagName, 'neighbor-signaled-session-down');
  assert.equal(d1.remoteAdminDown, true);
  from = us.events.length;
  await frr.vtysh(['configure terminal', 'bfd', 'peer 192.0.2.2 local-address 192.0.2.1', 'no shutdown']);
  await us.waitEvent((e) => e.ev === 'up', 20000, from);

  // 5. FRR's bfdd frozen (SIGSTOP) → we detect it: Down, diag 1.
  const bfdd = frr.pids.bfdd!;
  from = us.events.length;
  process.kill(bfdd, 'SIGSTOP');
  try {
    const d2 = await us.waitEvent((e) => e.ev === 'down', 10000, from);
    assert.equal(d2.diagName, 'control-detection-time-expired');
    assert.equal(d2.remoteAdminDown, false);
  } finally {
    process.kill(bfdd, 'SIGCONT');
  }
  await us.waitEvent((e) => e.ev === 'up', 20000, from);
  await waitFor('FRR up again', async () => (await frrBfdPeer(frr, '192.0.2.2'))?.status === 'up', 20000);

  // 6. We go silent (our process frozen) → FRR goes Down, "control detection time expired".
  process.kill(us.pid, 'SIGSTOP');
  try {
    const down = await waitFor('FRR detects our silence', async () => {
      const x = await frrBfdPeer(frr, '192.0.2.2');
      return x && x.status !== 'up' ? x : undefined;
    }, 10000, 50);
    assert.equal(down.diagnostic, 'control detection time expired');
  } finally {
    process.kill(us.pid, 'SIGCONT');
  }
  await waitFor('FRR up after we resume', async () => (await frrBfdPeer(frr, '192.0.2.2'))?.status === 'up', 20000);

  // 7. GTSM: a valid-looking packet with TTL 254 is dropped by the kernel; with TTL 255 it
  // reaches us (and is dropped by us as 'no-session', since its source is not a peer).
  await nsRun(FRR, 'ip', ['addr', 'add', '192.0.2.9/24', 'dev', 'to-us']);
  const before = (await us.drops())['no-session'] ?? 0;
  const send = (ttl: number) => nsRun(FRR, process.execPath, ['-e', `
    const s = require('dgram').createSocket('udp4');
    const b = Buffer.from('20400318' + '00000007' + '00000000' + '000f4240' + '000f4240' + '00000000', 'hex');
    s.bind({ address: '192.0.2.9', port: 50000 }, () => { s.setTTL(${ttl}); s.send(b, 3784, '192.0.2.2', () => s.close()); });
  `]);
  await send(254);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await us.drops())['no-session'] ?? 0, before, 'the TTL-254 packet never reached us');
  await send(255);
  await waitFor('the TTL-255 packet reached us', async () => ((await us.drops())['no-session'] ?? 0) === before + 1, 5000);

  await us.exit();
});

const birdSkip = skip || (!haveBird() ? 'BIRD not installed' : false);
test('BFD with BIRD 2: Up, negotiated intervals, BIRD frozen → our Down (root, netns, BIRD)', { skip: birdSkip, timeout: 60000 }, async (t) => {
  const lab = new Lab();
  t.after(() => lab.cleanup());
  await lab.ns(US);
  await lab.ns(BIRD);
  await lab.link(US, 'to-bird', '198.51.100.2/24', BIRD, 'to-us', '198.51.100.1/24');
  const bird = await startBird(lab, BIRD, [
    'router id 198.51.100.1;',
    'protocol device {}',
    'protocol bfd {',
    '  interface "to-us" { min rx interval 100 ms; min tx interval 150 ms; multiplier 3; };',
    '  neighbor 198.51.100.2 local 198.51.100.1;',
    '}',
    '',
  ].join('\n'));
  const us = await startBfdChild(lab, US);
  await us.add({ peer: '198.51.100.1', local: '198.51.100.2', minTx: 100, minRx: 100, multiplier: 3 });
  await us.waitEvent((e) => e.ev === 'up', 20000, 0);
  await waitFor(`BIRD session Up\n${bird.log()}`, async () => /198\.51\.100\.2\s+\S+\s+Up/.test(await bird.birdc('show bfd sessions')), 10000);
  const snap = await waitFor('intervals settle', async () => {
    const s = (await us.snapshot())[0];
    return s && s.rxInterval === 150 && s.txInterval === 100 ? s : undefined;
  }, 10000);
  assert.equal(snap.detectionTimeMs, 450, 'BIRD mult 3 × max(our rx 100, BIRD tx 150)');
  const from = us.events.length;
  process.kill(bird.pid!, 'SIGSTOP');
  try {
    const d = await us.waitEvent((e) => e.ev === 'down', 10000, from);
    assert.equal(d.diagName, 'control-detection-time-expired');
  } finally {
    process.kill(bird.pid!, 'SIGCONT');
  }
  await us.waitEvent((e) => e.ev === 'up', 20000, from);
  await us.exit();
});
