// The one-machine lab: builds a containerlab topology with network namespaces and real
// daemons (see plan.ts for the mapping), and removes it again by pid and by name.
//   labUp    idempotent: a complete, healthy lab with the same options is left alone;
//            anything else of this topology (a half-built lab, stray ef-* namespaces of
//            its nodes) is torn down first
//   labDown  stops every recorded process (SIGTERM, then SIGKILL), kills what is left in
//            the lab's namespaces, deletes them (their veths go with them), removes the
//            FRR instance directories and the run dir
//   labStatus nodes, namespaces, pids alive, the ToR's BGP summary
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, unlinkSync, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { birdSocket, removeFrrInstance, startDaemon } from './daemons.js';
import { repoRoot, runDirOf, RUN_BASE } from './paths.js';
import { planLab, type LabPlan } from './plan.js';
import { CommandError, isRoot, listNamespaces, nsh, pidAlive, sh, stopProcesses } from './shell.js';
import { readState, writeState, type LabState } from './state.js';
import { loadTopology } from './topology.js';

export interface LabOptions {
  /** Start `edgeflow agent` on the computes (default true). */
  agents?: boolean;
  log?: (line: string) => void;
}

/** Reads, validates and plans a topology file; throws with every problem listed. */
export function loadPlan(file: string): LabPlan {
  const t = loadTopology(file);
  if (!t.ok) throw new Error(`invalid topology:\n  ${t.errors.join('\n  ')}`);
  const p = planLab(t.topology, { runDir: runDirOf(t.topology.name), repoRoot: repoRoot() });
  if (!p.ok) throw new Error(`${file}: cannot build this topology with namespaces:\n  ${p.errors.join('\n  ')}`);
  return p.plan;
}

function requireRoot(): void {
  if (!isRoot()) throw new Error('the netns lab needs root (network namespaces, veths, daemons)');
}

/** Installs missing system packages through scripts/install-deps.sh (idempotent), only when something is missing. */
async function ensureDeps(plan: LabPlan, log: (s: string) => void): Promise<void> {
  const need = new Set<string>(['/usr/sbin/ip', '/usr/bin/ip'].some(existsSync) ? [] : ['ip']);
  for (const d of plan.daemons) {
    if (d.type === 'frr' && !(existsSync('/usr/lib/frr/zebra') && existsSync('/usr/bin/vtysh'))) need.add('frr');
    if (d.type === 'bird' && !existsSync('/usr/sbin/bird')) need.add('bird2');
    if (d.type === 'etcd' && !(existsSync('/usr/bin/etcd') && existsSync('/usr/bin/etcdctl'))) need.add('etcd');
    if (d.type === 'agent' && !(existsSync('/usr/sbin/nft') && existsSync('/usr/sbin/conntrack'))) need.add('nftables/conntrack');
  }
  if (!need.size) return;
  log(`installing missing packages (${[...need].join(', ')}) with scripts/install-deps.sh`);
  await sh(['bash', `${repoRoot()}/scripts/install-deps.sh`], { timeoutMs: 15 * 60 * 1000 });
}

/** Problems that keep a lab from being "up and healthy"; empty when it is. */
export async function labProblems(state: LabState): Promise<string[]> {
  const problems: string[] = [];
  const have = new Set(await listNamespaces());
  for (const ns of state.namespaces) if (!have.has(ns)) problems.push(`namespace ${ns} is missing`);
  for (const p of state.processes) if (!pidAlive(p.pid, p.startTime)) problems.push(`${p.name} on ${p.node} (pid ${p.pid}) is not running`);
  if (!state.complete) problems.push('the lab was not completely built');
  return problems;
}

/** Another lab whose namespaces overlap this plan's and still exist. */
async function conflictingLab(plan: LabPlan): Promise<LabState | undefined> {
  if (!existsSync(RUN_BASE)) return undefined;
  const have = new Set(await listNamespaces());
  for (const name of readdirSync(RUN_BASE)) {
    if (name === plan.name) continue;
    const s = readState(runDirOf(name));
    if (s && s.namespaces.some((ns) => plan.namespaces.includes(ns) && have.has(ns))) return s;
  }
  return undefined;
}

export async function labUp(file: string, opts: LabOptions = {}): Promise<LabState> {
  requireRoot();
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const agents = opts.agents ?? true;
  const plan = loadPlan(file);
  const other = await conflictingLab(plan);
  if (other) throw new Error(`lab ${other.name} (${other.file}) uses the same namespaces; run: edgeflow lab down --topology ${other.file}`);
  await ensureDeps(plan, log);

  const previous = readState(plan.runDir);
  if (previous && previous.options.agents === agents && previous.file === plan.file) {
    const problems = await labProblems(previous);
    if (!problems.length) {
      log(`lab ${plan.name} is already up (since ${previous.startedAt}); nothing to do`);
      return previous;
    }
    log(`lab ${plan.name} is not healthy (${problems.join('; ')}): rebuilding it`);
  }
  const existing = new Set(await listNamespaces());
  if (previous || plan.namespaces.some((ns) => existing.has(ns))) {
    log(`removing what is left of lab ${plan.name}`);
    await teardown(plan, previous, () => {});
  }

  const state: LabState = {
    version: 1,
    name: plan.name,
    file: plan.file,
    runDir: plan.runDir,
    startedAt: new Date().toISOString(),
    options: { agents },
    namespaces: [],
    frrInstances: [],
    processes: [],
    birdSockets: {},
    warnings: [],
    complete: false,
  };
  const save = (): void => writeState(state);
  const warn = (msg: string): void => {
    state.warnings.push(msg);
    log(`warning: ${msg}`);
  };
  mkdirSync(plan.runDir, { recursive: true });
  save();
  log(`building lab ${plan.name} from ${plan.file} (run dir ${plan.runDir})`);

  for (const ns of plan.namespaces) {
    state.namespaces.push(ns);
    save();
    await sh(['ip', 'netns', 'add', ns]);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }

  if (plan.mgmt) {
    const m = plan.mgmt;
    await sh(['ip', '-n', m.ns, 'link', 'add', m.bridge, 'type', 'bridge']);
    await sh(['ip', '-n', m.ns, 'addr', 'add', `${m.gateway}/${m.prefixLength}`, 'dev', m.bridge]);
    await sh(['ip', '-n', m.ns, 'link', 'set', m.bridge, 'up']);
    for (const p of m.ports) {
      await sh(['ip', '-n', m.ns, 'link', 'add', p.bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns]);
      await sh(['ip', '-n', m.ns, 'link', 'set', p.bridgePort, 'master', m.bridge, 'up']);
      await sh(['ip', '-n', p.ns, 'addr', 'add', p.address, 'dev', 'eth0']);
      await sh(['ip', '-n', p.ns, 'link', 'set', 'eth0', 'up']);
    }
  }

  for (const l of plan.links) {
    await sh(['ip', '-n', l.a.ns, 'link', 'add', l.a.iface, ...(l.mtu ? ['mtu', String(l.mtu)] : []), 'type', 'veth', 'peer', 'name', l.b.iface, 'netns', l.b.ns]);
    await sh(['ip', '-n', l.a.ns, 'link', 'set', l.a.iface, 'up']);
    await sh(['ip', '-n', l.b.ns, 'link', 'set', l.b.iface, 'up']);
  }
  log(`  ${plan.namespaces.length} namespaces, ${plan.links.length} links${plan.mgmt ? `, management bridge ${plan.mgmt.gateway}/${plan.mgmt.prefixLength} in ${plan.mgmt.ns}` : ''}`);

  for (const s of plan.sysctls) await nsh(s.ns, ['sysctl', '-qw', `${s.key}=${s.value}`]);
  await runExecCommands(plan, warn);

  for (const b of plan.binds) {
    mkdirSync(dirname(b.path), { recursive: true });
    try { if (lstatSync(b.path)) unlinkSync(b.path); } catch { /* absent */ }
    symlinkSync(b.source, b.path);
  }

  const ctx = {
    runDir: plan.runDir,
    record: (p: LabState['processes'][number]) => {
      state.processes.push(p);
      save();
    },
    warn,
    log,
  };
  for (const d of plan.daemons) {
    if (d.type === 'agent' && !agents) continue;
    if (d.type === 'frr') {
      state.frrInstances.push(d.instance);
      save();
    }
    const sock = await startDaemon(ctx, d);
    if (sock) state.birdSockets[d.node] = sock;
  }
  if (!agents && plan.daemons.some((d) => d.type === 'agent')) log('  agents not started (--no-agents)');
  state.complete = true;
  save();
  log(`lab ${plan.name} is up: edgeflow lab status --topology ${plan.file}`);
  return state;
}

const KERNEL_MISSING = /Unknown device type|not supported|Operation not supported|Protocol not supported/i;

/**
 * Runs the nodes' `ip` exec lines in their namespaces. A line that creates a link of a type
 * this kernel lacks (e.g. vrf here) is skipped with a warning, and so are later lines of the
 * same node that name that link: the topology's data path then needs real containerlab.
 */
async function runExecCommands(plan: LabPlan, warn: (s: string) => void): Promise<void> {
  const missing = new Map<string, Set<string>>();
  for (const c of plan.commands) {
    const gone = missing.get(c.ns) ?? new Set<string>();
    const dep = c.argv.find((a) => gone.has(a));
    if (dep) {
      warn(`${c.node}: skipped "${c.source}" (${dep} could not be created on this kernel)`);
      continue;
    }
    try {
      await nsh(c.ns, c.argv);
    } catch (err) {
      const msg = err instanceof CommandError ? err.stderr.trim() : String(err);
      const addIdx = c.argv[1] === 'link' && c.argv[2] === 'add' ? 3 : -1;
      if (addIdx > 0 && KERNEL_MISSING.test(msg)) {
        gone.add(c.argv[addIdx]!);
        missing.set(c.ns, gone);
        warn(`${c.node}: "${c.source}" failed (${msg}); this kernel lacks it, the data path that needs it works only with real containerlab`);
        continue;
      }
      throw new Error(`${c.node}: exec "${c.source}" failed: ${msg}`);
    }
  }
}

/** Stops processes, deletes namespaces and FRR instance dirs of `plan` and/or `state`, then the run dir. */
async function teardown(plan: LabPlan | undefined, state: LabState | undefined, log: (s: string) => void): Promise<void> {
  const procs = [...(state?.processes ?? [])].reverse();
  await stopProcesses(procs);
  const names = new Set<string>([...(plan?.namespaces ?? []), ...(state?.namespaces ?? [])]);
  const have = new Set(await listNamespaces());
  const present = [...names].filter((n) => have.has(n));
  // Whatever still runs inside our namespaces was started by us (or by our daemons).
  const stray: number[] = [];
  for (const ns of present) {
    const pids = (await sh(['ip', 'netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean).map(Number);
    stray.push(...pids);
  }
  if (stray.length) await stopProcesses(stray.map((pid) => ({ pid })), 1000);
  for (const ns of present) await sh(['ip', 'netns', 'del', ns]).catch((err) => log(`warning: ${(err as Error).message}`));
  const instances = new Set<string>([...(state?.frrInstances ?? []), ...(plan?.daemons ?? []).flatMap((d) => (d.type === 'frr' ? [d.instance] : []))]);
  for (const i of instances) removeFrrInstance(i);
  const runDir = plan?.runDir ?? state?.runDir;
  if (runDir) rmSync(runDir, { recursive: true, force: true });
  log(`removed ${present.length} namespaces, stopped ${procs.filter((p) => p.pid).length + stray.length} processes`);
}

export async function labDown(file: string, opts: LabOptions = {}): Promise<void> {
  requireRoot();
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  let plan: LabPlan | undefined;
  try {
    plan = loadPlan(file);
  } catch (err) {
    log(`warning: ${(err as Error).message.split('\n')[0]}; removing what the run dir records`);
  }
  const state = plan ? readState(plan.runDir) : undefined;
  if (!plan && !state) throw new Error(`nothing known about ${file}`);
  await teardown(plan, state, log);
  log(`lab ${plan?.name ?? state?.name} is down`);
}

export interface LabStatus {
  name: string;
  file: string;
  up: boolean;
  healthy: boolean;
  problems: string[];
  nodes: Array<{ node: string; ns: string; role: string; namespace: boolean; processes: Array<{ name: string; pid: number; alive: boolean; log: string }> }>;
  warnings: string[];
  /** The ToR's BGP summary as its daemon prints it. */
  tor: Array<{ node: string; daemon: 'frr' | 'bird'; summary: string }>;
}

export async function labStatus(file: string): Promise<LabStatus> {
  const plan = loadPlan(file);
  const state = readState(plan.runDir);
  const have = new Set(await listNamespaces());
  const problems = state ? await labProblems(state) : ['not up'];
  const status: LabStatus = {
    name: plan.name,
    file: plan.file,
    up: !!state,
    healthy: !!state && problems.length === 0,
    problems,
    nodes: plan.nodes.map((n) => ({
      node: n.node,
      ns: n.ns,
      role: n.role,
      namespace: have.has(n.ns),
      processes: (state?.processes ?? []).filter((p) => p.node === n.node).map((p) => ({ name: p.name, pid: p.pid, alive: pidAlive(p.pid, p.startTime), log: p.log })),
    })),
    warnings: state?.warnings ?? [],
    tor: [],
  };
  if (state) {
    for (const d of plan.daemons) {
      if (d.type === 'frr' && state.frrInstances.includes(d.instance)) {
        const summary = await sh(['vtysh', '-N', d.instance, '-c', 'show bgp summary']).catch((err) => `(vtysh failed: ${(err as Error).message})`);
        status.tor.push({ node: d.node, daemon: 'frr', summary });
      } else if (d.type === 'bird') {
        const sock = state.birdSockets[d.node] ?? birdSocket(plan.runDir, d.node);
        const summary = await sh(['birdc', '-s', sock, 'show', 'protocols']).catch((err) => `(birdc failed: ${(err as Error).message})`);
        status.tor.push({ node: d.node, daemon: 'bird', summary });
      }
    }
  }
  return status;
}

export function formatStatus(s: LabStatus): string {
  const L: string[] = [`lab ${s.name} (${s.file}): ${!s.up ? 'down' : s.healthy ? 'up' : `DEGRADED: ${s.problems.join('; ')}`}`];
  if (!s.up) return `${L[0]}\n`;
  const w = Math.max(...s.nodes.map((n) => n.node.length), 4);
  L.push(`${'node'.padEnd(w)}  ${'namespace'.padEnd(14)}  ${'role'.padEnd(5)}  processes`);
  for (const n of s.nodes) {
    const procs = n.processes.map((p) => `${p.name} ${p.pid}${p.alive ? '' : ' DEAD'}`).join(', ') || '-';
    L.push(`${n.node.padEnd(w)}  ${(n.namespace ? n.ns : `${n.ns} (missing)`).padEnd(14)}  ${n.role.padEnd(5)}  ${procs}`);
  }
  for (const x of s.warnings) L.push(`warning: ${x}`);
  for (const t of s.tor) L.push('', `${t.node} (${t.daemon}) BGP:`, t.summary.trimEnd());
  return `${L.join('\n')}\n`;
}
