// Agent benchmark (by hand, root; prints tables, asserts nothing): latency from
// POST /api/v1/floatingips to (a) the NAT entry in the kernel and (b) the BGP UPDATE
// carrying the /32 arriving at the FRR ToR, over 1,000 FIPs created one after another
// with 10,000 FIPs already present (the next POST once the previous FIP is in the kernel
// and its UPDATE has left, after a random pause of up to --think ms); plus convergence of a 10,000-FIP burst, restart time,
// idle CPU and event-loop delay with 10,000 FIPs. Target (issue 5): p99 API→route at
// ToR ≤ 50 ms.
//
// Lab: test/agent/lab.ts (prefix efa-bench; etcd inside the compute namespace on
// 127.0.0.1:24586/24597; FIPs from 100.96.0.0/16). How each time is taken:
//   POST      bench/agent/poster.ts inside the compute namespace, keep-alive connection;
//             t0 = just before fetch() (CLOCK_MONOTONIC and wall clock).
//   NAT       `nft monitor` in the compute namespace, piped to this process; the time the
//             `add element … fip4_dnat { FIP : … }` line reaches us (CLOCK_MONOTONIC).
//             The kernel commits earlier than that by the pipe and nft's formatting.
//   UPDATE    `tshark` on the ToR's eth1 (tcp port 179 from the agent, BGP UPDATEs only): frame.time_epoch
//             of the packet whose NLRI holds the /32, i.e. when it reached FRR's
//             interface (wall clock, compared with the POST's wall-clock t0).
// Run: npx tsc -p . && node dist/bench/agent/run.js [--fips 1000] [--present 10000] [--idle 60] [--think 300] [--cpu-prof]
// Also printed: the agent's passes from its log (wait, plan, NAT, BGP phases) and its
// histograms from GET /metrics (store watch lag, reconcile latency, GC pauses).
// (env EFA_BENCH_KEEP_LOG=FILE keeps a copy of the agent's log)
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { AgentLab, API_PORT, TOKEN, nsRun, rangeFipAddress, waitFor } from '../../test/agent/lab.js';
import { NETNS_SKIP } from '../../test/harness/netns.js';
import { table } from '../table.js';

const POSTER = fileURLToPath(new URL('./poster.js', import.meta.url));

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const N = arg('fips', 1000);
const PRESENT = arg('present', 10000);
const IDLE_S = arg('idle', 60);
const CPU_PROF = process.argv.includes('--cpu-prof');
/** After a FIP is in the kernel, the next POST waits for its UPDATE at most this long (ms; see the timed loop). */
const PACE_MS = 20;
/** Then a pause of up to this long (uniform random, ms) before the next POST. */
const THINK_MAX_MS = arg('think', 300);
/** Warm-up FIPs at most (each waits 15 s for tshark to show its UPDATE). */
const WARMUPS = 4;

const mono = (): number => Number(process.hrtime.bigint()) / 1e6;
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const f1 = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(1));

/** Lines of a child's stdout, each with the CLOCK_MONOTONIC time it reached us. */
function lines(child: ChildProcess, onLine: (line: string, at: number) => void): void {
  createInterface({ input: child.stdout! }).on('line', (l) => onLine(l, mono()));
}

async function agentPid(l: AgentLab): Promise<number> {
  return l.agent!.pid!; // `ip netns exec` execs node: the child's pid is the agent's
}
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
async function torPrefixes(l: AgentLab): Promise<number> {
  const j = await l.frr.vtyshJson<{ ipv4Unicast?: { peers?: Record<string, { pfxRcd?: number }> } }>('show bgp summary json');
  return Object.values(j.ipv4Unicast?.peers ?? {})[0]?.pfxRcd ?? 0;
}
async function kernelFipCount(l: AgentLab): Promise<number> {
  const out = await nsRun(l.c1, 'nft', ['-j', 'list', 'map', 'inet', 'edgeflow', 'fip4_dnat'], { allowFail: true });
  if (!out) return 0;
  const m = (JSON.parse(out) as { nftables: Array<{ map?: { elem?: unknown[] } }> }).nftables.find((x) => x.map)?.map;
  return m?.elem?.length ?? 0;
}

/** Histogram series of a Prometheus text page: "name{labels}" → cumulative bucket counts by le, sum, count. */
type Hist = Map<string, { le: Map<number, number>; sum: number; count: number }>;
async function histograms(l: AgentLab, names: string[]): Promise<Hist> {
  const text = String((await l.api('GET', '/metrics')).body);
  const out: Hist = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\w+)_(bucket|sum|count)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !names.includes(m[1]!)) continue;
    const labels = (m[3] ?? '').split(',').filter((x) => x && !x.startsWith('le='));
    const key = `${m[1]}${labels.length ? `{${labels.join(',')}}` : ''}`;
    let h = out.get(key);
    if (!h) out.set(key, (h = { le: new Map(), sum: 0, count: 0 }));
    const v = Number(m[4]);
    if (m[2] === 'sum') h.sum = v;
    else if (m[2] === 'count') h.count = v;
    else h.le.set(Number(/le="([^"]+)"/.exec(m[3] ?? '')![1]), v);
  }
  return out;
}
/** Rows of what each series observed between two scrapes: count, mean, and how many exceeded each bucket bound ≥ 10 ms. */
function histRows(a: Hist, b: Hist): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [];
  for (const [key, hb] of b) {
    const ha = a.get(key) ?? { le: new Map<number, number>(), sum: 0, count: 0 };
    const n = hb.count - ha.count;
    if (n === 0) continue;
    const over = [...hb.le].filter(([le]) => le >= 0.01 && Number.isFinite(le)).map(([le, c]) => `${le * 1000}:${n - (c - (ha.le.get(le) ?? 0))}`);
    rows.push([key.replace('edgeflow_', ''), n, f1(((hb.sum - ha.sum) / n) * 1000), over.join(' ')]);
  }
  return rows;
}
const HISTS = ['edgeflow_store_watch_lag_seconds', 'edgeflow_reconcile_duration_seconds', 'edgeflow_process_nodejs_gc_duration_seconds'];

async function main(): Promise<void> {
  if (NETNS_SKIP) {
    console.log(`bench/agent: ${NETNS_SKIP}`);
    return;
  }
  const l = new AgentLab({
    prefix: 'efa-bench',
    etcd: [{ clientPort: 24586, peerPort: 24597 }],
    network: { cidr: '100.96.0.0/16', start: '100.96.0.1', end: '100.96.255.254' },
  });
  const rows: Array<Array<string | number>> = [];
  const load0 = loadavg();
  try {
    await l.up();
    const cfg = l.writeConfig('etcd');
    const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(process.cwd(), 'bench/agent/profiles')}`] : [];
    await l.startAgent(cfg, nodeArgs);
    await l.waitEstablished();

    // ---- 10,000 FIPs through the store, agent running: burst convergence
    const ports = PRESENT + N + WARMUPS - 1;
    let t = mono();
    await l.storeTool('range', { ports: { from: 0, count: ports }, batch: 40 });
    const tPorts = mono() - t;
    t = mono();
    await l.storeTool('range', { fips: { from: 0, count: PRESENT }, batch: 25 });
    const tWrite = mono() - t;
    await waitFor(`${PRESENT} FIPs in the kernel`, async () => (await kernelFipCount(l)) >= PRESENT, 600000, 250);
    const tKernel = mono() - t;
    await waitFor(`${PRESENT} routes at the ToR`, async () => (await torPrefixes(l)) >= PRESENT, 600000, 250);
    const tTor = mono() - t;
    console.log(`store: ${ports} ports in ${f1(tPorts)} ms; ${PRESENT} FIPs written in ${f1(tWrite)} ms, in the kernel after ${f1(tKernel)} ms, at the ToR after ${f1(tTor)} ms`);

    // ---- restart with 10,000 present (SIGTERM: graceful; NAT kept); the event-loop histogram then starts clean
    t = mono();
    const clean = await l.stopAgent('SIGTERM', 60000);
    const tStop = mono() - t;
    console.log(`SIGTERM: agent ${clean ? 'exited' : 'had to be killed'} after ${f1(tStop)} ms`);
    await l.startAgent(cfg, nodeArgs);
    const tApi = mono() - t;
    await l.waitEstablished(120000);
    await waitFor('ToR has every route again', async () => (await torPrefixes(l)) >= PRESENT, 120000, 250);
    const tRestart = mono() - t;
    console.log(`restart with ${PRESENT} FIPs: API up after ${f1(tApi)} ms, session and ${PRESENT} routes after ${f1(tRestart)} ms`);

    // ---- idle: CPU and event-loop delay (after start-up work has settled; the window holds resync passes)
    // the restarted agent first writes the activeChassis claims the stopped one had queued
    const tClaims = mono();
    await waitFor('activeChassis writes done', async () => (await l.status()).statusWritesPending === 0, 300000, 500);
    const claimsMs = mono() - tClaims;
    await new Promise((r) => setTimeout(r, 10000));
    const pid = await agentPid(l);
    const hz = 100;
    const c0 = cpuTicks(pid);
    const w0 = mono();
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idleCpu = ((cpuTicks(pid) - c0) / hz) / ((mono() - w0) / 1000) * 100;
    const idleStatus = await l.status();
    console.log(`idle ${IDLE_S} s with ${PRESENT} FIPs: agent CPU ${f1(idleCpu)} % of one core; event loop ${JSON.stringify(idleStatus.eventLoop)}`);

    // ---- 1,000 FIPs one at a time, each timed to the kernel and to the ToR
    const natAt = new Map<string, number>();
    const updAt = new Map<string, number>();
    const nft = l.lab.spawn(l.c1, 'nft', ['monitor', 'elements']);
    lines(nft, (line, at) => {
      const m = /fip4_dnat \{ ([0-9.]+) :/.exec(line);
      if (m && line.startsWith('add element') && !natAt.has(m[1]!)) natAt.set(m[1]!, at);
    });
    const tshark = l.lab.spawn(l.tor, 'tshark', ['-i', 'eth1', '-l', '-n', '-Q', '-f', 'tcp port 179 and src host 192.0.2.11', '-Y', 'bgp.type == 2', '-T', 'fields', '-E', 'separator=;', '-e', 'frame.time_epoch', '-e', 'bgp.nlri_prefix', '-e', 'bgp.prefix_length']);
    let tsharkLines = 0;
    lines(tshark, (line) => {
      tsharkLines++;
      const [epoch, prefixes] = line.split(';');
      for (const p of (prefixes ?? '').split(',').filter(Boolean)) if (!updAt.has(p)) updAt.set(p, Number(epoch) * 1000);
    });
    // tshark needs a moment to open the capture; one FIP through before the timed ones proves it sees UPDATEs
    const poster = l.lab.spawn(l.c1, process.execPath, [POSTER, `http://127.0.0.1:${API_PORT}`, TOKEN]);
    const replies: Array<(r: any) => void> = [];
    lines(poster, (line) => replies.shift()?.(JSON.parse(line)));
    poster.stderr!.on('data', (d: Buffer) => process.stderr.write(`poster: ${d}`));
    const post = (port: string): Promise<{ status: number; address: string; error: string; t0Mono: number; t1Mono: number; t0Wall: number }> =>
      new Promise((resolve) => {
        replies.push(resolve);
        poster.stdin!.write(`${port}\n`);
      });
    await new Promise((r) => setTimeout(r, 2000));
    // under load tshark can take longer than that to start: another warm-up FIP until one is seen
    for (let k = 0; ; k++) {
      const warm = await post(`vm-${PRESENT + N - 1 + k}`);
      const seen = await waitFor('warm-up UPDATE', () => updAt.has(warm.address), 15000, 20).then(() => true, () => false);
      if (seen) break;
      if (k === WARMUPS - 1) throw new Error(`tshark saw none of ${WARMUPS} warm-up UPDATEs (last: ${warm.address}, POST ${warm.status} ${warm.error})`);
    }

    const api: number[] = [];
    const nat: number[] = [];
    const upd: number[] = [];
    let missing = 0;
    let failed = 0;
    /** Each timed POST: its address and wall-clock start (UPDATE times are read once tshark has caught up). */
    const posted: Array<{ address: string; t0Wall: number }> = [];
    const hist0 = await histograms(l, HISTS);
    const tRunWall = Date.now();
    const tRun = mono();
    const cpuRun0 = cpuTicks(pid);
    for (let i = 0; i < N - 1; i++) {
      const r = await post(`vm-${PRESENT + i}`);
      if (r.status !== 201) {
        failed++;
        console.log(`POST ${i}: ${r.status} ${r.error}`);
        continue;
      }
      api.push(r.t1Mono - r.t0Mono);
      posted.push({ address: r.address, t0Wall: r.t0Wall });
      // pace on the kernel (nft monitor reports at once), then PACE_MS for the UPDATE to
      // leave: tshark hands its lines over ≈ 0.7 s late (dumpcap's buffering), and waiting
      // for them made a run 12 minutes; its capture times are exact, and the summary
      // counts UPDATEs that left after the next POST had started (should be 0). Then a
      // random pause, so POSTs land at random points of the agent's periodic work
      // (resync, drift check, GC) rather than right after the previous FIP.
      try {
        await waitFor(`FIP ${r.address} in the kernel`, () => natAt.has(r.address), 5000, 1);
        nat.push(natAt.get(r.address)! - r.t0Mono);
        await waitFor('pace', () => updAt.has(r.address) || mono() - natAt.get(r.address)! >= PACE_MS, 1000, 1);
      } catch {
        missing++;
      }
      await new Promise((res) => setTimeout(res, Math.random() * THINK_MAX_MS));
    }
    const runS = (mono() - tRun) / 1000;
    await waitFor('tshark to catch up', () => posted.every((p) => updAt.has(p.address)), 10000, 50).catch(() => undefined);
    let overlapped = 0;
    posted.forEach((p, i) => {
      const at = updAt.get(p.address);
      if (at === undefined) return void missing++;
      upd.push(at - p.t0Wall);
      const next = posted[i + 1];
      if (next && at > next.t0Wall) overlapped++;
    });
    const runCpu = ((cpuTicks(pid) - cpuRun0) / hz) / runS * 100;
    const busyStatus = await l.status();
    const hist1 = await histograms(l, HISTS);
    nft.kill('SIGKILL');
    tshark.kill('SIGKILL');
    poster.stdin!.end();

    for (const [name, xs] of [['POST → 201 response', api], ['POST → NAT in kernel (nft monitor)', nat], ['POST → UPDATE at ToR (tshark)', upd]] as const) {
      const s = [...xs].sort((a, b) => a - b);
      rows.push([name, s.length, f1(pct(s, 50)), f1(pct(s, 90)), f1(pct(s, 99)), f1(s[s.length - 1] ?? NaN)]);
    }
    table(`${N - 1} FIPs, one at a time, ${PRESENT} present (ms)`, ['latency', 'n', 'p50', 'p90', 'p99', 'max'], rows);
    console.log(`\nfailed POSTs ${failed}; not seen ${missing}; UPDATE left after the next POST started ${overlapped}; ${tsharkLines} UPDATE packets captured; run ${f1(runS)} s, agent CPU ${f1(runCpu)} % of one core`);
    table('agent event-loop delay (ms, from GET /api/v1/status; histogram since the restart)', ['when', 'p50', 'p99', 'max'], [
      ['after idle', f1(idleStatus.eventLoop?.p50Ms), f1(idleStatus.eventLoop?.p99Ms), f1(idleStatus.eventLoop?.maxMs)],
      ['after the timed run', f1(busyStatus.eventLoop?.p50Ms), f1(busyStatus.eventLoop?.p99Ms), f1(busyStatus.eventLoop?.maxMs)],
    ]);
    // the agent's own account of each pass (its "reconciled" log lines during the timed run)
    const passes = readFileSync(l.logFile, 'utf8').split('\n').flatMap((x) => {
      try {
        const j = JSON.parse(x) as { msg?: string; time?: number; full?: boolean } & Record<string, number>;
        return j.msg === 'reconciled' && !j.full && j.time! >= tRunWall ? [j] : [];
      } catch {
        return [];
      }
    });
    table(`agent passes during the timed run, from its log (${passes.length} incremental passes; ms)`, ['phase', 'p50', 'p90', 'p99', 'max'],
      [['wait: change arrived → pass start', 'waitMs'], ['plan', 'planMs'], ['NAT (nftd)', 'natMs'], ['BGP: routes queued and sent', 'bgpMs'], ['whole pass', 'ms']].map(([name, k]) => {
        const xs = passes.map((p) => p[k!]).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
        return [name!, f1(pct(xs, 50)), f1(pct(xs, 90)), f1(pct(xs, 99)), f1(xs[xs.length - 1] ?? NaN)];
      }));
    table('agent histograms over the timed run (GET /metrics before and after; "over" = how many took longer than each bucket bound, ms)', ['series', 'n', 'mean ms', 'over'], histRows(hist0, hist1));
    table('setup with 10,000 FIPs (ms)', ['what', 'ms'], [
      [`${ports} ports written (store txns of 40)`, f1(tPorts)],
      [`${PRESENT} FIPs written (store txns of 25)`, f1(tWrite)],
      [`… all in the kernel (agent running, from the first write)`, f1(tKernel)],
      [`… all at the ToR`, f1(tTor)],
      [`restart: SIGTERM → exited`, f1(tStop)],
      [`restart (SIGTERM, start): API up`, f1(tApi)],
      [`restart: Established and ${PRESENT} routes at the ToR`, f1(tRestart)],
      [`restart: then until no activeChassis write is pending`, f1(claimsMs)],
      [`idle agent CPU over ${IDLE_S} s, resync every 30 s (% of one core)`, f1(idleCpu)],
    ]);
  } finally {
    if (CPU_PROF) console.log(`profile: agent ${(await l.stopAgent('SIGTERM', 60000)) ? 'exited' : 'killed, no profile'}`); // exit writes the profile
    if (process.env.EFA_BENCH_KEEP_LOG) copyFileSync(l.logFile, process.env.EFA_BENCH_KEEP_LOG);
    await l.down();
    const load1 = loadavg();
    console.log(`\n${new Date().toISOString()}; ${cpus().length} CPUs; load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
