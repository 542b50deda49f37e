// Floating-IP failover in the one-machine lab (root, netns, FRR, BIRD, etcd), issue 6:
// the real agents, a real ToR and the UDP probe (1,000 packets/s from ext to the FIP,
// echoed by vm1 and vm2 with their names). One lab per ToR, brought up once.
//   1 planned move (PUT portId vm1 -> vm2): traffic continues at vm2, the ToR's
//     forwarding entry for the FIP is never removed (compute2 announced before compute1
//     withdrew), compute1's NAT and conntrack entries for the FIP are gone (after its drain time)
//   2 hot standby (standby port vm2): compute1's uplink goes down / compute1 goes silent
//     (nftables drops everything on its uplink): the ToR moves to compute2 by itself and
//     traffic resumes at vm2; compute1 is repaired between cases. Its agent SIGKILLed: the
//     kernel NAT stays and the ToR keeps forwarding on the stale route (graceful restart),
//     so traffic stays at vm1 without a break — the data path never failed
//   3 no standby, compute1 silent, the operator re-associates the FIP to vm2
//   4 the agent is stopped (SIGTERM) and started while traffic runs: graceful restart at
//     the ToR and the kernel NAT adopted, so the traffic never moves and never stops
//   5 BIRD as ToR: planned move and hot standby with the uplink down
// Assertions are about correctness (who answers, where the ToR routes); loss, gaps and
// detection times are printed (bench/failover/run.ts tabulates them), never asserted as
// times except generous bounds that only catch "traffic never came back".
import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../harness/netns.js';
import { COMPUTE_IP, FailoverLab, labSkipReason, summarize, type Fip, type ProbeRun, type RouteEvent } from './failover-lab.js';

const PORT = 7200;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (s: string): void => void process.stdout.write(`# ${s}\n`);

/** Traffic answered by vm1 first, then by vm2 only: exactly one switch, vm1 -> vm2, and vm2 still answering at the end. */
function assertMovedToVm2(r: ProbeRun['report'], what: string): void {
  assert.ok((r.responders['vm1'] ?? 0) > 0, `${what}: vm1 answered before the failover (${summarize(r)})`);
  assert.deepEqual(r.switches.map((s) => `${s.from}->${s.to}`), ['vm1->vm2'], `${what}: one switch, vm1 -> vm2, nothing from vm1 after it (${summarize(r)})`);
  assert.equal(r.lastResponder, 'vm2', `${what}: vm2 answers at the end`);
  assert.ok(r.resumed, `${what}: traffic flows at the end (${summarize(r)})`);
}

/** ToR route change after `t0` that no longer goes via compute1 (detection as the ToR's FIB saw it). */
function firstMoveAway(events: RouteEvent[], t0: number): RouteEvent | undefined {
  return events.find((e) => e.at >= t0 && (e.deleted || !e.via.includes(COMPUTE_IP.compute1)));
}

function scenarios(topology: string, opts: { full: boolean }): void {
  const lab = new FailoverLab(topology);
  const tor = lab.tor.toUpperCase();

  before(async () => {
    await lab.down(); // a half-built leftover of an earlier run goes first
    await lab.up({ echoPort: PORT });
  });
  after(async () => {
    await lab.down(join(tmpdir(), 'edgeflow-failover-logs', lab.name));
  });

  /** Repairs compute1 with `repair` and waits until the ToR routes `fip` via compute1 again (with its backup via compute2 when given). */
  async function restore(fip: Fip, repair: () => Promise<void>, backup: boolean): Promise<void> {
    await repair();
    await lab.waitSessions(['compute1', 'compute2'], { timeoutMs: 60000, steadyMs: 1000 });
    await lab.waitTor(fip.address, 'compute1', backup ? { backup: 'compute2' } : {});
  }

  it(`planned move vm1 -> vm2: make-before-break at the ToR, traffic continues at vm2, compute1's conntrack cleared (${tor})`, async () => {
    const fip = await lab.createFip('vm1');
    await lab.waitTor(fip.address, 'compute1');
    const mon = await lab.monitor();
    let movedAt = 0;
    const { report } = await lab.probe(fip.address, PORT, async () => {
      await sleep(1000);
      movedAt = Date.now();
      const f = await lab.moveFip(fip.id, 'vm2');
      assert.equal(f.portId, 'vm2');
      await lab.waitTor(fip.address, 'compute2', { timeoutMs: 20000 });
      await sleep(1000);
    });
    mon.stop();
    const ev = mon.events(fip.address);
    say(`${tor} planned move: ${summarize(report)}; ToR route events ${ev.map((e) => `${e.deleted ? 'del' : 'via'} ${e.via.join(',')} +${(e.at - movedAt).toFixed(0)}ms`).join('; ')}`);
    assertMovedToVm2(report, 'planned move');
    assert.deepEqual(ev.filter((e) => e.deleted), [], 'the ToR never removed its route to the FIP (compute2 announced before compute1 withdrew)');
    assert.deepEqual(await lab.torFib(fip.address), [COMPUTE_IP.compute2]);
    assert.ok(report.longestGap.ms < 1000, `traffic came back (longest gap ${report.longestGap.ms} ms)`);
    // compute1 keeps its NAT for a drain time after the withdrawal (the ToR may still forward there), then removes it
    await waitFor('compute1 to remove its NAT and conntrack entries for the FIP', async () =>
      !(await lab.natHas('compute1', fip.address)) && (await lab.conntrack('compute1', fip.address)).length === 0, 10000);
    assert.ok((await lab.conntrack('compute2', fip.address)).some((l) => l.includes('src=10.0.0.6')), 'compute2 tracks the flow to vm2');
    await waitFor('compute2 to claim the FIP', async () => (await lab.showFip(fip.id)).activeChassis === 'compute2', 10000);
    await lab.deleteFip(fip.id);
  });

  describe(`hot standby on vm2, compute1 fails (${tor})`, () => {
    let fip: Fip;
    before(async () => {
      fip = await lab.createFip('vm1', 'vm2');
      await lab.waitTor(fip.address, 'compute1', { backup: 'compute2' });
    });
    after(async () => {
      if (fip) await lab.deleteFip(fip.id).catch((e: Error) => say(`cleanup: ${e.message}`));
    });

    const cases: Array<{ name: string; fault: () => Promise<void>; repair: () => Promise<void> }> = [
      { name: 'uplink down', fault: () => lab.uplink('compute1', false), repair: () => lab.uplink('compute1', true) },
      { name: 'silent (all traffic dropped, link up)', fault: () => lab.silence('compute1'), repair: () => lab.unsilence('compute1') },
    ];
    for (const c of opts.full ? cases : cases.slice(0, 1)) {
      it(`${c.name}: the ToR moves to compute2 by itself, traffic resumes at vm2 (${tor})`, async () => {
        const mon = await lab.monitor();
        let faultAt = 0;
        try {
          const { report, startedAt } = await lab.probe(fip.address, PORT, async () => {
            await sleep(1000);
            faultAt = Date.now();
            await c.fault();
            await lab.waitTor(fip.address, 'compute2', { timeoutMs: 20000 });
            await sleep(1000);
          });
          const moved = firstMoveAway(mon.events(fip.address), faultAt);
          const resumedMs = report.switches[0] ? report.switches[0].atMs - (faultAt - startedAt) : NaN;
          say(`${tor} hot standby, ${c.name}: ${summarize(report)}; ToR moved after ${moved ? `${(moved.at - faultAt).toFixed(0)} ms` : '(not seen)'}; vm2 answered ${resumedMs.toFixed(0)} ms after the fault`);
          assertMovedToVm2(report, c.name);
          assert.ok(moved, 'the ToR changed its route away from compute1');
        } finally {
          mon.stop();
          await restore(fip, c.repair, true);
        }
      });
    }

    if (!opts.full) return;
    // A SIGKILLed agent leaves the kernel NAT in place, and the ToR (graceful restart helper,
    // RFC 4724) keeps forwarding on compute1's stale route: the data path never broke, so
    // the right outcome is that traffic stays at vm1 — not a move to the standby.
    it(`agent SIGKILLed: graceful restart keeps the ToR on compute1, traffic never leaves vm1; the restarted agent takes over (${tor})`, async () => {
      const mon = await lab.monitor();
      let during: string[] = [];
      try {
        const { report } = await lab.probe(fip.address, PORT, async () => {
          await sleep(1000);
          await lab.signalAgent('compute1', 'SIGKILL');
          await sleep(1500); // well past BFD detection (300 ms)
          during = await lab.torFib(fip.address);
          await lab.startAgent('compute1');
          await lab.waitSessions(['compute1'], { timeoutMs: 60000, steadyMs: 500 });
          await sleep(500);
        });
        const ev = mon.events(fip.address);
        say(`${tor} hot standby, agent SIGKILLed then started: ${summarize(report)}; ToR route events: ${ev.map((e) => `${e.deleted ? 'del' : 'via'} ${e.via.join(',')}`).join('; ') || 'none'}`);
        assert.deepEqual(during, [COMPUTE_IP.compute1], 'while the agent was dead the ToR forwarded to compute1 (stale route)');
        assert.deepEqual(Object.keys(report.responders), ['vm1'], `only vm1 answered (${summarize(report)})`);
        assert.ok(report.resumed, 'traffic flows at the end');
        assert.ok(report.longestGap.ms < 2000, `traffic never broke (longest gap ${report.longestGap.ms} ms)`);
        assert.deepEqual(ev.filter((e) => e.deleted || !e.via.includes(COMPUTE_IP.compute1)), [], 'the ToR never moved its route');
      } finally {
        mon.stop();
        if (!lab.agentAlive('compute1')) await lab.startAgent('compute1');
        await lab.waitSessions(['compute1', 'compute2'], { timeoutMs: 60000, steadyMs: 1000 });
      }
    });
  });

  if (!opts.full) return;

  it(`no standby, compute1 silent, operator re-associates to vm2: traffic at vm2 (${tor})`, async () => {
    const fip = await lab.createFip('vm1');
    await lab.waitTor(fip.address, 'compute1');
    let movedAt = 0;
    try {
      const { report, startedAt } = await lab.probe(fip.address, PORT, async () => {
        await sleep(800);
        await lab.silence('compute1');
        await sleep(400); // the operator notices
        movedAt = Date.now();
        await lab.moveFip(fip.id, 'vm2', 'compute2');
        await lab.waitTor(fip.address, 'compute2', { timeoutMs: 20000 });
        await sleep(1000);
      });
      const toTraffic = report.switches[0] ? report.switches[0].atMs - (movedAt - startedAt) : NaN;
      say(`${tor} no standby, silent compute1, re-association: ${summarize(report)}; vm2 answered ${toTraffic.toFixed(0)} ms after the PUT was sent`);
      assertMovedToVm2(report, 're-association');
      assert.deepEqual(await lab.torFib(fip.address), [COMPUTE_IP.compute2]);
    } finally {
      await lab.unsilence('compute1');
      await lab.waitSessions(['compute1', 'compute2'], { timeoutMs: 60000, steadyMs: 1000 });
      await lab.deleteFip(fip.id).catch((e: Error) => say(`cleanup: ${e.message}`));
    }
  });

  it(`agent restart (SIGTERM, start) while traffic runs: graceful restart, NAT adopted, traffic stays at vm1 (${tor})`, async () => {
    const fip = await lab.createFip('vm1');
    await lab.waitTor(fip.address, 'compute1');
    const mon = await lab.monitor();
    let restartMs = 0;
    try {
      const { report } = await lab.probe(fip.address, PORT, async () => {
        await sleep(800);
        const t = Date.now();
        await lab.signalAgent('compute1', 'SIGTERM');
        await lab.startAgent('compute1');
        restartMs = Date.now() - t;
        await lab.waitSessions(['compute1'], { timeoutMs: 60000, steadyMs: 500 });
        await sleep(500);
      });
      const ev = mon.events(fip.address);
      say(`${tor} agent restart (${restartMs} ms from SIGTERM to API up): ${summarize(report)}; ToR route events: ${ev.map((e) => `${e.deleted ? 'del' : 'via'} ${e.via.join(',')}`).join('; ') || 'none'}`);
      assert.deepEqual(Object.keys(report.responders), ['vm1'], `only vm1 answered (${summarize(report)})`);
      assert.ok(report.resumed, 'traffic flows at the end');
      assert.ok(report.longestGap.ms < 2000, `traffic never broke (longest gap ${report.longestGap.ms} ms)`);
      assert.deepEqual(ev.filter((e) => e.deleted || !e.via.includes(COMPUTE_IP.compute1)), [], 'the ToR kept its route to the FIP via compute1 (graceful restart)');
      await lab.waitTor(fip.address, 'compute1');
    } finally {
      mon.stop();
      if (!lab.agentAlive('compute1')) await lab.startAgent('compute1');
      await lab.deleteFip(fip.id).catch((e: Error) => say(`cleanup: ${e.message}`));
    }
  });
}

describe('FIP failover with an FRR ToR (root, netns, FRR, etcd)', { skip: labSkipReason('frr') }, () => {
  scenarios('frr-2computes', { full: true });
});

describe('FIP failover with a BIRD ToR (root, netns, BIRD, etcd)', { skip: labSkipReason('bird') }, () => {
  scenarios('bird-2computes', { full: false });
});

