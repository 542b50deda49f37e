// Test harness: one FRR (8.4) instance inside a network namespace, for interop tests.
// FRR's multi-instance mode (`-N NAME`) keeps config in /etc/frr/NAME/frr.conf and sockets
// in /var/run/frr/NAME; daemons run in the foreground (spawned, so we hold their pids) and
// `vtysh -N NAME -b` pushes the integrated config into them. `stop()` kills by pid and
// removes both directories; it is registered with `lab.onCleanup`.
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { run, waitFor, type Lab } from './netns.js';

export type FrrDaemon = 'zebra' | 'bgpd' | 'bfdd' | 'staticd';

export interface FrrOptions {
  /** Full integrated config (frr.conf). `frrBgpConfig()` builds a typical one. */
  config: string;
  /** Daemons to start; default zebra + bgpd. */
  daemons?: FrrDaemon[];
  /**
   * bgpd with `-n`: learned routes are not installed in the kernel (control-plane only, faster).
   * zebra still runs: without it (`-Z`) FRR 8.4's nexthop tracking never finds the peer
   * reachable and the session stays in Active, even with `disable-connected-check`.
   */
  noKernel?: boolean;
  /** Instance name (`-N`); default: the namespace name. */
  name?: string;
  /** Defaults profile (`-F`); default 'datacenter' (short timers). */
  profile?: 'datacenter' | 'traditional';
  /**
   * FRR debug flags turned on after the config is loaded (e.g. ['bgp updates', 'bgp update-groups']),
   * with the daemons' log level at debugging. Default: the env EF_FRR_DEBUG (comma-separated), else none.
   */
  debug?: string[];
  /** Also append all daemon output to this file (default: the env EF_FRR_LOG_DIR/NAME.log when set). */
  logFile?: string;
}

export interface FrrHandle {
  readonly ns: string;
  readonly name: string;
  /** Pids of the running daemons, by daemon name. */
  readonly pids: Partial<Record<FrrDaemon, number>>;
  /** Runs vtysh commands (several are run in sequence, e.g. ['conf t', 'router bgp 1', ...]); returns stdout. */
  vtysh(cmd: string | string[]): Promise<string>;
  /** Runs one `show ... json` command and parses the output. */
  vtyshJson<T = any>(cmd: string): Promise<T>;
  /** Daemon output collected so far (stdout+stderr of all daemons), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const FRR_BIN = '/usr/lib/frr';
/** uid/gid of the `frr` user, which the daemons drop to (root when absent). */
function frrIds(): { uid: number; gid: number } {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
    if (line) {
      const f = line.split(':');
      return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch { /* no passwd: fall through */ }
  return { uid: 0, gid: 0 };
}

/** True when FRR's daemons and vtysh are installed. */
export function haveFrr(): boolean {
  return existsSync(`${FRR_BIN}/bgpd`) && existsSync(`${FRR_BIN}/zebra`) && existsSync('/usr/bin/vtysh');
}

/** Starts FRR in namespace `ns` and waits until its config is loaded. */
export async function startFrr(lab: Lab, ns: string, opts: FrrOptions): Promise<FrrHandle> {
  const name = opts.name ?? ns;
  const profile = opts.profile ?? 'datacenter';
  const daemons: FrrDaemon[] = opts.daemons ?? ['zebra', 'bgpd'];
  const debug = opts.debug ?? (process.env.EF_FRR_DEBUG ?? '').split(',').map((d) => d.trim()).filter(Boolean);
  const logFile = opts.logFile ?? (process.env.EF_FRR_LOG_DIR ? `${process.env.EF_FRR_LOG_DIR}/${name}.log` : undefined);
  const etcDir = `/etc/frr/${name}`;
  const runDir = `/var/run/frr/${name}`;
  rmSync(etcDir, { recursive: true, force: true });
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(etcDir, { recursive: true });
  mkdirSync(runDir, { recursive: true });
  writeFileSync(`${etcDir}/frr.conf`, opts.config);
  writeFileSync(`${etcDir}/vtysh.conf`, '');
  const ids = frrIds();
  for (const p of [etcDir, `${etcDir}/frr.conf`, `${etcDir}/vtysh.conf`, runDir]) chownSync(p, ids.uid, ids.gid);

  let output = '';
  const children: Partial<Record<FrrDaemon, ChildProcess>> = {};
  const pids: Partial<Record<FrrDaemon, number>> = {};
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const alive = Object.values(children).filter((c): c is ChildProcess => !!c && c.exitCode === null && c.signalCode === null);
    for (const c of alive) c.kill('SIGTERM');
    const deadline = Date.now() + 3000;
    while (alive.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const c of alive) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(etcDir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  };
  lab.onCleanup(stop);

  // zebra first (the others connect to its zserv.api), then the rest.
  const order: FrrDaemon[] = ['zebra', 'bgpd', 'staticd', 'bfdd'];
  for (const d of order.filter((x) => daemons.includes(x))) {
    const args = ['-N', name, '-F', profile, '-A', '127.0.0.1', '--log', 'stdout', '--log-level', debug.length ? 'debugging' : 'warnings'];
    if (d === 'bgpd' && opts.noKernel) args.push('-n');
    const child = lab.spawn(ns, `${FRR_BIN}/${d}`, args);
    const keep = (b: unknown): void => {
      output = tail(output + `[${d}] ` + String(b));
      if (logFile) appendFileSync(logFile, `[${d}] ` + String(b));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, sig) => {
      if (!stopped) output = tail(output + `[${d}] exited code=${code} signal=${sig}\n`);
    });
    children[d] = child;
    if (child.pid !== undefined) {
      pids[d] = child.pid;
      lab.trackPid(child.pid);
    }
    await waitFor(`${d} vty socket in ${runDir}`, () => {
      if (child.exitCode !== null) throw new Error(`${d} exited: ${output}`);
      return existsSync(`${runDir}/${d}.vty`) && (d !== 'zebra' || existsSync(`${runDir}/zserv.api`));
    }, 10000, 20);
  }

  const vtysh = async (cmd: string | string[]): Promise<string> => {
    const cmds = Array.isArray(cmd) ? cmd : [cmd];
    return run('vtysh', ['-N', name, ...cmds.flatMap((c) => ['-c', c])]);
  };
  const handle: FrrHandle = {
    ns,
    name,
    pids,
    vtysh,
    async vtyshJson(cmd: string) {
      const out = await vtysh(cmd);
      try {
        return JSON.parse(out);
      } catch {
        throw new Error(`vtysh -N ${name} -c '${cmd}' did not return JSON: ${out.slice(0, 500)}`);
      }
    },
    log: () => output,
    stop,
  };
  try {
    // -b loads /etc/frr/NAME/frr.conf into every running daemon.
    await run('vtysh', ['-N', name, '-b']);
    if (debug.length) await vtysh(['conf t', 'log stdout debugging', 'log timestamp precision 3', ...debug.map((d) => `debug ${d}`)]);
  } catch (err) {
    throw new Error(`loading FRR config failed: ${String(err)}\n${output}`);
  }
  return handle;
}

function tail(s: string): string {
  return s.length > 64 * 1024 ? s.slice(-64 * 1024) : s;
}

// ---- config builder -------------------------------------------------------------------

export type FrrFamily = 'ipv4 unicast' | 'ipv6 unicast' | 'ipv4 vpn' | 'ipv6 vpn' | 'l2vpn evpn' | 'ipv4 labeled-unicast' | 'ipv6 labeled-unicast';

export interface FrrNeighbor {
  address: string;
  remoteAs: number | 'internal' | 'external';
  /** Families to activate; default ['ipv4 unicast']. */
  families?: FrrFamily[];
  /** Extra lines under `router bgp` for this neighbor, without the `neighbor ADDR` prefix (e.g. 'timers 1 3'). */
  options?: string[];
  /** Extra per-family lines without the prefix, e.g. { 'ipv4 unicast': ['addpath-tx-all-paths'] }. */
  familyOptions?: Partial<Record<FrrFamily, string[]>>;
}

export interface FrrBgpConfig {
  asn: number;
  routerId: string;
  neighbors: FrrNeighbor[];
  hostname?: string;
  /** Lines before `router bgp` (route-maps, prefix-lists, bfd profiles…). */
  before?: string[];
  /** Lines inside `router bgp`, before the neighbors (FRR wants e.g. `bgp graceful-restart` there). */
  bgp?: string[];
  /** Lines inside each address family (e.g. { 'ipv4 unicast': ['network 198.51.100.0/24'] }). */
  families?: Partial<Record<FrrFamily, string[]>>;
  /** Lines after the `router bgp` block (e.g. further `router bgp ASN vrf X` blocks). */
  after?: string[];
}

/** Builds an integrated frr.conf for one BGP instance (eBGP without policy allowed, no import check). */
export function frrBgpConfig(c: FrrBgpConfig): string {
  const L: string[] = ['frr defaults datacenter', `hostname ${c.hostname ?? 'frr'}`, 'log stdout warnings', ...(c.before ?? [])];
  L.push(`router bgp ${c.asn}`, ` bgp router-id ${c.routerId}`, ' no bgp ebgp-requires-policy', ' no bgp network import-check', ' no bgp default ipv4-unicast');
  for (const l of c.bgp ?? []) L.push(` ${l}`);
  for (const n of c.neighbors) {
    L.push(` neighbor ${n.address} remote-as ${n.remoteAs}`);
    for (const o of n.options ?? []) L.push(` neighbor ${n.address} ${o}`);
  }
  const fams = new Set<FrrFamily>(Object.keys(c.families ?? {}) as FrrFamily[]);
  for (const n of c.neighbors) for (const f of n.families ?? ['ipv4 unicast']) fams.add(f);
  for (const f of fams) {
    L.push(` address-family ${f}`);
    for (const l of c.families?.[f] ?? []) L.push(`  ${l}`);
    for (const n of c.neighbors) {
      if (!(n.families ?? ['ipv4 unicast']).includes(f)) continue;
      L.push(`  neighbor ${n.address} activate`);
      for (const o of n.familyOptions?.[f] ?? []) L.push(`  neighbor ${n.address} ${o}`);
    }
    L.push(' exit-address-family');
  }
  L.push('exit', ...(c.after ?? []), '');
  return L.join('\n');
}
