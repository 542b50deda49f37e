// `edgeflow speaker` with BFD (RFC 5880/5881, RFC 5882 for BGP as its client) against
// FRR 8.4 bgpd + bfdd in efp-b- namespaces: the neighbor's `bfd: { minTx: 100, minRx: 100,
// multiplier: 3 }` comes Up with FRR's `neighbor X bfd profile fast`; our REST view shows
// the BFD state and FRR shows our intervals; freezing FRR's bfdd (SIGSTOP) brings our BGP
// session down with Cease/10 "BFD Down" (RFC 9384) while FRR's bgpd still answers, i.e.
// long before the 9 s hold timer could; after SIGCONT, BFD and BGP come back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, NETNS_SKIP, waitFor } from '../harness/netns.js';
import { frrBgpConfig, haveFrr, startFrr, type FrrHandle } from '../harness/frr.js';
import { frrNeighbor, startSpeaker, type SpeakerProc } from './driver.js';

const skip = NETNS_SKIP || (!haveFrr() ? 'FRR not installed' : false);
if (skip) console.log(`# skipping edgeflow speaker BFD interop: ${skip}`);

const US = 'efp-b-us';
const FRR_NS = 'efp-b-frr';
const US4 = '192.0.2.1';
const FRR4 = '192.0.2.2';

const lab = new Lab();
let frr: FrrHandle;
let sp: SpeakerProc;

before(async () => {
  if (skip) return;
  await lab.ns(US);
  await lab.ns(FRR_NS);
  await lab.link(US, 'to-frr', `${US4}/24`, FRR_NS, 'to-us', `${FRR4}/24`);
  [frr, sp] = await Promise.all([
    startFrr(lab, FRR_NS, {
      noKernel: true,
      daemons: ['zebra', 'bgpd', 'bfdd'],
      config: frrBgpConfig({
        asn: 65000, routerId: FRR4, hostname: 'efp-frr',
        before: ['bfd', ' profile fast', '  receive-interval 100', '  transmit-interval 100', '  detect-multiplier 3', ' !', 'exit'],
        // hold time 9 s on both sides: BFD has to be what takes the session down
        neighbors: [{ address: US4, remoteAs: 65020, options: ['timers 3 9', 'timers connect 1', 'passive', 'bfd profile fast'] }],
        families: { 'ipv4 unicast': ['network 203.0.113.0/24'] },
      }),
    }),
    startSpeaker(lab, US, {
      asn: 65020,
      routerId: US4,
      listen: { address: '0.0.0.0', port: 179 },
      neighbors: [{ address: FRR4, asn: 65000, holdTime: 9, connectRetry: 1, idleHoldTime: 1, idleHoldMaxTime: 2, bfd: { minTx: 100, minRx: 100, multiplier: 3 } }],
      routes: [{ prefix: '198.51.100.7/32' }],
    }),
  ]);
});

after(async () => {
  await lab.cleanup();
});

const frrBfd = async (): Promise<any> => (await frr.vtyshJson<any[]>('show bfd peers json')).find((p) => p.peer === US4);

test('BFD Up with FRR bfdd at 100 ms x 3: our neighbor view and FRR\'s peer list agree (root, netns, FRR bfdd)', { skip, timeout: 40000 }, async () => {
  await sp.waitState(FRR4, 'Established', 25000);
  const n = await waitFor('bfd Up in our view', async () => {
    const v = await sp.neighbor(FRR4);
    return v.bfd?.state === 'Up' ? v : undefined;
  }, 20000);
  assert.equal(n.bfd!.multiplier, 3);
  const f = await waitFor('FRR bfd peer up with our intervals', async () => {
    const p = await frrBfd();
    return p?.status === 'up' && p['remote-receive-interval'] === 100 && p['remote-transmit-interval'] === 100 ? p : undefined;
  }, 10000);
  assert.equal(f['remote-detect-multiplier'], 3);
  assert.equal(n.bfd!.detectionTimeMs, 300, 'their 100 ms x 3');
  const j = await frrNeighbor(frr.vtyshJson, US4);
  assert.equal(j.peerBfdInfo?.status, 'Up', JSON.stringify(j.peerBfdInfo));
  assert.equal(j.bgpTimerHoldTimeMsecs, 9000);
});

test('FRR bfdd frozen: BFD Down → our BGP session drops with Cease/10 while bgpd still answers; back after SIGCONT (root, netns, FRR bfdd)', { skip, timeout: 40000 }, async () => {
  await waitFor('bfd Up', async () => (await sp.neighbor(FRR4)).bfd?.state === 'Up', 20000);
  await sp.waitState(FRR4, 'Established');
  await waitFor('FRR route held', async () => (await sp.received(FRR4)).length === 1, 10000);
  const flaps = (await sp.neighbor(FRR4)).flaps;
  const pid = frr.pids.bfdd!;
  process.kill(pid, 'SIGSTOP');
  try {
    const down = await waitFor('BGP down by BFD', async () => {
      const v = await sp.neighbor(FRR4);
      return v.state !== 'Established' ? v : undefined;
    }, 8000, 50);
    // Cease/10 sent by us: the cause was BFD, not the hold timer (which would be 4/0 and needs a silent bgpd)
    assert.deepEqual([down.lastError?.direction, down.lastError?.code, down.lastError?.subcode], ['sent', 6, 10], JSON.stringify(down.lastError));
    assert.notEqual(down.bfd?.state, 'Up');
    assert.equal(down.flaps, flaps + 1);
    assert.ok(sp.log().includes('BFD down: tearing the BGP session down'));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await waitFor('BFD Up again', async () => (await sp.neighbor(FRR4)).bfd?.state === 'Up', 20000);
  await sp.waitState(FRR4, 'Established', 25000);
  await waitFor('FRR route back', async () => (await sp.received(FRR4)).length === 1, 10000);
});
