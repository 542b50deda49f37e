// A containerlab topology file (*.clab.yml) read into the model the netns runner builds:
// nodes with their kind, image, binds, cmd, exec, env, sysctls and management address;
// veth links from `links[].endpoints`. Validation has two layers: the JSON schema in
// topologies/clab.schema.json (the containerlab subset we use) and the cross-references
// the schema cannot express (links name existing nodes, one use per interface, Linux
// interface names, management addresses inside the management subnet).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validateClabSchema } from './schema.js';

export interface ClabNode {
  name: string;
  kind: string;
  image: string;
  group?: string;
  cmd?: string;
  exec: string[];
  /** Bind mounts: host path (absolute, resolved against the topology file's directory) → container path. */
  binds: Array<{ source: string; target: string; readOnly: boolean }>;
  env: Record<string, string>;
  labels: Record<string, string>;
  sysctls: Record<string, string>;
  mgmtIpv4?: string;
}

export interface ClabEndpoint {
  node: string;
  iface: string;
}

export interface ClabLink {
  a: ClabEndpoint;
  b: ClabEndpoint;
  mtu?: number;
}

export interface ClabTopology {
  name: string;
  /** Absolute path of the file and its directory (binds are relative to it). */
  file: string;
  dir: string;
  mgmt?: { network?: string; ipv4Subnet?: string; ipv4Gw?: string };
  nodes: ClabNode[];
  links: ClabLink[];
}

export type TopologyResult = { ok: true; topology: ClabTopology } | { ok: false; errors: string[] };

/** Linux interface name: 1-15 bytes, no '/', ':' or whitespace. */
export function isIfName(s: string): boolean {
  return /^[^\s/:]{1,15}$/.test(s) && s !== '.' && s !== '..';
}

/** Reads and validates a topology file. */
export function loadTopology(file: string): TopologyResult {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: ${(err as Error).message}`] };
  }
  return parseTopology(text, abs);
}

/** Parses topology YAML text; `file` names it in errors and anchors relative binds. */
export function parseTopology(text: string, file: string): TopologyResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [`${file}: YAML: ${(err as Error).message}`] };
  }
  const schemaErrors = validateClabSchema(doc);
  if (schemaErrors.length) return { ok: false, errors: schemaErrors.map((e) => `${file}: ${e}`) };
  return buildModel(doc as RawDoc, file);
}

interface RawNode {
  kind?: string;
  group?: string;
  image?: string;
  cmd?: string;
  exec?: string[];
  binds?: string[];
  env?: Record<string, unknown>;
  labels?: Record<string, unknown>;
  sysctls?: Record<string, unknown>;
  'mgmt-ipv4'?: string;
}
interface RawDoc {
  name: string;
  mgmt?: { network?: string; 'ipv4-subnet'?: string; 'ipv4-gw'?: string };
  topology: {
    defaults?: RawNode;
    kinds?: Record<string, RawNode>;
    groups?: Record<string, RawNode>;
    nodes: Record<string, RawNode | null>;
    links?: Array<{ endpoints: string[]; mtu?: number }>;
  };
}

function strMap(m: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = String(v);
  return out;
}

/** containerlab's inheritance: node > group > kind > defaults (maps merge, lists and scalars replace). */
function effective(doc: RawDoc, raw: RawNode): RawNode {
  const t = doc.topology;
  const kind = raw.kind ?? (raw.group ? t.groups?.[raw.group]?.kind : undefined) ?? t.defaults?.kind;
  const layers: RawNode[] = [t.defaults ?? {}, (kind && t.kinds?.[kind]) || {}, (raw.group && t.groups?.[raw.group]) || {}, raw];
  const out: RawNode = {};
  for (const l of layers) {
    for (const [k, v] of Object.entries(l) as Array<[keyof RawNode, unknown]>) {
      if (k === 'env' || k === 'labels' || k === 'sysctls') {
        (out as Record<string, unknown>)[k] = { ...((out[k] as object | undefined) ?? {}), ...(v as object) };
      } else {
        (out as Record<string, unknown>)[k] = v;
      }
    }
  }
  return out;
}

function ipv4ToInt(s: string): number | undefined {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Parses `a.b.c.d/len` into network and mask; undefined when malformed. */
export function parseIpv4Cidr(s: string): { network: number; len: number } | undefined {
  const [ip, lenText] = s.split('/');
  const n = ip === undefined ? undefined : ipv4ToInt(ip);
  const len = Number(lenText);
  if (n === undefined || !Number.isInteger(len) || len < 0 || len > 32) return undefined;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { network: (n & mask) >>> 0, len };
}

export function ipv4InCidr(ip: string, cidr: string): boolean {
  const c = parseIpv4Cidr(cidr);
  const n = ipv4ToInt(ip);
  if (!c || n === undefined) return false;
  const mask = c.len === 0 ? 0 : (0xffffffff << (32 - c.len)) >>> 0;
  return ((n & mask) >>> 0) === c.network;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function buildModel(doc: RawDoc, file: string): TopologyResult {
  const errors: string[] = [];
  const dir = dirname(file);
  const nodes: ClabNode[] = [];
  for (const [name, rawOrNull] of Object.entries(doc.topology.nodes)) {
    const raw = effective(doc, rawOrNull ?? {});
    if (!raw.kind) errors.push(`node ${name}: has no kind (set it on the node or in topology.defaults)`);
    if (raw.kind && raw.kind !== 'linux') errors.push(`node ${name}: kind ${raw.kind}: the netns runner builds only kind linux`);
    if (!raw.image) errors.push(`node ${name}: has no image`);
    if (name === 'mgmt') errors.push('node mgmt: the name is reserved for the management network namespace (ef-mgmt)');
    const binds: ClabNode['binds'] = [];
    for (const b of raw.binds ?? []) {
      const [src, target, mode] = b.split(':');
      if (!src || !target) {
        errors.push(`node ${name}: bind ${b}: expected SOURCE:TARGET[:MODE]`);
        continue;
      }
      binds.push({ source: resolve(dir, src), target, readOnly: (mode ?? '').split(',').includes('ro') });
    }
    nodes.push({
      name,
      kind: raw.kind ?? '',
      image: raw.image ?? '',
      group: raw.group,
      cmd: raw.cmd,
      exec: raw.exec ?? [],
      binds,
      env: strMap(raw.env),
      labels: strMap(raw.labels),
      sysctls: strMap(raw.sysctls),
      mgmtIpv4: raw['mgmt-ipv4'],
    });
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));

  const links: ClabLink[] = [];
  const used = new Map<string, number>();
  (doc.topology.links ?? []).forEach((l, i) => {
    const eps = l.endpoints.map((e) => {
      const j = e.indexOf(':');
      return { node: e.slice(0, j), iface: e.slice(j + 1) };
    });
    for (const ep of eps) {
      const node = byName.get(ep.node);
      if (!node) errors.push(`links[${i}]: node ${ep.node} is not defined in topology.nodes`);
      if (!isIfName(ep.iface)) errors.push(`links[${i}]: ${ep.node}:${ep.iface}: not a Linux interface name (1-15 characters, no / : or spaces)`);
      if (ep.iface === 'eth0' && node?.mgmtIpv4) errors.push(`links[${i}]: ${ep.node}:eth0 is the management interface of ${ep.node}`);
      if (ep.iface === 'lo') errors.push(`links[${i}]: ${ep.node}:lo is the loopback`);
      const key = `${ep.node}:${ep.iface}`;
      const prev = used.get(key);
      if (prev !== undefined) errors.push(`links[${i}]: ${key} is already used by links[${prev}]`);
      else used.set(key, i);
    }
    if (eps[0]?.node === eps[1]?.node) errors.push(`links[${i}]: both ends are on node ${eps[0]?.node}`);
    links.push({ a: eps[0]!, b: eps[1]!, mtu: l.mtu });
  });

  let mgmt: ClabTopology['mgmt'];
  if (doc.mgmt) {
    const subnet = doc.mgmt['ipv4-subnet'];
    mgmt = { network: doc.mgmt.network, ipv4Subnet: subnet, ipv4Gw: doc.mgmt['ipv4-gw'] };
    if (subnet && !parseIpv4Cidr(subnet)) errors.push(`mgmt.ipv4-subnet: ${subnet} is not an IPv4 prefix`);
    if (subnet && mgmt.ipv4Gw && !ipv4InCidr(mgmt.ipv4Gw, subnet)) errors.push(`mgmt.ipv4-gw: ${mgmt.ipv4Gw} is outside ${subnet}`);
  }
  const mgmtSeen = new Map<string, string>();
  for (const n of nodes) {
    if (!n.mgmtIpv4) continue;
    if (!mgmt?.ipv4Subnet) errors.push(`node ${n.name}: mgmt-ipv4 needs mgmt.ipv4-subnet`);
    else if (!ipv4InCidr(n.mgmtIpv4, mgmt.ipv4Subnet)) errors.push(`node ${n.name}: mgmt-ipv4 ${n.mgmtIpv4} is outside ${mgmt.ipv4Subnet}`);
    const other = mgmtSeen.get(n.mgmtIpv4);
    if (other) errors.push(`node ${n.name}: mgmt-ipv4 ${n.mgmtIpv4} is also used by ${other}`);
    mgmtSeen.set(n.mgmtIpv4, n.name);
  }
  if (mgmt?.ipv4Subnet) {
    const gw = mgmtGateway(mgmt);
    const clash = gw ? mgmtSeen.get(gw) : undefined;
    if (clash) errors.push(`node ${clash}: mgmt-ipv4 ${gw} is the management gateway`);
  }
  if (errors.length) return { ok: false, errors: errors.map((e) => `${file}: ${e}`) };
  return { ok: true, topology: { name: doc.name, file, dir, mgmt, nodes, links } };
}

/** The management bridge's address: ipv4-gw, or the subnet's first address as containerlab does. */
export function mgmtGateway(mgmt: NonNullable<ClabTopology['mgmt']>): string | undefined {
  if (mgmt.ipv4Gw) return mgmt.ipv4Gw;
  const c = mgmt.ipv4Subnet ? parseIpv4Cidr(mgmt.ipv4Subnet) : undefined;
  return c ? intToIpv4(c.network + 1) : undefined;
}
