// The failover tests' and benchmark's handle on the one-machine lab (root, netns): brings a
// 2-compute topology up with the netns runner, waits until the ToR has both computes'
// sessions (and BFD) up and steady, runs the probe's echo in both VMs, and offers the
// moves the scenarios need — FIPs through `edgeflow ctl` on compute1's API, the ToR's
// forwarding table (kernel FIB of ef-tor, the same for FRR and BIRD) and its BGP paths,
// a route monitor with kernel timestamps, faults on compute1 (uplink down, silence with
// nftables, agent signals) and their repair, the probe from ext with its JSON report.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nsRun, run } from '../harness/netns.js';
import { labDown, labUp, loadPlan, readState, repoRoot, resolveTopologyFile, runDirOf, type LabState, type ProbeReport } from '../../topologies/index.js';
import { startDaemon } from '../../topologies/runner/daemons.js';
import { writeState } from '../../topologies/runner/state.js';
import { pidAlive } from '../../topologies/runner/shell.js';

export const CLI = join(repoRoot(), 'dist', 'topologies', 'cli.js');
export const COMPUTE_IP = { compute1: '192.0.2.11', compute2: '192.0.2.21' } as const;
export type Compute = keyof typeof COMPUTE_IP;
const MGMT_IP: Record<Compute, string> = { compute1: '100.64.0.11', compute2: '100.64.0.12' };
const SNAT_IP: Record<Compute, string> = { compute1: '198.51.100.201', compute2: '198.51.100.202' };
const TOKEN = 'lab-token';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Why the lab tests cannot run here (false when they can). */
export function labSkipReason(tor: 'frr' | 'bird'): string | false {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (tor === 'frr' && !(existsSync('/usr/lib/frr/zebra') && existsSync('/usr/bin/vtysh'))) return 'needs FRR (Debian package frr)';
  if (tor === 'bird' && !(existsSync('/usr/sbin/bird') && existsSync('/usr/sbin/birdc'))) return 'needs BIRD (Debian package bird2)';
  if (!existsSync('/usr/bin/etcd')) return 'needs etcd-server';
  if (!existsSync('/usr/sbin/nft') || !existsSync('/usr/sbin/conntrack')) return 'needs nftables and conntrack';
  const base = process.env.EDGEFLOW_LAB_RUN_DIR ?? '/run/edgeflow-lab';
  if (existsSync(base) && readdirSync(base).some((d) => existsSync(join(base, d, 'state.json')))) {
    return `a lab is up on this machine (${base}); not touching it (edgeflow lab down)`;
  }
  return false;
}

export interface Fip {
  id: string;
  address: string;
  portId?: string | null;
  standbyPortId?: string | null;
  activeChassis?: string | null;
}

/** One kernel route event at the ToR for a FIP (from `ip -ts monitor route`). */
export interface RouteEvent {
  /** Wall clock (ms since the epoch). */
  at: number;
  deleted: boolean;
  via: string[];
  line: string;
}

export interface ProbeRun {
  report: ProbeReport;
  /** Wall clock when the sender started (its report's times count from here). */
  startedAt: number;
}

/** `ip -ts` prints local time with µs: "[2026-11-25T12:24:52.591588] …". */
export function parseMonitorLine(line: string): { at: number; rest: string } | undefined {
  const m = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d+)\]\s*(.*)$/.exec(line);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, rest] = m;
  const at = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime() + Number(`0.${frac}`) * 1000;
  return { at, rest: rest! };
}

/** Route events for `fip`/32 out of monitor lines (nexthop lines of multipath routes are folded in). */
export function routeEvents(lines: string[], fip: string): RouteEvent[] {
  const out: RouteEvent[] = [];
  let cur: RouteEvent | undefined;
  for (const raw of lines) {
    const p = parseMonitorLine(raw);
    if (p) {
      cur = undefined;
      const r = p.rest;
      const deleted = r.startsWith('Deleted ');
      const body = deleted ? r.slice(8) : r;
      const dst = body.split(/\s+/)[0];
      if (dst !== fip && dst !== `${fip}/32`) continue;
      cur = { at: p.at, deleted, via: [...body.matchAll(/via (\S+)/g)].map((x) => x[1]!), line: r };
      out.push(cur);
    } else if (cur && /^\s+nexthop/.test(raw)) {
      cur.via.push(...[...raw.matchAll(/via (\S+)/g)].map((x) => x[1]!));
    }
  }
  return out;
}

export class RouteMonitor {
  private readonly lines: string[] = [];
  private buf = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      const parts = this.buf.split('\n');
      this.buf = parts.pop()!;
      this.lines.push(...parts);
    });
  }

  static async start(ns: string): Promise<RouteMonitor> {
    const child = spawn('ip', ['-n', ns, '-ts', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    await sleep(50); // the netlink subscription is made right after exec
    return new RouteMonitor(child);
  }

  events(fip: string): RouteEvent[] {
    return routeEvents(this.lines, fip);
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export class FailoverLab {
  readonly file: string;
  readonly tor: 'frr' | 'bird';
  readonly name: string;
  private echoes: ChildProcess[] = [];
  private monitors: RouteMonitor[] = [];
  private readonly log: (s: string) => void;

  constructor(topology: string, opts: { log?: (s: string) => void } = {}) {
    this.file = resolveTopologyFile(topology);
    this.name = loadPlan(this.file).name;
    this.tor = this.name.startsWith('bird') ? 'bird' : 'frr';
    this.log = opts.log ?? (() => undefined);
  }

  get runDir(): string {
    return runDirOf(this.name);
  }

  state(): LabState {
    const s = readState(this.runDir);
    if (!s) throw new Error(`lab ${this.name} is not up`);
    return s;
  }

  /**
   * Brings the lab up (agents optional), waits for the ToR's sessions and for each agent's
   * routes at the ToR, starts the echoes on `port`. `restartStuck`: an agent whose session
   * is up but whose routes never arrive is restarted once (a workaround, logged) instead of
   * failing.
   */
  async up(opts: { agents?: boolean; echoPort?: number; restartStuck?: boolean } = {}): Promise<void> {
    await labUp(this.file, { agents: opts.agents ?? true, log: this.log });
    if (opts.agents ?? true) {
      await this.waitSessions();
      for (const c of ['compute1', 'compute2'] as const) {
        try {
          await this.waitAdvertising(c);
        } catch (err) {
          if (!opts.restartStuck) throw err;
          this.log(`WORKAROUND: ${(err as Error).message}; restarting the agent of ${c}`);
          await this.signalAgent(c, 'SIGTERM');
          await this.startAgent(c);
          await this.waitSessions();
          await this.waitAdvertising(c);
        }
      }
    }
    if (opts.echoPort) await this.startEchoes(opts.echoPort);
  }

  /**
   * Waits until the ToR holds `compute`'s SNAT route (bootstrap.yaml: 198.51.100.201 on
   * compute1, .202 on compute2), which every agent announces from its first pass: an
   * Established session that carries no routes is not a usable lab.
   */
  async waitAdvertising(compute: Compute, timeoutMs = 20000): Promise<void> {
    const snat = SNAT_IP[compute];
    const deadline = Date.now() + timeoutMs;
    while (!(await this.torPaths(snat).catch((): string[] => [])).includes(COMPUTE_IP[compute])) {
      if (Date.now() > deadline) {
        throw new Error(`${compute}'s session is up at the ToR but its routes never arrived (no path for its SNAT address ${snat} after ${timeoutMs} ms; see its agent log: GET /api/v1/bgp/neighbors shows prefixes.advertised)`);
      }
      await sleep(200);
    }
  }

  /** Stops what we started and tears the lab down; the daemons' logs are kept in `keepLogsIn` first (when given and the lab was up). */
  async down(keepLogsIn?: string): Promise<void> {
    for (const m of this.monitors) m.stop();
    for (const e of this.echoes) if (e.exitCode === null) e.kill('SIGKILL');
    const nodes = join(this.runDir, 'nodes');
    if (keepLogsIn && existsSync(nodes)) {
      rmSync(keepLogsIn, { recursive: true, force: true });
      for (const n of readdirSync(nodes)) {
        for (const f of readdirSync(join(nodes, n)).filter((x) => x.endsWith('.log'))) {
          mkdirSync(join(keepLogsIn, n), { recursive: true });
          copyFileSync(join(nodes, n, f), join(keepLogsIn, n, f));
        }
      }
      this.log(`logs of lab ${this.name} kept in ${keepLogsIn}`);
    }
    await labDown(this.file, { log: this.log }).catch(() => undefined);
  }

  async startEchoes(port: number): Promise<void> {
    for (const vm of ['vm1', 'vm2']) {
      const echo = spawn('ip', ['netns', 'exec', `ef-${vm}`, process.execPath, CLI, 'probe', 'echo', '--port', String(port), '--name', vm], { stdio: ['ignore', 'ignore', 'pipe'] });
      this.echoes.push(echo);
      await new Promise<void>((resolve, reject) => {
        let err = '';
        echo.stderr!.on('data', (d) => {
          err += d;
          if (err.includes('answering')) resolve();
        });
        echo.once('exit', (c) => reject(new Error(`probe echo in ${vm} exited ${c}: ${err}`)));
      });
    }
  }

  // ------------------------------------------------------------------ the ToR

  /** BGP session state of each compute at the ToR ('Established' when up). */
  async torSessions(): Promise<Record<Compute, string>> {
    if (this.tor === 'frr') {
      const sum = JSON.parse(await run('vtysh', ['-N', 'ef-tor', '-c', 'show bgp summary json'])) as { ipv4Unicast?: { peers: Record<string, { state: string }> } };
      const peers = sum.ipv4Unicast?.peers ?? {};
      return { compute1: peers[COMPUTE_IP.compute1]?.state ?? 'none', compute2: peers[COMPUTE_IP.compute2]?.state ?? 'none' };
    }
    const out = await this.birdc(['show', 'protocols']);
    const st = (name: string): string => /\bup\b.*Established/.test(out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '') ? 'Established' : 'down';
    return { compute1: st('compute1'), compute2: st('compute2') };
  }

  /** BFD state of each compute at the ToR ('up' when up). */
  async torBfd(): Promise<Record<Compute, string>> {
    if (this.tor === 'frr') {
      const peers = JSON.parse(await run('vtysh', ['-N', 'ef-tor', '-c', 'show bfd peers json'])) as Array<{ peer: string; status: string }>;
      const st = (ip: string): string => peers.find((p) => p.peer === ip)?.status ?? 'none';
      return { compute1: st(COMPUTE_IP.compute1), compute2: st(COMPUTE_IP.compute2) };
    }
    const out = await this.birdc(['show', 'bfd', 'sessions']);
    const st = (ip: string): string => (/\bUp\b/.test(out.split('\n').find((l) => l.startsWith(ip)) ?? '') ? 'up' : 'down');
    return { compute1: st(COMPUTE_IP.compute1), compute2: st(COMPUTE_IP.compute2) };
  }

  birdc(args: string[]): Promise<string> {
    const sock = this.state().birdSockets['tor'] ?? join(this.runDir, 'nodes', 'tor', 'bird.ctl');
    return run('birdc', ['-s', sock, ...args]);
  }

  /**
   * Waits until the ToR has the BGP sessions (and BFD, unless `bfd: false`) of `which` up,
   * and they stayed up for `steadyMs` (a session that just came up may still flap once at start).
   */
  async waitSessions(which: Compute[] = ['compute1', 'compute2'], opts: { timeoutMs?: number; steadyMs?: number; bfd?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 90000);
    const steady = opts.steadyMs ?? 2000;
    let upSince: number | undefined;
    let last = '';
    for (;;) {
      const s = await this.torSessions().catch(() => undefined);
      const b = opts.bfd === false ? { compute1: 'up', compute2: 'up' } : await this.torBfd().catch(() => undefined);
      const ok = !!s && !!b && which.every((c) => s[c] === 'Established' && b[c] === 'up');
      last = JSON.stringify({ bgp: s, bfd: b });
      if (ok) {
        upSince ??= Date.now();
        if (Date.now() - upSince >= steady) return;
      } else upSince = undefined;
      if (Date.now() > deadline) throw new Error(`ToR sessions of ${which.join(', ')} not up and steady: ${last}`);
      await sleep(200);
    }
  }

  /** Next hops of the ToR's forwarding entry for fip/32 (kernel FIB of ef-tor); [] when there is none. */
  async torFib(fip: string): Promise<string[]> {
    const routes = JSON.parse(await run('ip', ['-n', 'ef-tor', '-json', 'route', 'show', `${fip}/32`])) as Array<{ gateway?: string; nexthops?: Array<{ gateway?: string }> }>;
    return routes.flatMap((r) => (r.gateway ? [r.gateway] : (r.nexthops ?? []).flatMap((n) => (n.gateway ? [n.gateway] : []))));
  }

  /** Next hops of every BGP path the ToR holds for fip/32, best first. */
  async torPaths(fip: string): Promise<string[]> {
    if (this.tor === 'frr') {
      const j = JSON.parse(await run('vtysh', ['-N', 'ef-tor', '-c', `show bgp ipv4 unicast ${fip}/32 json`])) as { paths?: Array<{ bestpath?: { overall?: boolean }; nexthops?: Array<{ ip: string }> }> };
      const paths = [...(j.paths ?? [])].sort((a, b) => Number(!!b.bestpath?.overall) - Number(!!a.bestpath?.overall));
      return paths.map((p) => p.nexthops?.[0]?.ip ?? '?');
    }
    const out = await this.birdc(['show', 'route', 'for', `${fip}/32`, 'all']).catch(() => '');
    return [...out.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!);
  }

  /** Waits until the ToR forwards fip via `compute` (and, when given, also holds a path via `backup`). */
  async waitTor(fip: string, compute: Compute, opts: { backup?: Compute; timeoutMs?: number } = {}): Promise<void> {
    let last: unknown;
    const deadline = Date.now() + (opts.timeoutMs ?? 30000);
    for (;;) {
      const fib = await this.torFib(fip).catch(() => []);
      const paths = opts.backup ? await this.torPaths(fip).catch(() => []) : [];
      last = { fib, paths };
      if (fib.length === 1 && fib[0] === COMPUTE_IP[compute] && (!opts.backup || paths.includes(COMPUTE_IP[opts.backup]))) return;
      if (Date.now() > deadline) throw new Error(`the ToR does not route ${fip} via ${compute}${opts.backup ? ` with a backup via ${opts.backup}` : ''}: ${JSON.stringify(last)}`);
      await sleep(100);
    }
  }

  async monitor(): Promise<RouteMonitor> {
    const m = await RouteMonitor.start('ef-tor');
    this.monitors.push(m);
    return m;
  }

  // ------------------------------------------------------------------ intent (edgeflow ctl on compute1)

  async ctl(args: string[], via: Compute = 'compute1'): Promise<unknown> {
    const out = await nsRun(`ef-${via}`, process.execPath, [join(repoRoot(), 'bin', 'edgeflow.js'), 'ctl', '--token', TOKEN, '--json', ...args]);
    return out.trim() ? JSON.parse(out) : undefined;
  }

  async createFip(port: string, standby?: string): Promise<Fip> {
    const r = (await this.ctl(['fip', 'create', '--network', 'ext', '--tenant', 't1', '--port', port, ...(standby ? ['--standby-port', standby] : [])])) as { floatingip: Fip };
    return r.floatingip;
  }

  async showFip(id: string): Promise<Fip> {
    return ((await this.ctl(['fip', 'show', id])) as { floatingip: Fip }).floatingip;
  }

  /** The agent API of `via` over the management network (curl in ef-mgmt: no Node start-up in the way of a timed call). */
  async api(via: Compute, method: string, path: string, body?: unknown): Promise<unknown> {
    const out = await nsRun('ef-mgmt', 'curl', ['-sS', '-m', '15', '-X', method, '-H', `authorization: Bearer ${TOKEN}`,
      ...(body === undefined ? [] : ['-H', 'content-type: application/json', '-d', JSON.stringify(body)]),
      '-w', '\n%{http_code}', `http://${MGMT_IP[via]}:8179${path}`]);
    const nl = out.lastIndexOf('\n');
    const code = Number(out.slice(nl + 1));
    const text = out.slice(0, nl);
    if (code >= 400 || !code) throw new Error(`${method} ${path} on ${via}: HTTP ${code} ${text}`);
    return text.trim() ? JSON.parse(text) : undefined;
  }

  /** PUT /api/v1/floatingips/{id} with the new port (planned failover / operator re-association). */
  async moveFip(id: string, port: string, via: Compute = 'compute1'): Promise<Fip> {
    return ((await this.api(via, 'PUT', `/api/v1/floatingips/${encodeURIComponent(id)}`, { floatingip: { portId: port } })) as { floatingip: Fip }).floatingip;
  }

  async deleteFip(id: string, via: Compute = 'compute1'): Promise<void> {
    await this.ctl(['fip', 'delete', id], via);
  }

  // ------------------------------------------------------------------ the probe

  /**
   * Sends the probe from ext to `fip` while `during(startedAt)` runs, then stops it and
   * returns its report (startedAt: wall clock of the first request, within a millisecond
   * or so; the report's times count from there). `maxSeconds` bounds the whole run.
   */
  async probe(fip: string, port: number, during: (startedAt: number) => Promise<void>, maxSeconds = 60): Promise<ProbeRun> {
    const child = spawn('ip', ['netns', 'exec', 'ef-ext', process.execPath, CLI, 'probe', 'send', '--target', fip, '--port', String(port), '--duration', String(maxSeconds), '--linger', '300', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    const startedAt = await new Promise<number>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        err += d;
        if (err.includes('probe send:')) resolve(Date.now());
      });
      void exited.then((c) => reject(new Error(`probe send exited ${c} before sending: ${err}`)));
    });
    let failure: unknown;
    try {
      await during(startedAt);
    } catch (e) {
      failure = e;
    }
    // `ip netns exec` execs node, so this is the sender itself: it stops sending and reports
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await exited;
    if (failure) throw failure;
    if (!out.trim()) throw new Error(`probe send exited ${code} without a report: ${err}`);
    return { report: JSON.parse(out) as ProbeReport, startedAt };
  }

  // ------------------------------------------------------------------ faults on a compute

  /**
   * Takes the compute's uplink down, or up again. The kernel drops routes through a link
   * that goes down, so bringing it up also re-applies the node's `ip route` lines from the
   * topology file, as the host's network configuration would.
   */
  async uplink(compute: Compute, up: boolean): Promise<void> {
    await run('ip', ['-n', `ef-${compute}`, 'link', 'set', 'eth1', up ? 'up' : 'down']);
    if (!up) return;
    for (const c of loadPlan(this.file).commands) {
      if (c.node === compute && c.argv[1] === 'route') await nsRun(c.ns, c.argv[0]!, c.argv.slice(1));
    }
  }

  /** A frozen host: everything in and out of its uplink dropped (no reset, link stays up). */
  async silence(compute: Compute): Promise<void> {
    await nsRun(`ef-${compute}`, 'nft', ['-f', '-'], {
      input: [
        'table inet ef_freeze {',
        '  chain in { type filter hook prerouting priority -450; policy accept; iifname "eth1" drop; }',
        '  chain out { type filter hook postrouting priority -450; policy accept; oifname "eth1" drop; }',
        '}',
        '',
      ].join('\n'),
    });
  }

  async unsilence(compute: Compute): Promise<void> {
    await nsRun(`ef-${compute}`, 'nft', ['delete', 'table', 'inet', 'ef_freeze'], { allowFail: true });
  }

  agentProcess(compute: Compute): LabState['processes'][number] {
    const p = this.state().processes.find((x) => x.node === compute && x.name === 'agent');
    if (!p) throw new Error(`no agent recorded for ${compute}`);
    return p;
  }

  agentAlive(compute: Compute): boolean {
    const p = this.state().processes.find((x) => x.node === compute && x.name === 'agent');
    return !!p && pidAlive(p.pid, p.startTime);
  }

  /** Signals the compute's agent and waits (up to `waitMs`) until it has exited. */
  async signalAgent(compute: Compute, signal: NodeJS.Signals, waitMs = 10000): Promise<void> {
    const p = this.agentProcess(compute);
    if (!pidAlive(p.pid, p.startTime)) return;
    process.kill(p.pid, signal);
    const deadline = Date.now() + waitMs;
    while (pidAlive(p.pid, p.startTime)) {
      if (Date.now() > deadline) throw new Error(`agent of ${compute} (pid ${p.pid}) still runs ${waitMs} ms after ${signal}`);
      await sleep(10);
    }
  }

  /** Starts the compute's agent as the runner does (same argv, env, log) and records its new pid for `lab down`. */
  async startAgent(compute: Compute): Promise<void> {
    const spec = loadPlan(this.file).daemons.find((d) => d.type === 'agent' && d.node === compute);
    if (!spec) throw new Error(`no agent in ${this.file} for ${compute}`);
    await startDaemon({
      runDir: this.runDir,
      record: (p) => {
        const s = this.state();
        s.processes = [...s.processes.filter((x) => !(x.node === p.node && x.name === p.name)), p];
        writeState(s);
      },
      warn: (m) => this.log(`warning: ${m}`),
      log: this.log,
    }, spec);
  }

  /** True when `compute`'s kernel NAT (the agent's nftables DNAT map) has an entry for `fip`. */
  async natHas(compute: Compute, fip: string): Promise<boolean> {
    const out = await nsRun(`ef-${compute}`, 'nft', ['list', 'map', 'inet', 'edgeflow', 'fip4_dnat'], { allowFail: true });
    return new RegExp(`\\b${fip.replace(/\./g, '\\.')}\\s*:`).test(out);
  }

  /** UDP conntrack entries on `compute` whose original destination is `fip` (conntrack -L output lines). */
  async conntrack(compute: Compute, fip: string): Promise<string[]> {
    const out = await nsRun(`ef-${compute}`, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', fip], { allowFail: true });
    return out.split('\n').filter((l) => l.startsWith('udp'));
  }
}

/** The probe's verdict in one line, for the test log and the benchmark. */
export function summarize(r: ProbeReport): string {
  const sw = r.switches.map((s) => `${s.from}->${s.to}@${s.atMs.toFixed(0)}ms`).join(' ') || 'no switch';
  return `sent ${r.sent} lost ${r.lost} longest gap ${r.longestGap.ms.toFixed(1)} ms; ${Object.entries(r.responders).map(([k, v]) => `${k}=${v}`).join(' ')}; ${sw}; at the end ${r.resumed ? r.lastResponder : 'nothing'}`;
}
