// From a containerlab topology to what the netns runner does, as plain data (pure):
//   node N                → network namespace ef-N (lo up)
//   links[].endpoints     → one veth pair, each end moved into its node's namespace and
//                           renamed to the interface the file names
//   mgmt + mgmt-ipv4      → namespace ef-mgmt with bridge mgmt0 (the gateway address, as
//                           containerlab's docker bridge); each such node gets eth0 on it
//   sysctls, exec         → `sysctl -w` and `ip …` run inside the node's namespace (only
//                           these two commands: the file is run as root on this host)
//   image frrouting/frr   → FRR daemons (zebra + those the bound /etc/frr/daemons enables)
//                           as instance -N ef-N, with the bound /etc/frr/frr.conf
//   image …bird…          → bird -c <bound /etc/bird.conf> -s <run dir>/N/bird.ctl
//   cmd "etcd …"          → /usr/bin/etcd with the same flags, data dir in the run dir
//   cmd "edgeflow …"      → node <repo>/bin/edgeflow.js …, container paths mapped to the
//                           bind sources through a per-node root of symlinks
import { basename, join } from 'node:path';
import { mgmtGateway, parseIpv4Cidr, type ClabNode, type ClabTopology } from './topology.js';

export const NS_PREFIX = 'ef-';
export const MGMT_NS = `${NS_PREFIX}mgmt`;
export const MGMT_BRIDGE = 'mgmt0';

export const nsOf = (node: string): string => `${NS_PREFIX}${node}`;

export type FrrDaemon = 'zebra' | 'bgpd' | 'bfdd' | 'staticd';
export const FRR_DAEMONS: readonly FrrDaemon[] = ['zebra', 'bgpd', 'staticd', 'bfdd'];

export type DaemonSpec =
  | { type: 'frr'; node: string; ns: string; instance: string; config: string; daemonsFile?: string }
  | { type: 'bird'; node: string; ns: string; config: string }
  | { type: 'etcd'; node: string; ns: string; argv: string[]; clientUrl: string; dataDir: string }
  | { type: 'agent'; node: string; ns: string; argv: string[]; env: Record<string, string>; cwd: string; configFile?: string };

export type Role = DaemonSpec['type'] | 'host';

export interface NsCommand {
  node: string;
  ns: string;
  argv: string[];
  /** The exec line as written in the file. */
  source: string;
}

export interface LabPlan {
  name: string;
  file: string;
  runDir: string;
  /** Every namespace the lab owns, in creation order (ef-mgmt first when present). */
  namespaces: string[];
  nodes: Array<{ node: string; ns: string; role: Role; image: string }>;
  mgmt?: { ns: string; bridge: string; gateway: string; prefixLength: number; ports: Array<{ node: string; ns: string; address: string; bridgePort: string }> };
  links: Array<{ a: { ns: string; iface: string }; b: { ns: string; iface: string }; mtu?: number }>;
  sysctls: Array<{ node: string; ns: string; key: string; value: string }>;
  commands: NsCommand[];
  /** Symlinks to create: `path` → `source` (the node's view of its binds). */
  binds: Array<{ node: string; path: string; source: string }>;
  daemons: DaemonSpec[];
}

export type PlanResult = { ok: true; plan: LabPlan } | { ok: false; errors: string[] };

/** Splits a command line into words: whitespace separates, '…' and "…" quote, \ escapes. No expansion. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${line}`);
  if (inWord) out.push(cur);
  return out;
}

/** Daemons an FRR `daemons` file enables (`bgpd=yes` …), restricted to those the runner starts; zebra always. */
export function parseFrrDaemons(text: string): { daemons: FrrDaemon[]; ignored: string[] } {
  const on = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z0-9]+d)\s*=\s*"?yes"?\s*$/.exec(line);
    if (m) on.add(m[1]!);
  }
  const daemons = FRR_DAEMONS.filter((d) => d === 'zebra' || on.has(d));
  const ignored = [...on].filter((d) => !(FRR_DAEMONS as readonly string[]).includes(d));
  return { daemons, ignored };
}

/** The role a node plays, from its image and cmd. */
export function roleOf(node: ClabNode): Role | { error: string } {
  if (/(^|\/)frrouting\/frr(:|$)/.test(node.image) || /(^|\/)frr(:|$)/.test(node.image)) return 'frr';
  if (/(^|\/)bird[^/]*(:|$)/.test(node.image)) return 'bird';
  if (!node.cmd) return 'host';
  let argv: string[];
  try {
    argv = splitCommand(node.cmd);
  } catch (err) {
    return { error: (err as Error).message };
  }
  const prog = basename(argv[0] ?? '');
  if (prog === 'etcd') return 'etcd';
  if (prog === 'edgeflow') return 'agent';
  return { error: `cmd "${node.cmd}": the netns runner starts only etcd and edgeflow commands (or FRR/BIRD images)` };
}

function bindFor(node: ClabNode, ...targets: string[]): string | undefined {
  for (const t of targets) {
    const b = node.binds.find((x) => x.target === t);
    if (b) return b.source;
  }
  return undefined;
}

/** Rewrites container paths in `argv` to the node's root of bind symlinks (exact path or below a bound directory, also in --flag=PATH). */
export function mapPaths(argv: string[], node: ClabNode, root: string): string[] {
  const mapOne = (p: string): string => {
    for (const b of node.binds) {
      if (p === b.target || p.startsWith(b.target.endsWith('/') ? b.target : `${b.target}/`)) return join(root, p);
    }
    return p;
  };
  return argv.map((a) => {
    const eq = a.indexOf('=');
    if (a.startsWith('-') && eq > 0) return `${a.slice(0, eq + 1)}${mapOne(a.slice(eq + 1))}`;
    return mapOne(a);
  });
}

/** Replaces the value of `--flag V` / `--flag=V` (adds the flag when absent). */
export function setFlag(argv: string[], flag: string, value: string): string[] {
  const out: string[] = [];
  let found = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag && i + 1 < argv.length) {
      out.push(flag, value);
      i++;
      found = true;
    } else if (a.startsWith(`${flag}=`)) {
      out.push(`${flag}=${value}`);
      found = true;
    } else out.push(a);
  }
  if (!found) out.push(flag, value);
  return out;
}

export function flagValue(argv: string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

export interface PlanOptions {
  runDir: string;
  repoRoot: string;
  nodeBin?: string;
  etcdBin?: string;
}

export function planLab(t: ClabTopology, opts: PlanOptions): PlanResult {
  const errors: string[] = [];
  const plan: LabPlan = {
    name: t.name,
    file: t.file,
    runDir: opts.runDir,
    namespaces: [],
    nodes: [],
    links: [],
    sysctls: [],
    commands: [],
    binds: [],
    daemons: [],
  };
  const withMgmt = t.nodes.filter((n) => n.mgmtIpv4);
  if (withMgmt.length && t.mgmt?.ipv4Subnet) {
    const gw = mgmtGateway(t.mgmt)!;
    const len = parseIpv4Cidr(t.mgmt.ipv4Subnet)!.len;
    plan.namespaces.push(MGMT_NS);
    plan.mgmt = {
      ns: MGMT_NS,
      bridge: MGMT_BRIDGE,
      gateway: gw,
      prefixLength: len,
      ports: withMgmt.map((n) => ({ node: n.name, ns: nsOf(n.name), address: `${n.mgmtIpv4}/${len}`, bridgePort: n.name.slice(0, 15) })),
    };
  }

  for (const n of t.nodes) {
    const ns = nsOf(n.name);
    plan.namespaces.push(ns);
    const role = roleOf(n);
    if (typeof role === 'object') {
      errors.push(`node ${n.name}: ${role.error}`);
      continue;
    }
    plan.nodes.push({ node: n.name, ns, role, image: n.image });
    const nodeRun = join(opts.runDir, 'nodes', n.name);
    const root = join(nodeRun, 'root');
    for (const b of n.binds) plan.binds.push({ node: n.name, path: join(root, b.target), source: b.source });

    const sysctls = { ...n.sysctls };
    if (role !== 'host' && role !== 'etcd' && sysctls['net.ipv4.ip_forward'] === undefined) sysctls['net.ipv4.ip_forward'] = '1';
    for (const [key, value] of Object.entries(sysctls)) plan.sysctls.push({ node: n.name, ns, key, value });

    for (const line of n.exec) {
      let argv: string[];
      try {
        argv = splitCommand(line);
      } catch (err) {
        errors.push(`node ${n.name}: exec "${line}": ${(err as Error).message}`);
        continue;
      }
      const prog = argv[0];
      if (prog === 'ip') plan.commands.push({ node: n.name, ns, argv, source: line });
      else if (prog === 'sysctl') {
        const kv = argv.slice(1).filter((a) => a !== '-w' && a !== '-q');
        for (const x of kv) {
          const eq = x.indexOf('=');
          if (eq <= 0) errors.push(`node ${n.name}: exec "${line}": expected sysctl -w KEY=VALUE`);
          else plan.sysctls.push({ node: n.name, ns, key: x.slice(0, eq), value: x.slice(eq + 1) });
        }
      } else errors.push(`node ${n.name}: exec "${line}": the netns runner runs only ip and sysctl commands`);
    }

    switch (role) {
      case 'frr': {
        const config = bindFor(n, '/etc/frr/frr.conf');
        if (!config) errors.push(`node ${n.name}: an FRR node needs a bind to /etc/frr/frr.conf`);
        else plan.daemons.push({ type: 'frr', node: n.name, ns, instance: ns, config, daemonsFile: bindFor(n, '/etc/frr/daemons') });
        break;
      }
      case 'bird': {
        const config = bindFor(n, '/etc/bird.conf', '/etc/bird/bird.conf');
        if (!config) errors.push(`node ${n.name}: a BIRD node needs a bind to /etc/bird.conf or /etc/bird/bird.conf`);
        else plan.daemons.push({ type: 'bird', node: n.name, ns, config });
        break;
      }
      case 'etcd': {
        const argv = splitCommand(n.cmd!);
        const dataDir = join(nodeRun, 'data');
        const mapped = setFlag(mapPaths(argv.slice(1), n, root), '--data-dir', dataDir);
        const clientUrl = (flagValue(mapped, '--advertise-client-urls') ?? 'http://127.0.0.1:2379').split(',')[0]!;
        plan.daemons.push({ type: 'etcd', node: n.name, ns, argv: [opts.etcdBin ?? '/usr/bin/etcd', ...mapped], clientUrl, dataDir });
        break;
      }
      case 'agent': {
        const argv = splitCommand(n.cmd!);
        const args = mapPaths(argv.slice(1), n, root);
        plan.daemons.push({
          type: 'agent',
          node: n.name,
          ns,
          argv: [opts.nodeBin ?? process.execPath, join(opts.repoRoot, 'bin', 'edgeflow.js'), ...args],
          env: { ...n.env, EF_NODE: n.name },
          cwd: root,
          configFile: flagValue(args, '--config'),
        });
        break;
      }
      case 'host':
        break;
    }
  }

  for (const l of t.links) plan.links.push({ a: { ns: nsOf(l.a.node), iface: l.a.iface }, b: { ns: nsOf(l.b.node), iface: l.b.iface }, mtu: l.mtu });

  // Start order: the store first, then the routers, then the agents that need both.
  const order: Record<DaemonSpec['type'], number> = { etcd: 0, frr: 1, bird: 1, agent: 2 };
  plan.daemons.sort((a, b) => order[a.type] - order[b.type]);
  if (errors.length) return { ok: false, errors };
  return { ok: true, plan };
}
