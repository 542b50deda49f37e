// The intent model: chassis, external networks, tenants, ports, floating IPs, BGP
// speaker settings and agent liveness records, as plain JSON objects (addresses are
// strings) that the REST API exposes as they are. Pure functions only:
//   parseObject(kind, input)      → normalized object, or field errors
//   checkReferences(kind, obj, …) → errors about the objects it names
//   uniqueKeys(kind, obj)         → values that must be unique across the store
// Route distinguishers and route targets follow RFC 4364 §4.2 and RFC 4360 §4;
// communities RFC 1997 and RFC 8092; AS numbers RFC 6793 (AS_TRANS) and RFC 7300.
import { cidrContains, cidrLast, cidrOverlaps, parseCidr, parseIp, type ParsedCidr, type ParsedIp } from './address.js';
import type { FieldError } from './errors.js';

export const KINDS = ['chassis', 'network', 'tenant', 'port', 'floatingip', 'speaker', 'agent'] as const;
export type Kind = (typeof KINDS)[number];

export type AddressFamilyName =
  | 'ipv4-unicast'
  | 'ipv6-unicast'
  | 'ipv4-labeled-unicast'
  | 'ipv6-labeled-unicast'
  | 'ipv4-vpn'
  | 'ipv6-vpn'
  | 'l2vpn-evpn';
export const ADDRESS_FAMILIES: readonly AddressFamilyName[] = [
  'ipv4-unicast', 'ipv6-unicast', 'ipv4-labeled-unicast', 'ipv6-labeled-unicast', 'ipv4-vpn', 'ipv6-vpn', 'l2vpn-evpn',
];

export interface BgpNeighbor {
  address: string;
  asn: number;
  /** Families to negotiate; absent means the speaker's default for the address family. */
  families?: AddressFamilyName[];
  /** Run BFD (RFC 5880/5881) with this neighbor. */
  bfd?: boolean;
  description?: string;
}

/** A compute node. Its `name` is its id. */
export interface Chassis {
  name: string;
  /** Uplink (external) address: the BGP next hop for what this chassis advertises. */
  uplinkIp: string;
  /** Optional IPv6 uplink address: next hop for IPv6 routes when uplinkIp is IPv4. */
  uplinkIpv6?: string;
  /** Source addresses for distributed SNAT of ports without a floating IP. */
  snatAddresses: string[];
  localAsn: number;
  /** BGP identifier (IPv4); defaults to uplinkIp when that is IPv4. */
  routerId?: string;
  bgpNeighbors: BgpNeighbor[];
}

export interface AddressPool {
  start: string;
  end: string;
}

/** An external (provider) network that floating IPs come from. */
export interface ExternalNetwork {
  id: string;
  name?: string;
  cidr: string;
  gatewayIp?: string;
  /** Ranges floating IPs are allocated from; inside `cidr`, disjoint. */
  pools: AddressPool[];
  /** 'l3': FIPs are routed to the chassis by BGP host routes; 'l2': the external network is a shared segment. */
  mode: 'l2' | 'l3';
  /** Tenant prefixes in the same scope are advertised without NAT (Neutron address scopes). */
  addressScope?: string;
}

/** A tenant VRF advertised as VPNv4/VPNv6 with an MPLS label (RFC 4364, 4659). */
export interface MplsVrf {
  rd: string;
  importRts: string[];
  exportRts: string[];
  /** MPLS label (16..1048575); absent: the speaker allocates one. */
  label?: number;
}

/** A tenant VRF advertised as EVPN type-5 routes (RFC 9136) over VXLAN. */
export interface EvpnVrf {
  rd: string;
  importRts: string[];
  exportRts: string[];
  vni: number;
  routerMac: string;
}

export type Vrf = MplsVrf | EvpnVrf;

export function isEvpnVrf(vrf: Vrf): vrf is EvpnVrf {
  return 'vni' in vrf;
}

export interface Tenant {
  id: string;
  name?: string;
  subnets: string[];
  addressScope?: string;
  vrf?: Vrf;
}

export interface Port {
  id: string;
  tenant: string;
  fixedIp: string;
  /** Chassis the port is bound to, or null while unbound. */
  chassis: string | null;
  /** Host-side interface name (tap/veth) on that chassis. */
  interfaceName?: string;
  mac?: string;
}

export interface FloatingIp {
  id: string;
  address: string;
  network: string;
  tenant: string;
  /** Port the address is NATed to, or null while unassociated. */
  portId: string | null;
  /** Hot standby: a port on another chassis that pre-programs NAT and advertises a backup path. */
  standbyPortId?: string | null;
  /** Written by agents: the chassis that has programmed NAT and announced the address. */
  activeChassis?: string | null;
  description?: string;
}

export interface SpeakerCommunities {
  fip?: string[];
  snat?: string[];
  tenant?: string[];
  /** Added to standby (backup) FIP routes so the ToR can lower their preference. */
  standby?: string[];
}

/** What the BGP speakers advertise. Id `default` applies to all chassis; an id equal to a chassis name overrides it for that chassis. */
export interface SpeakerSettings {
  id: string;
  advertiseFipHostRoutes: boolean;
  advertiseSnatAddresses: boolean;
  advertiseTenantPrefixes: boolean;
  /** 'per-chassis': every agent advertises what it hosts; 'central': one speaker advertises all FIPs with third-party next hops. */
  mode: 'per-chassis' | 'central';
  /** Times the local AS is prepended to standby FIP routes (0 = rely on communities). */
  standbyAsPathPrepend: number;
  communities: SpeakerCommunities;
}

/** Liveness record of a running agent; held by a lease, so it vanishes when the agent dies. Id = chassis name. */
export interface AgentRecord {
  chassis: string;
  startedAt: string;
  pid?: number;
  version?: string;
}

export interface KindMap {
  chassis: Chassis;
  network: ExternalNetwork;
  tenant: Tenant;
  port: Port;
  floatingip: FloatingIp;
  speaker: SpeakerSettings;
  agent: AgentRecord;
}
export type IntentObject = KindMap[Kind];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME_RE = /^[^\s/]{1,15}$/;

export function isKind(k: unknown): k is Kind {
  return typeof k === 'string' && (KINDS as readonly string[]).includes(k);
}

/** The id of an object of `kind` (chassis and agent records use the chassis name). */
export function idOf<K extends Kind>(kind: K, obj: KindMap[K]): string {
  if (kind === 'chassis') return (obj as Chassis).name;
  if (kind === 'agent') return (obj as AgentRecord).chassis;
  return (obj as { id: string }).id;
}

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}

// ---------------------------------------------------------------------------
// A small field reader: collects every error with its dotted path.

class Reader {
  readonly errors: FieldError[] = [];
  constructor(private readonly obj: Record<string, unknown>, private readonly path: string, allowed: readonly string[]) {
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) this.fail(k, 'unknown field');
  }

  field(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }
  fail(name: string, message: string): void {
    this.errors.push({ field: this.field(name), message });
  }
  has(name: string): boolean {
    return this.obj[name] !== undefined;
  }
  raw(name: string): unknown {
    return this.obj[name];
  }

  id(name: string): string {
    const v = this.obj[name];
    if (v === undefined) this.fail(name, 'is required');
    else if (!isValidId(v)) this.fail(name, 'must be 1-128 characters of letters, digits, _ . : - (starting with a letter or digit)');
    return v as string;
  }
  optId(name: string): string | undefined {
    return this.has(name) ? this.id(name) : undefined;
  }
  nullableId(name: string): string | null {
    const v = this.obj[name];
    if (v === null || v === undefined) return null;
    return this.id(name);
  }
  str(name: string, max = 255): string {
    const v = this.obj[name];
    if (typeof v !== 'string') this.fail(name, v === undefined ? 'is required' : 'must be a string');
    else if (v.length > max) this.fail(name, `must be at most ${max} characters`);
    return v as string;
  }
  optStr(name: string, max = 255): string | undefined {
    return this.has(name) ? this.str(name, max) : undefined;
  }
  bool(name: string, dflt?: boolean): boolean {
    const v = this.obj[name];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(name, v === undefined ? 'is required' : 'must be true or false');
    return v as boolean;
  }
  int(name: string, min: number, max: number, dflt?: number): number {
    const v = this.obj[name];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(name, v === undefined ? 'is required' : `must be an integer in ${min}..${max}`);
    }
    return v as number;
  }
  oneOf<T extends string>(name: string, values: readonly T[], dflt?: T): T {
    const v = this.obj[name];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(name, v === undefined ? 'is required' : `must be one of ${values.map((x) => `'${x}'`).join(', ')}`);
    }
    return v as T;
  }
  ip(name: string): string {
    const p = this.ipParsed(name);
    return p ? p.text : (this.obj[name] as string);
  }
  ipParsed(name: string): ParsedIp | undefined {
    const v = this.obj[name];
    if (v === undefined) {
      this.fail(name, 'is required');
      return undefined;
    }
    const p = parseIp(v);
    if (!p.ok) {
      this.fail(name, p.message);
      return undefined;
    }
    return p.value;
  }
  optIp(name: string): string | undefined {
    return this.has(name) ? this.ip(name) : undefined;
  }
  cidr(name: string): string {
    const v = this.obj[name];
    if (v === undefined) {
      this.fail(name, 'is required');
      return v as unknown as string;
    }
    const p = parseCidr(v);
    if (!p.ok) {
      this.fail(name, p.message);
      return v as string;
    }
    return p.value.text;
  }
  /** An array field; each element is read by `each` with its own path `name[i]`. */
  array<T>(name: string, each: (v: unknown, path: string) => T | undefined, opts: { dflt?: T[]; max?: number; min?: number } = {}): T[] {
    const v = this.obj[name];
    if (v === undefined && opts.dflt !== undefined) return opts.dflt;
    if (!Array.isArray(v)) {
      this.fail(name, v === undefined ? 'is required' : 'must be an array');
      return [];
    }
    const max = opts.max ?? 1024;
    if (v.length > max) this.fail(name, `must have at most ${max} entries`);
    if (opts.min !== undefined && v.length < opts.min) this.fail(name, `must have at least ${opts.min} entr${opts.min === 1 ? 'y' : 'ies'}`);
    const out: T[] = [];
    v.forEach((el, i) => {
      const r = each(el, `${this.field(name)}[${i}]`);
      if (r !== undefined) out.push(r);
    });
    return out;
  }
  /** Reads a nested object field with its own Reader; returns undefined when absent and optional. */
  sub(name: string, allowed: readonly string[], optional: boolean): Reader | undefined {
    const v = this.obj[name];
    if (v === undefined && optional) return undefined;
    if (!isPlainObject(v)) {
      this.fail(name, v === undefined ? 'is required' : 'must be an object');
      return undefined;
    }
    const r = new Reader(v, this.field(name), allowed);
    return r;
  }
  merge(r: Reader | undefined): void {
    if (r) this.errors.push(...r.errors);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops keys whose value is undefined so stored JSON stays minimal and comparable. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

// ---------------------------------------------------------------------------
// Value checks shared by several kinds.

/** AS number check (RFC 6793 §9: AS_TRANS 23456 is not a real AS; RFC 7300: 65535 and 4294967295 reserved). */
export function asnProblem(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4294967295) return 'must be an integer AS number in 1..4294967295';
  if (v === 23456) return 'AS 23456 is AS_TRANS (RFC 6793) and cannot be used';
  if (v === 65535 || v === 4294967295) return `AS ${v} is reserved (RFC 7300)`;
  return undefined;
}

/**
 * Route distinguisher or route target text (RFC 4364 §4.2, RFC 4360 §4):
 * `ASN2:N32` (type 0), `IPv4:N16` (type 1), `ASN4:N16` (type 2). Returns canonical text.
 */
export function parseRouteDistinguisher(v: unknown): { ok: true; text: string } | { ok: false; message: string } {
  const bad = { ok: false as const, message: 'must be ASN:NN or IPv4:NN (RFC 4364 §4.2), e.g. 65000:100 or 192.0.2.1:7' };
  if (typeof v !== 'string') return bad;
  const i = v.lastIndexOf(':');
  if (i <= 0) return bad;
  const admin = v.slice(0, i);
  const numText = v.slice(i + 1);
  if (!/^\d{1,10}$/.test(numText)) return bad;
  const num = Number(numText);
  if (/^\d{1,10}$/.test(admin)) {
    const asn = Number(admin);
    if (asn > 4294967295) return bad;
    const maxNum = asn <= 65535 ? 4294967295 : 65535;
    if (num > maxNum) return { ok: false, message: `assigned number ${num} is too large for a ${asn <= 65535 ? '2' : '4'}-octet AS (max ${maxNum})` };
    return { ok: true, text: `${asn}:${num}` };
  }
  const ip = parseIp(admin);
  if (!ip.ok || ip.value.family !== 4) return bad;
  if (num > 65535) return { ok: false, message: `assigned number ${num} is too large after an IPv4 address (max 65535)` };
  return { ok: true, text: `${ip.value.text}:${num}` };
}

const WELL_KNOWN_COMMUNITIES = ['no-export', 'no-advertise', 'no-export-subconfed', 'no-peer', 'blackhole', 'graceful-shutdown', 'accept-own'];

/** A standard community `A:B` (RFC 1997), a large community `A:B:C` (RFC 8092) or a well-known name. */
export function communityProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a community string';
  if (WELL_KNOWN_COMMUNITIES.includes(v)) return undefined;
  const parts = v.split(':');
  if (parts.every((p) => /^\d{1,10}$/.test(p))) {
    const n = parts.map(Number);
    if (parts.length === 2 && n.every((x) => x <= 65535)) return undefined;
    if (parts.length === 3 && n.every((x) => x <= 4294967295)) return undefined;
  }
  return `${v} is not a community: use A:B (0..65535 each, RFC 1997), A:B:C (RFC 8092) or one of ${WELL_KNOWN_COMMUNITIES.join(', ')}`;
}

// ---------------------------------------------------------------------------
// Per-kind parsers: unknown JSON in, normalized object or field errors out.

function readNeighbor(v: unknown, path: string, errors: FieldError[]): BgpNeighbor | undefined {
  if (!isPlainObject(v)) {
    errors.push({ field: path, message: 'must be an object {address, asn, families?, bfd?}' });
    return undefined;
  }
  const r = new Reader(v, path, ['address', 'asn', 'families', 'bfd', 'description']);
  const address = r.ip('address');
  const asnErr = asnProblem(v['asn']);
  if (asnErr) r.fail('asn', asnErr);
  const families = r.has('families')
    ? r.array('families', (f, p) => {
        if (!(ADDRESS_FAMILIES as readonly unknown[]).includes(f)) {
          r.errors.push({ field: p, message: `must be one of ${ADDRESS_FAMILIES.join(', ')}` });
          return undefined;
        }
        return f as AddressFamilyName;
      })
    : undefined;
  const bfd = r.has('bfd') ? r.bool('bfd') : undefined;
  const description = r.optStr('description');
  errors.push(...r.errors);
  return clean({ address, asn: v['asn'] as number, families, bfd, description });
}

function parseChassis(input: Record<string, unknown>): ParseResult<Chassis> {
  const r = new Reader(input, '', ['name', 'uplinkIp', 'uplinkIpv6', 'snatAddresses', 'localAsn', 'routerId', 'bgpNeighbors']);
  const name = r.id('name');
  const uplink = r.ipParsed('uplinkIp');
  let uplinkIpv6: string | undefined;
  if (r.has('uplinkIpv6')) {
    const p = r.ipParsed('uplinkIpv6');
    if (p && p.family !== 6) r.fail('uplinkIpv6', `${p.text} is not an IPv6 address`);
    uplinkIpv6 = p?.text;
  }
  const snatAddresses = r.array('snatAddresses', (v, path) => {
    const p = parseIp(v);
    if (!p.ok) r.errors.push({ field: path, message: p.message });
    return p.ok ? p.value.text : undefined;
  }, { dflt: [], max: 64 });
  dupes(rawList(input['snatAddresses']).map((v) => canonicalOf(v)), 'snatAddresses', r.errors);
  const asnErr = asnProblem(input['localAsn']);
  if (asnErr) r.fail('localAsn', asnErr);
  let routerId: string | undefined;
  if (r.has('routerId')) {
    const p = r.ipParsed('routerId');
    if (p && p.family !== 4) r.fail('routerId', 'must be an IPv4 address (the 32-bit BGP identifier, RFC 4271 §4.2)');
    routerId = p?.text;
  } else if (uplink && uplink.family !== 4) {
    r.fail('routerId', 'is required when uplinkIp is IPv6 (the BGP identifier is 32 bits, RFC 4271 §4.2)');
  }
  const neighbors = r.array('bgpNeighbors', (v, path) => readNeighbor(v, path, r.errors), { dflt: [], max: 64 });
  dupes(rawList(input['bgpNeighbors']).map((n) => canonicalOf(isPlainObject(n) ? n['address'] : undefined)), 'bgpNeighbors', r.errors, 'address');
  if (r.errors.length) return { ok: false, errors: r.errors };
  return {
    ok: true,
    value: clean({ name, uplinkIp: uplink!.text, uplinkIpv6, snatAddresses, localAsn: input['localAsn'] as number, routerId, bgpNeighbors: neighbors }),
  };
}

function parseNetwork(input: Record<string, unknown>): ParseResult<ExternalNetwork> {
  const r = new Reader(input, '', ['id', 'name', 'cidr', 'gatewayIp', 'pools', 'mode', 'addressScope']);
  const id = r.id('id');
  const name = r.optStr('name');
  const cidrText = r.cidr('cidr');
  const cidrP = parseCidr(cidrText);
  const cidr = cidrP.ok ? cidrP.value : undefined;
  let gatewayIp: string | undefined;
  if (r.has('gatewayIp')) {
    const g = r.ipParsed('gatewayIp');
    if (g && cidr && !cidrContains(cidr, g)) r.fail('gatewayIp', `${g.text} is outside ${cidr.text}`);
    gatewayIp = g?.text;
  }
  const ranges: Array<{ start: bigint; end: bigint; path: string }> = [];
  const pools = r.array('pools', (v, path) => {
    if (!isPlainObject(v)) {
      r.errors.push({ field: path, message: 'must be an object {start, end}' });
      return undefined;
    }
    const pr = new Reader(v, path, ['start', 'end']);
    const s = pr.ipParsed('start');
    const e = pr.ipParsed('end');
    if (s && cidr && !cidrContains(cidr, s)) pr.fail('start', `${s.text} is outside ${cidr.text}`);
    if (e && cidr && !cidrContains(cidr, e)) pr.fail('end', `${e.text} is outside ${cidr.text}`);
    if (s && e && s.family === e.family && e.value < s.value) pr.fail('end', `${e.text} is before start ${s.text}`);
    if (cidr && s && e && !pr.errors.length) {
      if (cidr.family === 4 && cidr.prefixLength < 31) {
        if (s.value === cidr.network) pr.fail('start', `${s.text} is the network address of ${cidr.text}`);
        if (e.value === cidrLast(cidr)) pr.fail('end', `${e.text} is the broadcast address of ${cidr.text}`);
      }
      if (gatewayIp) {
        const g = parseIp(gatewayIp);
        if (g.ok && g.value.value >= s.value && g.value.value <= e.value) pr.errors.push({ field: path, message: `the pool ${s.text}-${e.text} contains the gateway ${gatewayIp}` });
      }
      if (!pr.errors.length) ranges.push({ start: s.value, end: e.value, path });
    }
    r.merge(pr);
    return s && e ? { start: s.text, end: e.text } : undefined;
  }, { max: 256, min: 1 });
  ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]!.start <= ranges[i - 1]!.end) r.errors.push({ field: ranges[i]!.path, message: `overlaps ${ranges[i - 1]!.path}` });
  }
  const mode = r.oneOf('mode', ['l2', 'l3'] as const, 'l3');
  const addressScope = r.has('addressScope') ? r.id('addressScope') : undefined;
  if (r.errors.length) return { ok: false, errors: r.errors };
  return { ok: true, value: clean({ id, name, cidr: cidrText, gatewayIp, pools, mode, addressScope }) };
}

function readVrf(r: Reader): Vrf | undefined {
  const v = r.sub('vrf', ['rd', 'importRts', 'exportRts', 'label', 'vni', 'routerMac'], true);
  if (!v) return undefined;
  const rd = parseRouteDistinguisher(v.raw('rd'));
  if (!rd.ok) v.fail('rd', v.has('rd') ? rd.message : 'is required');
  const rts = (name: string): string[] =>
    v.array(name, (x, path) => {
      const p = parseRouteDistinguisher(x);
      if (!p.ok) v.errors.push({ field: path, message: p.message.replace('RFC 4364 §4.2', 'RFC 4360 §4') });
      return p.ok ? p.text : undefined;
    }, { max: 64 });
  const importRts = rts('importRts');
  const exportRts = rts('exportRts');
  let vrf: Vrf | undefined;
  if (v.has('vni') || v.has('routerMac')) {
    if (v.has('label')) v.fail('label', 'an EVPN VRF (vni, routerMac) has no MPLS label; give either label or vni + routerMac');
    const vni = v.int('vni', 1, 16777215);
    const mac = v.raw('routerMac');
    if (typeof mac !== 'string' || !MAC_RE.test(mac.toLowerCase())) v.fail('routerMac', v.has('routerMac') ? 'must be a MAC address like 02:00:00:00:00:01' : 'is required with vni');
    else if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) v.fail('routerMac', `${mac} is a multicast MAC address`);
    vrf = { rd: rd.ok ? rd.text : '', importRts, exportRts, vni, routerMac: typeof mac === 'string' ? mac.toLowerCase() : '' };
  } else {
    const label = v.has('label') ? v.int('label', 16, 1048575) : undefined;
    vrf = clean({ rd: rd.ok ? rd.text : '', importRts, exportRts, label });
  }
  r.merge(v);
  return vrf;
}

function parseTenant(input: Record<string, unknown>): ParseResult<Tenant> {
  const r = new Reader(input, '', ['id', 'name', 'subnets', 'addressScope', 'vrf']);
  const id = r.id('id');
  const name = r.optStr('name');
  const parsed: Array<{ c: ParsedCidr; path: string }> = [];
  const subnets = r.array('subnets', (v, path) => {
    const p = parseCidr(v);
    if (!p.ok) {
      r.errors.push({ field: path, message: p.message });
      return undefined;
    }
    for (const q of parsed) if (cidrOverlaps(q.c, p.value)) r.errors.push({ field: path, message: `${p.value.text} overlaps ${q.c.text} (${q.path})` });
    parsed.push({ c: p.value, path });
    return p.value.text;
  }, { min: 1, max: 256 });
  const addressScope = r.has('addressScope') ? r.id('addressScope') : undefined;
  const vrf = readVrf(r);
  if (r.errors.length) return { ok: false, errors: r.errors };
  return { ok: true, value: clean({ id, name, subnets, addressScope, vrf }) };
}

function parsePort(input: Record<string, unknown>): ParseResult<Port> {
  const r = new Reader(input, '', ['id', 'tenant', 'fixedIp', 'chassis', 'interfaceName', 'mac']);
  const id = r.id('id');
  const tenant = r.id('tenant');
  const fixedIp = r.ip('fixedIp');
  const chassis = r.nullableId('chassis');
  const interfaceName = r.optStr('interfaceName');
  if (interfaceName !== undefined && !IFNAME_RE.test(interfaceName)) r.fail('interfaceName', 'must be a Linux interface name (1-15 characters, no spaces or /)');
  let mac: string | undefined;
  if (r.has('mac')) {
    const m = r.raw('mac');
    if (typeof m !== 'string' || !MAC_RE.test(m.toLowerCase())) r.fail('mac', 'must be a MAC address like 02:00:00:00:00:01');
    else mac = m.toLowerCase();
  }
  if (r.errors.length) return { ok: false, errors: r.errors };
  return { ok: true, value: clean({ id, tenant, fixedIp, chassis, interfaceName, mac }) };
}

function parseFloatingIp(input: Record<string, unknown>): ParseResult<FloatingIp> {
  const r = new Reader(input, '', ['id', 'address', 'network', 'tenant', 'portId', 'standbyPortId', 'activeChassis', 'description']);
  const id = r.id('id');
  const address = r.ip('address');
  const network = r.id('network');
  const tenant = r.id('tenant');
  const portId = r.nullableId('portId');
  const standbyPortId = r.has('standbyPortId') ? r.nullableId('standbyPortId') : undefined;
  if (standbyPortId && portId === standbyPortId) r.fail('standbyPortId', 'must differ from portId');
  if (standbyPortId && !portId) r.fail('standbyPortId', 'needs a portId: a standby backs up an associated floating IP');
  const activeChassis = r.has('activeChassis') ? r.nullableId('activeChassis') : undefined;
  const description = r.optStr('description');
  if (r.errors.length) return { ok: false, errors: r.errors };
  return { ok: true, value: clean({ id, address, network, tenant, portId, standbyPortId, activeChassis, description }) };
}

function parseSpeaker(input: Record<string, unknown>): ParseResult<SpeakerSettings> {
  const r = new Reader(input, '', ['id', 'advertiseFipHostRoutes', 'advertiseSnatAddresses', 'advertiseTenantPrefixes', 'mode', 'standbyAsPathPrepend', 'communities']);
  const id = r.id('id');
  const advertiseFipHostRoutes = r.bool('advertiseFipHostRoutes', true);
  const advertiseSnatAddresses = r.bool('advertiseSnatAddresses', true);
  const advertiseTenantPrefixes = r.bool('advertiseTenantPrefixes', false);
  const mode = r.oneOf('mode', ['per-chassis', 'central'] as const, 'per-chassis');
  const standbyAsPathPrepend = r.int('standbyAsPathPrepend', 0, 10, 3);
  const classes = ['fip', 'snat', 'tenant', 'standby'] as const;
  const communities: SpeakerCommunities = {};
  const c = r.sub('communities', classes, true);
  if (c) {
    for (const cls of classes) {
      if (!c.has(cls)) continue;
      communities[cls] = c.array(cls, (v, path) => {
        const p = communityProblem(v);
        if (p) c.errors.push({ field: path, message: p });
        return p ? undefined : (v as string);
      }, { max: 32 });
    }
    r.merge(c);
  }
  if (r.errors.length) return { ok: false, errors: r.errors };
  return { ok: true, value: { id, advertiseFipHostRoutes, advertiseSnatAddresses, advertiseTenantPrefixes, mode, standbyAsPathPrepend, communities } };
}

function parseAgent(input: Record<string, unknown>): ParseResult<AgentRecord> {
  const r = new Reader(input, '', ['chassis', 'startedAt', 'pid', 'version']);
  const chassis = r.id('chassis');
  const startedAt = r.str('startedAt', 64);
  if (typeof startedAt === 'string' && Number.isNaN(Date.parse(startedAt))) r.fail('startedAt', 'must be an ISO 8601 time');
  const pid = r.has('pid') ? r.int('pid', 1, 2 ** 31 - 1) : undefined;
  const version = r.optStr('version', 64);
  if (r.errors.length) return { ok: false, errors: r.errors };
  return { ok: true, value: clean({ chassis, startedAt, pid, version }) };
}

const PARSERS: { [K in Kind]: (input: Record<string, unknown>) => ParseResult<KindMap[K]> } = {
  chassis: parseChassis,
  network: parseNetwork,
  tenant: parseTenant,
  port: parsePort,
  floatingip: parseFloatingIp,
  speaker: parseSpeaker,
  agent: parseAgent,
};

/** Parses and normalizes an object of `kind` from untrusted JSON; every problem names its field. */
export function parseObject<K extends Kind>(kind: K, input: unknown): ParseResult<KindMap[K]> {
  if (!isPlainObject(input)) return { ok: false, errors: [{ field: '', message: `a ${kind} must be a JSON object` }] };
  return PARSERS[kind](input);
}

function rawList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function canonicalOf(v: unknown): string | undefined {
  const p = parseIp(v);
  return p.ok ? p.value.text : undefined;
}

/** Reports repeated values by their position in the input (undefined entries were invalid and are skipped). */
function dupes(values: Array<string | undefined>, field: string, errors: FieldError[], sub?: string): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    if (v === undefined) return;
    const j = seen.get(v);
    if (j !== undefined) errors.push({ field: `${field}[${i}]${sub ? `.${sub}` : ''}`, message: `${v} repeats ${field}[${j}]` });
    else seen.set(v, i);
  });
}

// ---------------------------------------------------------------------------
// References between objects.

/** Looks an object up (the store resolves it, including the effects of the same transaction). */
export type Lookup = <K extends Kind>(kind: K, id: string) => KindMap[K] | undefined;

/** Fields agents write to report state (not intent): a change of these alone is a status write. */
const STATUS_FIELDS: Partial<Record<Kind, readonly string[]>> = { floatingip: ['activeChassis'] };

/** True when two (normalized) objects of a kind differ at most in their status fields. */
export function sameIntent(kind: Kind, a: IntentObject, b: IntentObject): boolean {
  const status = STATUS_FIELDS[kind] ?? [];
  // top-level keys sorted, undefined and status fields dropped: equal intent gives equal text
  const strip = (o: IntentObject): string => JSON.stringify(Object.entries(o).filter(([k, v]) => v !== undefined && !status.includes(k)).sort(([x], [y]) => (x < y ? -1 : 1)));
  return strip(a) === strip(b);
}

/** The (kind, id) pairs an object's validity depends on; the store reads them and guards them in the transaction. */
export function referencesOf<K extends Kind>(kind: K, obj: KindMap[K]): Array<{ kind: Kind; id: string }> {
  switch (kind) {
    case 'port':
      return [{ kind: 'tenant', id: (obj as Port).tenant }];
    case 'floatingip': {
      const f = obj as FloatingIp;
      const refs: Array<{ kind: Kind; id: string }> = [{ kind: 'network', id: f.network }, { kind: 'tenant', id: f.tenant }];
      if (f.portId) refs.push({ kind: 'port', id: f.portId });
      if (f.standbyPortId) refs.push({ kind: 'port', id: f.standbyPortId });
      return refs;
    }
    default:
      return [];
  }
}

/**
 * Checks an object against the objects it names. Deleting an object that others
 * still name is not checked here (the API layer decides whether to refuse it).
 */
export function checkReferences<K extends Kind>(kind: K, obj: KindMap[K], lookup: Lookup): FieldError[] {
  const errors: FieldError[] = [];
  if (kind === 'port') {
    const p = obj as Port;
    const t = lookup('tenant', p.tenant);
    if (!t) errors.push({ field: 'tenant', message: `tenant ${p.tenant} does not exist` });
    else {
      const ip = parseIp(p.fixedIp);
      if (ip.ok && !t.subnets.some((s) => { const c = parseCidr(s); return c.ok && cidrContains(c.value, ip.value); })) {
        errors.push({ field: 'fixedIp', message: `${p.fixedIp} is outside subnet${t.subnets.length > 1 ? 's' : ''} ${t.subnets.join(', ')} of tenant ${t.id}` });
      }
    }
  } else if (kind === 'floatingip') {
    const f = obj as FloatingIp;
    const ip = parseIp(f.address);
    const n = lookup('network', f.network);
    if (!n) errors.push({ field: 'network', message: `network ${f.network} does not exist` });
    else if (ip.ok) {
      const c = parseCidr(n.cidr);
      if (c.ok && !cidrContains(c.value, ip.value)) errors.push({ field: 'address', message: `${f.address} is outside ${n.cidr} of network ${n.id}` });
      else if (c.ok && c.value.family === 4 && c.value.prefixLength < 31 && (ip.value.value === c.value.network || ip.value.value === cidrLast(c.value))) {
        errors.push({ field: 'address', message: `${f.address} is the network or broadcast address of ${n.cidr}` });
      } else if (n.gatewayIp === f.address) errors.push({ field: 'address', message: `${f.address} is the gateway of network ${n.id}` });
    }
    if (!lookup('tenant', f.tenant)) errors.push({ field: 'tenant', message: `tenant ${f.tenant} does not exist` });
    const port = f.portId ? lookup('port', f.portId) : undefined;
    const checkPort = (field: 'portId' | 'standbyPortId', id: string): Port | undefined => {
      const p = lookup('port', id);
      if (!p) {
        errors.push({ field, message: `port ${id} does not exist` });
        return undefined;
      }
      if (p.tenant !== f.tenant) errors.push({ field, message: `port ${id} belongs to tenant ${p.tenant}, not ${f.tenant}` });
      const fixed = parseIp(p.fixedIp);
      if (ip.ok && fixed.ok && fixed.value.family !== ip.value.family) {
        errors.push({ field, message: `port ${id} has IPv${fixed.value.family} address ${p.fixedIp} but ${f.address} is IPv${ip.value.family}` });
      }
      return p;
    };
    if (f.portId) checkPort('portId', f.portId);
    if (f.standbyPortId) {
      const s = checkPort('standbyPortId', f.standbyPortId);
      if (s && port && s.chassis !== null && s.chassis === port.chassis) {
        errors.push({ field: 'standbyPortId', message: `port ${s.id} is on chassis ${s.chassis}, the same as port ${port.id}; a standby must be on another chassis` });
      }
    }
  }
  return errors;
}

/** A value that must be unique across the store, kept as an index key beside the object. */
export interface UniqueKey {
  /** Index name and value, e.g. `fipaddr/ext1/198.51.100.7`. */
  key: string;
  field: string;
  describe: string;
}

export function uniqueKeys<K extends Kind>(kind: K, obj: KindMap[K]): UniqueKey[] {
  switch (kind) {
    case 'floatingip': {
      const f = obj as FloatingIp;
      const out: UniqueKey[] = [{ key: `fipaddr/${f.network}/${f.address}`, field: 'address', describe: `address ${f.address} on network ${f.network}` }];
      if (f.portId) out.push({ key: `fipport/${f.portId}`, field: 'portId', describe: `a floating IP for port ${f.portId}` });
      return out;
    }
    case 'port': {
      const p = obj as Port;
      return [{ key: `portip/${p.tenant}/${p.fixedIp}`, field: 'fixedIp', describe: `fixed IP ${p.fixedIp} in tenant ${p.tenant}` }];
    }
    case 'chassis':
      return (obj as Chassis).snatAddresses.map((a, i) => ({ key: `snat/${a}`, field: `snatAddresses[${i}]`, describe: `SNAT address ${a}` }));
    default:
      return [];
  }
}

export const DEFAULT_SPEAKER: SpeakerSettings = {
  id: 'default',
  advertiseFipHostRoutes: true,
  advertiseSnatAddresses: true,
  advertiseTenantPrefixes: false,
  mode: 'per-chassis',
  standbyAsPathPrepend: 3,
  communities: {},
};
