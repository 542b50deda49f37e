// Interop smoke test of the real-peer harness: FRR, BIRD and GoBGP in their own namespaces
// reach Established (RFC 4271 §8) and a route crosses each session; cleanup leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, NETNS_SKIP, run, nsRun, waitFor } from './netns.js';
import { frrBgpConfig, haveFrr, startFrr } from './frr.js';
import { birdProtocolInfo, haveBird, startBird } from './bird.js';
import { gobgpConfig, haveGobgp, startGobgp } from './gobgp.js';

const skip = NETNS_SKIP || (!haveFrr() ? 'FRR not installed' : !haveBird() ? 'BIRD not installed' : !haveGobgp() ? 'GoBGP not installed' : false);
if (skip) console.log(`# skipping peers test: ${skip}`);

test('FRR↔BIRD and GoBGP→FRR reach Established, routes cross, cleanup removes all (root, netns, FRR, BIRD, GoBGP)', { skip, timeout: 60000 }, async (t) => {
  const lab = new Lab();
  t.after(() => lab.cleanup());
  const [tor, bird, gob] = ['efv-p-tor', 'efv-p-bird', 'efv-p-gobgp'];
  for (const n of [tor, bird, gob]) await lab.ns(n);
  await lab.link(tor, 'to-bird', '192.0.2.1/24', bird, 'to-tor', '192.0.2.2/24');
  await lab.link(tor, 'to-gobgp', '198.51.100.1/24', gob, 'to-tor', '198.51.100.2/24');

  const frr = await startFrr(lab, tor, {
    config: frrBgpConfig({
      asn: 65000,
      routerId: '192.0.2.1',
      hostname: tor,
      neighbors: [
        { address: '192.0.2.2', remoteAs: 65001, options: ['timers connect 1'] },
        { address: '198.51.100.2', remoteAs: 65002, options: ['timers connect 1'] },
      ],
    }),
  });
  const b = await startBird(lab, bird, [
    'router id 192.0.2.2;',
    'protocol device {}',
    'protocol static s4 { ipv4; route 203.0.113.0/24 blackhole; }',
    'protocol bgp tor { local 192.0.2.2 as 65001; neighbor 192.0.2.1 as 65000; connect retry time 1;',
    '  ipv4 { import all; export all; }; }',
    '',
  ].join('\n'));
  // GoBGP waits before its first connect; FRR connects to it at once (GoBGP listens on 179).
  const g = await startGobgp(lab, gob, gobgpConfig({ asn: 65002, routerId: '198.51.100.2', neighbors: [{ address: '198.51.100.1', peerAs: 65000 }] }));
  await g.gobgp(['global', 'rib', 'add', '-a', 'ipv4', '100.64.7.0/24', 'nexthop', '198.51.100.2']);

  const established = async (addr: string): Promise<boolean> => {
    const s = await frr.vtyshJson(`show bgp neighbors ${addr} json`);
    return s[addr]?.bgpState === 'Established';
  };
  await waitFor(`FRR–BIRD Established\n${frr.log()}${b.log()}`, () => established('192.0.2.2'), 20000);
  await waitFor(`FRR–GoBGP Established\n${g.log()}`, () => established('198.51.100.2'), 20000);
  assert.match((await birdProtocolInfo(b, 'tor')) ?? '', /Established/);

  // BIRD → FRR, and zebra installs it in the namespace's FIB.
  await waitFor('203.0.113.0/24 in FRR', async () => (await frr.vtyshJson('show bgp ipv4 unicast 203.0.113.0/24 json')).paths?.length > 0, 10000);
  await waitFor('203.0.113.0/24 in tor FIB', async () => (await nsRun(tor, 'ip', ['route', 'show', '203.0.113.0/24'])).includes('via 192.0.2.2'), 10000);
  // GoBGP → FRR → BIRD: the route crosses two sessions and keeps the AS path.
  await waitFor('100.64.7.0/24 in FRR', async () => (await frr.vtyshJson('show bgp ipv4 unicast 100.64.7.0/24 json')).paths?.length > 0, 10000);
  const birdRoute = await waitFor('100.64.7.0/24 in BIRD', async () => {
    const out = await b.birdc('show route 100.64.7.0/24 all');
    return out.includes('100.64.7.0/24') ? out : '';
  }, 10000);
  assert.match(birdRoute, /BGP\.as_path: 65000 65002/);

  // Cleanup: every daemon pid dies and every namespace goes.
  const pids = [...Object.values(frr.pids), b.pid, g.pid].filter((p): p is number => p !== undefined);
  assert.equal(pids.length, 4);
  await lab.cleanup();
  const left = await run('ip', ['netns', 'list']);
  for (const n of [tor, bird, gob]) assert.ok(!left.split('\n').some((l) => l.split(' ')[0] === n), `namespace ${n} still exists`);
  await waitFor('daemons dead', () => pids.every((p) => {
    try { process.kill(p, 0); return false; } catch { return true; }
  }), 5000);
});
