// The netns lab runner end to end without agents (root, netns, FRR, etcd): `up
// --no-agents` builds frr-2computes — namespaces, veths with the file's interface names,
// addresses, the management bridge, FRR and etcd — and the checks look at the kernel and
// the daemons themselves: links and addresses, forwarding, FRR's neighbors, etcd health
// from a compute over the management network, UDP from vm1 to its gateway on compute1
// and from ext through the ToR to compute1's uplink. `up` twice leaves the lab alone; a
// lab with a dead daemon is rebuilt; `down` leaves no namespace, process, FRR instance
// directory or run dir behind.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NETNS_SKIP, nsRun, run } from '../harness/netns.js';
import { labDown, labStatus, labUp, loadPlan, readState, repoRoot, resolveTopologyFile, runDirOf, type LabPlan, type LabState } from '../../topologies/index.js';

const CLI = join(repoRoot(), 'dist', 'topologies', 'cli.js');
const FILE = resolveTopologyFile('frr-2computes');

function skipReason(): string | false {
  if (NETNS_SKIP) return NETNS_SKIP;
  if (!existsSync('/usr/lib/frr/zebra') || !existsSync('/usr/bin/vtysh')) return 'needs FRR (Debian package frr)';
  if (!existsSync('/usr/bin/etcd') || !existsSync('/usr/bin/etcdctl')) return 'needs etcd-server and etcd-client';
  const base = process.env.EDGEFLOW_LAB_RUN_DIR ?? '/run/edgeflow-lab';
  if (existsSync(base) && readdirSync(base).some((d) => existsSync(join(base, d, 'state.json')))) {
    return `a lab is up on this machine (${base}); not touching it`;
  }
  return false;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function ipJson<T>(ns: string, args: string[]): Promise<T> {
  return JSON.parse(await run('ip', ['-n', ns, '-json', ...args])) as T;
}

/** UDP round trips from `fromNs` to `target` answered by a probe echo in `echoNs`: replies received. */
async function udpReach(echoNs: string, fromNs: string, target: string, port: number): Promise<number> {
  const echo: ChildProcess = spawn('ip', ['netns', 'exec', echoNs, process.execPath, CLI, 'probe', 'echo', '--port', String(port), '--name', echoNs], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let err = '';
      echo.stderr!.on('data', (d) => {
        err += d;
        if (err.includes('answering')) resolve();
      });
      echo.once('exit', (c) => reject(new Error(`probe echo exited ${c}: ${err}`)));
    });
    const out = await run('ip', ['netns', 'exec', fromNs, process.execPath, CLI, 'probe', 'send', '--target', target, '--port', String(port), '--duration', '0.2', '--linger', '100', '--json'], { allowFail: true });
    const r = out ? (JSON.parse(out) as { received: number; responders: Record<string, number> }) : { received: 0, responders: {} };
    if (r.received) assert.deepEqual(Object.keys(r.responders), [echoNs]);
    return r.received;
  } finally {
    echo.kill('SIGKILL');
  }
}

describe('lab runner: frr-2computes without agents (root, netns, FRR, etcd)', { skip: skipReason() }, () => {
  const lines: string[] = [];
  const log = (s: string): void => void lines.push(s);
  let plan: LabPlan;
  let state: LabState;

  before(async () => {
    plan = loadPlan(FILE);
    state = await labUp(FILE, { agents: false, log });
  });
  after(async () => {
    // Always leave the machine clean, even when a check failed.
    await labDown(FILE, { log }).catch(() => {});
  });

  it('creates one namespace per node plus the management namespace', async () => {
    const have = (await run('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]);
    for (const ns of ['ef-mgmt', 'ef-tor', 'ef-etcd', 'ef-compute1', 'ef-compute2', 'ef-vm1', 'ef-vm2', 'ef-ext']) assert.ok(have.includes(ns), `${ns} exists`);
    assert.deepEqual(state.namespaces, plan.namespaces);
    assert.equal(state.complete, true);
    assert.deepEqual(state.options, { agents: false });
  });

  it('joins the nodes with veths named as the links say, up, with the exec addresses', async () => {
    for (const l of plan.links) {
      for (const [end, peer] of [[l.a, l.b], [l.b, l.a]] as const) {
        const [link] = await ipJson<Array<{ ifname: string; link_type: string; operstate: string; link_netnsid?: number; flags: string[] }>>(end.ns, ['link', 'show', 'dev', end.iface]);
        assert.ok(link, `${end.ns}:${end.iface}`);
        assert.ok(link.flags.includes('UP'), `${end.ns}:${end.iface} is up`);
        assert.notEqual(link.link_netnsid, undefined, `${end.ns}:${end.iface}'s peer is in another namespace (${peer.ns})`);
      }
    }
    const addrs = async (ns: string, dev: string): Promise<string[]> =>
      (await ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number; family: string }> }>>(ns, ['addr', 'show', 'dev', dev]))[0]!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
    assert.deepEqual(await addrs('ef-tor', 'eth1'), ['192.0.2.1/28']);
    assert.deepEqual(await addrs('ef-compute1', 'eth1'), ['192.0.2.11/28']);
    assert.deepEqual(await addrs('ef-compute1', 'tap-vm1'), ['10.0.0.1/24']);
    assert.deepEqual(await addrs('ef-compute1', 'eth0'), ['100.64.0.11/24']);
    assert.deepEqual(await addrs('ef-vm2', 'eth1'), ['10.0.0.6/24']);
    assert.deepEqual(await addrs('ef-mgmt', 'mgmt0'), ['100.64.0.1/24']);
    const routes = await ipJson<Array<{ dst: string; gateway?: string }>>('ef-vm1', ['route', 'show', 'default']);
    assert.equal(routes[0]?.gateway, '10.0.0.1');
    assert.equal((await nsRun('ef-tor', 'sysctl', ['-n', 'net.ipv4.ip_forward'])).trim(), '1');
    assert.equal((await nsRun('ef-compute1', 'sysctl', ['-n', 'net.ipv4.ip_forward'])).trim(), '1');
    assert.equal((await nsRun('ef-vm1', 'sysctl', ['-n', 'net.ipv4.ip_forward'])).trim(), '0');
  });

  it('runs FRR with the ToR config and both computes as neighbors; etcd is healthy from a compute', async () => {
    const names = state.processes.map((p) => `${p.node}/${p.name}`).sort();
    assert.deepEqual(names, ['etcd/etcd', 'tor/bfdd', 'tor/bgpd', 'tor/staticd', 'tor/zebra']);
    for (const p of state.processes) {
      assert.ok(alive(p.pid), `${p.name} ${p.pid} alive`);
      assert.equal((await run('ip', ['netns', 'identify', String(p.pid)])).trim(), p.ns, `${p.name} runs in ${p.ns}`);
    }
    const sum = JSON.parse(await run('vtysh', ['-N', 'ef-tor', '-c', 'show bgp summary json'])) as { ipv4Unicast: { as: number; peers: Record<string, { remoteAs: number }> } };
    assert.equal(sum.ipv4Unicast.as, 65000);
    assert.deepEqual(Object.fromEntries(Object.entries(sum.ipv4Unicast.peers).map(([k, v]) => [k, v.remoteAs])), { '192.0.2.11': 65011, '192.0.2.21': 65012 });
    const health = await run('ip', ['netns', 'exec', 'ef-compute1', 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', 'http://100.64.0.100:2379', 'endpoint', 'health', '-w', 'json']);
    assert.deepEqual((JSON.parse(health) as Array<{ endpoint: string; health: boolean }>).map((h) => [h.endpoint, h.health]), [['http://100.64.0.100:2379', true]]);
    const st = await labStatus(FILE);
    assert.equal(st.healthy, true, st.problems.join('; '));
    assert.match(st.tor[0]?.summary ?? '', /192\.0\.2\.11/);
  });

  it('vm1 reaches its gateway on compute1, ext reaches compute1 through the ToR, vm1 does not reach ext (no NAT without agents)', async () => {
    assert.ok((await udpReach('ef-compute1', 'ef-vm1', '10.0.0.1', 7201)) > 0, 'vm1 → 10.0.0.1');
    assert.ok((await udpReach('ef-compute1', 'ef-ext', '192.0.2.11', 7202)) > 0, 'ext → tor → compute1');
    // 10.0.0.0/24 is not routed at the ToR: replies from ext to vm1 have no way back.
    assert.equal(await udpReach('ef-ext', 'ef-vm1', '203.0.113.10', 7203), 0);
  });

  it('up again leaves a healthy lab as it is', async () => {
    const again = await labUp(FILE, { agents: false, log });
    assert.deepEqual(again.processes.map((p) => p.pid), state.processes.map((p) => p.pid));
    assert.ok(lines.some((l) => /already up/.test(l)));
  });

  it('a lab with a dead daemon is torn down and rebuilt', async () => {
    const bfdd = state.processes.find((p) => p.name === 'bfdd')!;
    process.kill(bfdd.pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(bfdd.pid); i++) await new Promise((r) => setTimeout(r, 20));
    const rebuilt = await labUp(FILE, { agents: false, log });
    assert.ok(lines.some((l) => /not healthy.*bfdd/.test(l)), lines.join('\n'));
    for (const p of state.processes) assert.ok(!alive(p.pid) || !rebuilt.processes.some((q) => q.pid === p.pid && q.startTime === p.startTime), `old ${p.name} replaced`);
    assert.equal(rebuilt.complete, true);
    assert.equal((await labStatus(FILE)).healthy, true);
    state = rebuilt;
  });

  it('down removes namespaces, processes, FRR instance directories and the run dir', async () => {
    await labDown(FILE, { log });
    const have = (await run('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]);
    for (const ns of plan.namespaces) assert.ok(!have.includes(ns), `${ns} removed`);
    for (const p of state.processes) assert.ok(!alive(p.pid), `${p.name} ${p.pid} stopped`);
    assert.ok(!existsSync('/etc/frr/ef-tor') && !existsSync('/var/run/frr/ef-tor'));
    assert.ok(!existsSync(runDirOf('frr-2computes')));
    assert.equal(readState(runDirOf('frr-2computes')), undefined);
    assert.equal((await labStatus(FILE)).up, false);
  });
});
