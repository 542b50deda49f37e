// The failover probe on a real network path (root, netns): two namespaces joined by a
// veth, `probe echo` in one, `probe send` (1,000 packets/s) in the other — both through
// the command line, as the lab uses them. A blackhole route on the echo side drops the
// replies for a while; the report must count that loss and show a gap at least as long
// as most of the blackhole, and traffic from the same responder afterwards.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lab, NETNS_SKIP, nsRun } from '../harness/netns.js';
import { repoRoot } from '../../topologies/index.js';
import type { ProbeReport } from '../../topologies/index.js';

const CLI = join(repoRoot(), 'dist', 'topologies', 'cli.js');
const A = 'ef-ptest-a';
const B = 'ef-ptest-b';
const PORT = 7100;

describe('probe (root, netns)', { skip: NETNS_SKIP }, () => {
  const lab = new Lab();

  before(async () => {
    await lab.ns(A);
    await lab.ns(B);
    await lab.link(A, 'eth1', '10.200.0.1/24', B, 'eth1', '10.200.0.2/24');
    const echo = lab.spawn(B, process.execPath, [CLI, 'probe', 'echo', '--port', String(PORT), '--name', 'b1']);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      echo.stderr!.on('data', (d) => {
        err += d;
        if (err.includes('answering')) resolve();
      });
      echo.once('exit', (code) => reject(new Error(`probe echo exited ${code}: ${err}`)));
    });
  });
  after(() => lab.cleanup());

  /**
   * Runs `probe send --json` in namespace A. `started` resolves when it begins sending
   * (Node's start-up in a namespace can take most of a second here); `done` resolves
   * the exit code and the parsed report.
   */
  function send(durationS: number, port = PORT): { started: Promise<void>; done: Promise<{ code: number | null; report: ProbeReport }> } {
    const child = spawn('ip', ['netns', 'exec', A, process.execPath, CLI, 'probe', 'send', '--target', '10.200.0.2', '--port', String(port), '--duration', String(durationS), '--linger', '100', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    const started = new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        err += d;
        if (err.includes('probe send:')) resolve();
      });
    });
    const done = new Promise<{ code: number | null; report: ProbeReport }>((resolve, reject) => {
      child.once('exit', (code) => {
        try {
          resolve({ code, report: JSON.parse(out) as ProbeReport });
        } catch {
          reject(new Error(`probe send printed no report (exit ${code}): ${out} ${err}`));
        }
      });
    });
    return { started, done };
  }

  it('counts every packet when nothing is dropped', async () => {
    const { code, report: r } = await send(0.5).done;
    assert.equal(code, 0);
    assert.equal(r.sent, 500);
    assert.equal(r.received, 500);
    assert.equal(r.lost, 0);
    assert.deepEqual(r.responders, { b1: 500 });
    assert.equal(r.resumed, true);
  });

  it('counts the loss and the gap of a temporary blackhole on the reply path', async () => {
    const probe = send(2);
    await probe.started;
    await new Promise((r) => setTimeout(r, 400));
    await nsRun(B, 'ip', ['route', 'add', 'blackhole', '10.200.0.1/32']);
    const holeAt = performance.now();
    await new Promise((r) => setTimeout(r, 300));
    await nsRun(B, 'ip', ['route', 'del', 'blackhole', '10.200.0.1/32']);
    const holeMs = performance.now() - holeAt;
    const { report: r } = await probe.done;
    assert.equal(r.sent, 2000);
    assert.equal(r.received + r.lost, r.sent);
    assert.ok(r.lost > 0, 'packets were lost');
    assert.ok(r.longestLossRun.packets > 0 && r.longestLossRun.packets <= r.lost);
    // Replies were impossible for the whole time the route existed: the gap covers most of it.
    assert.ok(r.longestGap.ms >= holeMs * 0.5, `gap ${r.longestGap.ms} ms vs blackhole ${holeMs} ms`);
    assert.ok(r.longestGap.beforeSeq !== undefined, 'traffic came back after the blackhole');
    assert.equal(r.resumed, true);
    assert.deepEqual(Object.keys(r.responders), ['b1']);
    assert.deepEqual(r.switches, []);
  });

  it('reports no reply at all and exits 1 when nothing answers', async () => {
    const { code, report: r } = await send(0.1, PORT + 1).done;
    assert.equal(code, 1);
    assert.equal(r.sent, 100);
    assert.equal(r.received, 0);
    assert.equal(r.lost, 100);
  });
});
