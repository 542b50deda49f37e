// Benchmark: floating-IP failover in the one-machine lab (root, netns, FRR, BIRD, GoBGP,
// etcd), issue 6. Each scenario N times (default 3) with the UDP probe at 1,000 packets/s
// from ext to the FIP, for edgeflow agents under an FRR ToR and under a BIRD ToR, and in
// the same run the reference: the same lab (FRR ToR) with GoBGP on both computes
// announcing the FIP and the NAT pre-programmed on both (no agents). Prints a table (and
// writes it to bench/failover/RESULTS.md with --write); never asserts.
//
//   node dist/bench/failover/run.js [--runs 3] [--only frr|bird|gobgp] [--write]
//
// Per run: lost packets and the longest gap (probe), "ToR moved" = from the action (fault
// or API call) to the ToR's kernel route change for the FIP (`ip -ts monitor route` in
// ef-tor), "new VM" = from the action to the first reply from the other VM (probe clock,
// offset by when the probe started). Scenarios:
//   planned     PUT portId to the other VM (GoBGP: announce on the new compute, then withdraw on the old)
//   uplink      hot standby on vm2, compute1's uplink goes down
//   silent      hot standby on vm2, compute1 drops all traffic on its uplink (link up)
//   kill        hot standby on vm2, compute1's speaker process (agent / gobgpd) is SIGKILLed
//   reassoc     no standby, compute1 silent, 400 ms later the FIP is re-associated to vm2
//   restart     compute1's agent SIGTERMed and started again (edgeflow only)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nsRun, run } from '../../test/harness/netns.js';
import { COMPUTE_IP, FailoverLab, type Compute, type RouteEvent } from '../../test/lab/failover-lab.js';
import type { ProbeReport } from '../../topologies/index.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const RUNS = Number(opt('runs') ?? 3);
const ONLY = opt('only');
const WRITE = args.includes('--write');
const PORT = 7400;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const note = (s: string): void => void process.stderr.write(`${s}\n`);

type Vm = 'vm1' | 'vm2';
const HOST: Record<Vm, Compute> = { vm1: 'compute1', vm2: 'compute2' };
const FIXED: Record<Vm, string> = { vm1: '10.0.0.5', vm2: '10.0.0.6' };
const other = (vm: Vm): Vm => (vm === 'vm1' ? 'vm2' : 'vm1');

interface Measure {
  lost: number;
  gapMs: number;
  /** Action → the ToR's route change away from the old compute (undefined: it never moved). */
  torMs?: number;
  /** Action → first reply from the other VM (undefined: none). */
  vmMs?: number;
}

interface Row {
  scenario: string;
  setup: string;
  runs: Measure[];
  comment?: string;
}

/** What a setup does to a FIP: edgeflow through its API, the reference with GoBGP and hand-made NAT. */
interface Speaker {
  readonly name: string;
  readonly bfd: boolean;
  /** A FIP on `vm`, with the other VM as hot standby when asked; resolves once the ToR routes it. */
  create(vm: Vm, standby: boolean): Promise<string>;
  /** Re-associates the FIP to `vm` (the old one is `from`); resolves when the request is done. */
  move(fip: string, from: Vm, vm: Vm, via: Compute): Promise<void>;
  remove(fip: string): Promise<void>;
  /** SIGKILLs compute1's speaker / starts it again (and whatever it announced). */
  kill(): Promise<void>;
  revive(fip: string, standby: boolean): Promise<void>;
}

class EdgeflowSpeaker implements Speaker {
  readonly name = 'edgeflow';
  readonly bfd = true;
  private ids = new Map<string, string>();
  constructor(private readonly lab: FailoverLab) {}
  async create(vm: Vm, standby: boolean): Promise<string> {
    const f = await this.lab.createFip(vm, standby ? other(vm) : undefined);
    this.ids.set(f.address, f.id);
    await this.lab.waitTor(f.address, HOST[vm], standby ? { backup: HOST[other(vm)] } : {});
    return f.address;
  }
  async move(fip: string, _from: Vm, vm: Vm, via: Compute): Promise<void> {
    await this.lab.moveFip(this.ids.get(fip)!, vm, via);
  }
  async remove(fip: string): Promise<void> {
    await this.lab.deleteFip(this.ids.get(fip)!, 'compute2').catch((e: Error) => note(`cleanup: ${e.message}`));
  }
  kill(): Promise<void> {
    return this.lab.signalAgent('compute1', 'SIGKILL');
  }
  async revive(): Promise<void> {
    await this.lab.startAgent('compute1');
  }
}

/** The reference: gobgpd on each compute (no BFD in GoBGP 3.10, no graceful restart), NAT for the FIP pre-programmed on both. */
class GobgpSpeaker implements Speaker {
  readonly name = 'GoBGP + static NAT';
  readonly bfd = false;
  private next = 50;
  constructor(private readonly lab: FailoverLab) {}

  static config(c: Compute): string {
    const me = COMPUTE_IP[c];
    const asn = c === 'compute1' ? 65011 : 65012;
    const tor = c === 'compute1' ? '192.0.2.1' : '192.0.2.17';
    return [
      '[global.config]', `  as = ${asn}`, `  router-id = "${me}"`, '  port = -1',
      '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${tor}"`, '    peer-as = 65000',
      '  [neighbors.timers.config]', '    connect-retry = 1', '    hold-time = 9', '    keepalive-interval = 3',
      '  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv4-unicast"', '',
    ].join('\n');
  }

  async start(c: Compute): Promise<void> {
    const conf = `${this.lab.runDir}/nodes/${c}/gobgpd.toml`;
    writeFileSync(conf, GobgpSpeaker.config(c));
    // detached like the lab's daemons; `lab down` kills what is left in the namespace
    execFileSync('bash', ['-c', `ip netns exec ef-${c} gobgpd -f ${conf} -t toml -l warn >> ${this.lab.runDir}/nodes/${c}/gobgpd.log 2>&1 & echo $!`]);
    for (let i = 0; i < 100; i++) {
      if ((await nsRun(`ef-${c}`, 'gobgp', ['global'], { allowFail: true })).includes('AS:')) return;
      await sleep(100);
    }
    throw new Error(`gobgpd on ${c} did not start`);
  }

  async gobgp(c: Compute, a: string[]): Promise<void> {
    await nsRun(`ef-${c}`, 'gobgp', a);
  }

  announce(c: Compute, fip: string, prepend: boolean): Promise<void> {
    const asn = c === 'compute1' ? 65011 : 65012;
    return this.gobgp(c, ['global', 'rib', 'add', '-a', 'ipv4', `${fip}/32`, ...(prepend ? ['aspath', [asn, asn, asn].join(',')] : [])]);
  }

  withdraw(c: Compute, fip: string): Promise<void> {
    return this.gobgp(c, ['global', 'rib', 'del', '-a', 'ipv4', `${fip}/32`]);
  }

  /** 1:1 NAT for `fip` on both computes, each to its own VM (as the reference had it). */
  async nat(fip: string, add: boolean): Promise<void> {
    for (const vm of ['vm1', 'vm2'] as const) {
      const t = `ref_${fip.replace(/\./g, '_')}`;
      const ns = `ef-${HOST[vm]}`;
      if (!add) {
        await nsRun(ns, 'nft', ['delete', 'table', 'ip', t], { allowFail: true });
        await nsRun(ns, 'conntrack', ['-D', '-d', fip], { allowFail: true });
        continue;
      }
      await nsRun(ns, 'nft', ['-f', '-'], {
        input: `table ip ${t} {\n chain pre { type nat hook prerouting priority dstnat; ip daddr ${fip} dnat to ${FIXED[vm]}; }\n chain post { type nat hook postrouting priority srcnat; oifname "eth1" ip saddr ${FIXED[vm]} snat to ${fip}; }\n}\n`,
      });
    }
  }

  async create(vm: Vm, standby: boolean): Promise<string> {
    const fip = `198.51.100.${this.next++}`;
    await this.nat(fip, true);
    await this.announce(HOST[vm], fip, false);
    if (standby) await this.announce(HOST[other(vm)], fip, true);
    await this.lab.waitTor(fip, HOST[vm], standby ? { backup: HOST[other(vm)] } : {});
    return fip;
  }

  /** Make before break by hand: the new compute announces, the old one withdraws once the ToR has the new path. */
  async move(fip: string, from: Vm, vm: Vm): Promise<void> {
    await this.announce(HOST[vm], fip, false);
    // up to 1 s for the ToR to hold the new path (a silent old compute never answers anyway)
    for (let i = 0; i < 100 && !(await this.lab.torPaths(fip)).includes(COMPUTE_IP[HOST[vm]]); i++) await sleep(10);
    await this.withdraw(HOST[from], fip);
  }

  async remove(fip: string): Promise<void> {
    for (const c of ['compute1', 'compute2'] as const) await this.withdraw(c, fip).catch(() => undefined);
    await this.nat(fip, false);
  }

  async kill(): Promise<void> {
    const pids = (await run('ip', ['netns', 'pids', 'ef-compute1'])).split(/\s+/).filter(Boolean).map(Number);
    for (const p of pids) {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (cmd.endsWith('gobgpd')) process.kill(p, 'SIGKILL');
    }
  }

  async revive(fip: string): Promise<void> {
    await this.start('compute1');
    await this.announce('compute1', fip, false);
  }
}

/** ToR route change after `t0` that no longer goes via `old`. */
function movedAway(events: RouteEvent[], t0: number, old: Compute): RouteEvent | undefined {
  return events.find((e) => e.at >= t0 && (e.deleted || !e.via.includes(COMPUTE_IP[old])));
}

/** Runs the probe; `act()` happens 1 s in and returns the action's wall clock; then waits for `settled()` and 1 s more. */
async function measure(lab: FailoverLab, fip: string, newVm: Vm, oldCompute: Compute, act: () => Promise<number>, settled: () => Promise<void>): Promise<Measure & { report: ProbeReport }> {
  const mon = await lab.monitor();
  let at = 0;
  try {
    const { report, startedAt } = await lab.probe(fip, PORT, async () => {
      await sleep(1000);
      at = await act();
      await settled();
      await sleep(1000);
    });
    await sleep(50);
    const moved = movedAway(mon.events(fip), at, oldCompute);
    const firstNew = report.switches.find((s) => s.to === newVm);
    return {
      report,
      lost: report.lost,
      gapMs: report.longestGap.ms,
      torMs: moved ? moved.at - at : undefined,
      vmMs: firstNew ? firstNew.atMs - (at - startedAt) : undefined,
    };
  } finally {
    mon.stop();
  }
}

async function scenarios(lab: FailoverLab, sp: Speaker, setup: string): Promise<Row[]> {
  const rows: Row[] = [];
  const waitBoth = (): Promise<void> => lab.waitSessions(['compute1', 'compute2'], { timeoutMs: 90000, steadyMs: 1000, bfd: sp.bfd });
  const log = (scenario: string, i: number, m: Measure & { report: ProbeReport }): void =>
    note(`  ${setup} ${scenario} #${i + 1}: lost ${m.lost}, gap ${m.gapMs.toFixed(1)} ms, ToR ${m.torMs?.toFixed(0) ?? '-'} ms, new VM ${m.vmMs?.toFixed(0) ?? '-'} ms; responders ${JSON.stringify(m.report.responders)}`);

  // planned move, alternating direction
  {
    const fip = await sp.create('vm1', false);
    const runs: Measure[] = [];
    let at: Vm = 'vm1';
    for (let i = 0; i < RUNS; i++) {
      const to = other(at);
      const m = await measure(lab, fip, to, HOST[at], async () => {
        const t = Date.now();
        await sp.move(fip, at, to, 'compute1');
        return t;
      }, () => lab.waitTor(fip, HOST[to], { timeoutMs: 30000 }));
      log('planned', i, m);
      runs.push(m);
      at = to;
    }
    await sp.remove(fip);
    rows.push({ scenario: 'planned move', setup, runs });
  }

  // hot standby: uplink down, silent, speaker killed
  const faults: Array<{ key: string; name: string; fault: () => Promise<void>; repair: (fip: string) => Promise<void> }> = [
    { key: 'uplink', name: 'hot standby, uplink down', fault: () => lab.uplink('compute1', false), repair: () => lab.uplink('compute1', true) },
    { key: 'silent', name: 'hot standby, silent compute', fault: () => lab.silence('compute1'), repair: () => lab.unsilence('compute1') },
    { key: 'kill', name: `hot standby, ${sp.name === 'edgeflow' ? 'agent' : 'gobgpd'} SIGKILLed`, fault: () => sp.kill(), repair: (fip) => sp.revive(fip, true) },
  ];
  for (const f of faults) {
    const fip = await sp.create('vm1', true);
    const runs: Measure[] = [];
    for (let i = 0; i < RUNS; i++) {
      const m = await measure(lab, fip, 'vm2', 'compute1', async () => {
        const t = Date.now();
        await f.fault();
        return t;
      }, async () => {
        // edgeflow keeps forwarding on compute1 after a SIGKILL (graceful restart): give it the BFD time and more
        if (f.key === 'kill' && sp.bfd) await sleep(1500);
        else await lab.waitTor(fip, 'compute2', { timeoutMs: 30000 });
      });
      log(f.key, i, m);
      runs.push(m);
      await f.repair(fip);
      await waitBoth();
      await lab.waitTor(fip, 'compute1', { backup: 'compute2', timeoutMs: 30000 });
    }
    await sp.remove(fip);
    rows.push({
      scenario: f.name, setup, runs,
      comment: f.key !== 'kill' || !sp.bfd ? undefined : lab.tor === 'frr'
        ? 'FRR keeps the stale route (graceful restart helper: the TCP close came first, the BFD timeout after it is ignored) and compute1\'s kernel NAT keeps forwarding to vm1'
        : 'BIRD enters graceful restart on the TCP close but ends it when BFD goes down 300 ms later and moves to the standby; compute1\'s kernel NAT forwarded to vm1 until then',
    });
  }

  // no standby: compute1 silent, re-association 400 ms later (through compute2)
  {
    const runs: Measure[] = [];
    for (let i = 0; i < RUNS; i++) {
      const fip = await sp.create('vm1', false);
      const m = await measure(lab, fip, 'vm2', 'compute1', async () => {
        await lab.silence('compute1');
        await sleep(400);
        const t = Date.now();
        await sp.move(fip, 'vm1', 'vm2', 'compute2');
        return t;
      }, () => lab.waitTor(fip, 'compute2', { timeoutMs: 30000 }));
      log('reassoc', i, m);
      runs.push(m);
      await lab.unsilence('compute1');
      await waitBoth();
      await sp.remove(fip);
    }
    rows.push({ scenario: 'no standby, silent compute, re-association after 400 ms', setup, runs, comment: 'times from the re-association' });
  }

  // agent restart under traffic
  if (sp instanceof EdgeflowSpeaker) {
    const fip = await sp.create('vm1', false);
    const runs: Measure[] = [];
    for (let i = 0; i < RUNS; i++) {
      const m = await measure(lab, fip, 'vm2', 'compute1', async () => {
        const t = Date.now();
        await lab.signalAgent('compute1', 'SIGTERM');
        await lab.startAgent('compute1');
        return t;
      }, () => lab.waitSessions(['compute1'], { timeoutMs: 60000, steadyMs: 500 }));
      log('restart', i, m);
      runs.push(m);
      await waitBoth();
    }
    await sp.remove(fip);
    rows.push({
      scenario: 'agent restart (SIGTERM, start)', setup, runs,
      comment: lab.tor === 'frr' ? undefined : 'BIRD takes the BFD AdminDown our agent sends on SIGTERM (and a BFD timeout alike) as a failure: session down, routes flushed until the agent is back',
    });
  }
  return rows;
}

async function withLab<T>(topology: string, agents: boolean, fn: (lab: FailoverLab) => Promise<T>): Promise<T> {
  const lab = new FailoverLab(topology, { log: (s) => note(`  ${s}`) });
  await lab.down();
  try {
    await lab.up({ agents, echoPort: PORT, restartStuck: true });
    return await fn(lab);
  } finally {
    await lab.down(join(tmpdir(), 'edgeflow-failover-logs', `bench-${lab.name}${agents ? '' : '-gobgp'}`));
  }
}

const cell = (xs: Array<number | undefined>, digits = 0): string => xs.map((x) => (x === undefined ? '–' : x.toFixed(digits))).join(' / ');

function table(rows: Row[]): string {
  const L = [
    '| scenario | setup | lost (packets) | longest gap ms | ToR moved after ms | other VM answered after ms |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    L.push(`| ${r.scenario} | ${r.setup} | ${cell(r.runs.map((m) => m.lost))} | ${cell(r.runs.map((m) => m.gapMs), 1)} | ${cell(r.runs.map((m) => m.torMs))} | ${cell(r.runs.map((m) => m.vmMs))} |`);
  }
  return L.join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = loadavg()[0]!;
  const rows: Row[] = [];
  if (!ONLY || ONLY === 'frr') {
    note('edgeflow agents, FRR ToR');
    rows.push(...(await withLab('frr-2computes', true, (lab) => scenarios(lab, new EdgeflowSpeaker(lab), 'edgeflow, FRR ToR'))));
  }
  if (!ONLY || ONLY === 'bird') {
    note('edgeflow agents, BIRD ToR');
    rows.push(...(await withLab('bird-2computes', true, (lab) => scenarios(lab, new EdgeflowSpeaker(lab), 'edgeflow, BIRD ToR'))));
  }
  if (!ONLY || ONLY === 'gobgp') {
    note('reference: GoBGP on both computes, static NAT, FRR ToR');
    rows.push(...(await withLab('frr-2computes', false, async (lab) => {
      const sp = new GobgpSpeaker(lab);
      await sp.start('compute1');
      await sp.start('compute2');
      await lab.waitSessions(['compute1', 'compute2'], { bfd: false });
      return scenarios(lab, sp, 'reference: GoBGP, FRR ToR');
    })));
  }
  const loadEnd = loadavg()[0]!;
  // order rows by scenario so each one's setups sit together
  const order = [...new Set(rows.map((r) => r.scenario.replace(/agent|gobgpd/, 'speaker')))];
  rows.sort((a, b) => order.indexOf(a.scenario.replace(/agent|gobgpd/, 'speaker')) - order.indexOf(b.scenario.replace(/agent|gobgpd/, 'speaker')));
  const comments = [...new Set(rows.flatMap((r) => (r.comment ? [`${r.scenario} (${r.setup}): ${r.comment}`] : [])))];
  const out = [
    `Run ${startedAt.toISOString()} by \`node dist/bench/failover/run.js ${args.join(' ')}\`, ${RUNS} runs per cell (values in run order).`,
    `Load average (1 min): ${loadStart.toFixed(2)} at the start, ${loadEnd.toFixed(2)} at the end (2 shared cores).`,
    '',
    table(rows),
    '',
    ...comments.map((c) => `- ${c}`),
  ].join('\n');
  process.stdout.write(`${out}\n`);
  if (WRITE) {
    const file = fileURLToPath(new URL('../../../bench/failover/RESULTS.md', import.meta.url));
    const prev = readFileSync(file, 'utf8');
    const marker = '<!-- results -->';
    const head = prev.includes(marker) ? prev.slice(0, prev.indexOf(marker) + marker.length) : `${prev.trimEnd()}\n\n${marker}`;
    writeFileSync(file, `${head}\n${out}\n`);
    note(`written to ${file}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
