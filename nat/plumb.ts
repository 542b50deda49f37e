// The routing side of NAT, through iproute2 (`ip -json` to read, `ip -batch` to write):
// per-tenant policy routing (`ip rule fwmark → table`, RFC-less Linux policy routing),
// routes to the local fixed IPs in the tenant's table, and in L2 mode a proxy ARP/NDP
// entry (RFC 1027 proxy ARP, RFC 4861 §7.2.8 proxy NA) plus a `dev lo` host route for
// each FIP and SNAT address. Routes and rules carry our protocol number (`proto 188`
// by default), so we find and remove only our own. Pure: the manager runs the commands.
// Lines for IPv6 policy rules start with `-6 ` and go to `ip -6 -batch -`: a rule with
// only a fwmark has no address to tell its family by.

import { parseIp } from './ip.js';
import type { NatConfig } from './model.js';
import type { Validated } from './validate.js';

export interface PlumbState {
  /** `${family} ${fwmark}` → routing table number. */
  rules: Map<string, number>;
  /** `${table} ${dst/len}` → device (table 254 is main). */
  routes: Map<string, string>;
  /** Addresses answered for on the external interface (L2 mode). */
  proxies: Set<string>;
}

export const MAIN = 254;

export function emptyPlumb(): PlumbState {
  return { rules: new Map(), routes: new Map(), proxies: new Set() };
}

function host(ipText: string): string {
  return `${ipText}/${ipText.includes(':') ? 128 : 32}`;
}

export function buildPlumb(v: Validated, c: NatConfig): PlumbState {
  const p = emptyPlumb();
  for (const t of v.tenants) {
    p.rules.set(`4 ${t.mark}`, t.table);
    p.rules.set(`6 ${t.mark}`, t.table);
  }
  for (const port of v.ports) p.routes.set(`${port.tenant.table} ${host(port.fixedIp.text)}`, port.iface);
  if (c.mode === 'l2') {
    const answered = [...v.fips.map((f) => f.fip.text), ...v.tenants.flatMap((t) => (t.snat ? [t.snat.address.text] : []))];
    for (const a of answered) {
      p.proxies.add(a);
      p.routes.set(`${MAIN} ${host(a)}`, 'lo');
    }
  }
  return p;
}

export interface PlumbDiff {
  /** Lines for `ip -batch -` to run before the nft transaction (make); `-6 ` prefix: IPv6 rule. */
  make: string[];
  /** Lines to run after it (break). */
  brk: string[];
}

function ruleLine(verb: 'add' | 'del', key: string, table: number, c: NatConfig): string {
  const [fam, mark] = key.split(' ');
  return `${fam === '6' ? '-6 ' : ''}rule ${verb} fwmark 0x${Number(mark).toString(16)} lookup ${table} pref ${c.rulePriority} proto ${c.rtProto}`;
}

function routeSpec(key: string): { table: string; dst: string } {
  const [table, dst] = key.split(' ') as [string, string];
  return { table, dst };
}

export function diffPlumb(want: PlumbState, cur: PlumbState, c: NatConfig): PlumbDiff {
  const make: string[] = [];
  const brk: string[] = [];
  for (const [k, t] of want.rules) if (cur.rules.get(k) !== t) make.push(ruleLine('add', k, t, c));
  for (const [k, t] of cur.rules) if (want.rules.get(k) !== t) brk.push(ruleLine('del', k, t, c));
  for (const [k, dev] of want.routes) {
    if (cur.routes.get(k) === dev) continue;
    const { table, dst } = routeSpec(k);
    make.push(`route replace ${dst} dev ${dev} table ${table} proto ${c.rtProto}`);
  }
  for (const a of want.proxies) if (!cur.proxies.has(a)) make.push(`neigh replace proxy ${a} dev ${c.externalInterface}`);
  for (const a of cur.proxies) if (!want.proxies.has(a)) brk.push(`neigh del proxy ${a} dev ${c.externalInterface}`);
  for (const k of cur.routes.keys()) {
    if (want.routes.has(k)) continue;
    const { table, dst } = routeSpec(k);
    brk.push(`route del ${dst} table ${table} proto ${c.rtProto}`);
  }
  return { make, brk };
}

// ---- reading back (`ip -json`) ----

function tableNumber(t: unknown): number {
  if (t === undefined || t === 'main') return MAIN;
  if (t === 'local') return 255;
  if (t === 'default') return 253;
  return Number(t);
}

/** `ip -N -j -4|-6 route show table all proto <ours>` (the filter drops the protocol field) → our routes. */
export function parseRoutes(json: string, into: Map<string, string>): void {
  for (const r of JSON.parse(json || '[]') as Array<Record<string, unknown>>) {
    if (typeof r.dst !== 'string' || (r.type !== undefined && r.type !== 'unicast')) continue;
    const ip = parseIp(r.dst.split('/')[0]);
    if (!ip) continue;
    const len = r.dst.includes('/') ? r.dst.split('/')[1] : ip.family === 4 ? '32' : '128';
    into.set(`${tableNumber(r.table)} ${ip.text}/${len}`, String(r.dev));
  }
}

/** `ip -N -j -4|-6 rule show` → our fwmark rules (protocol printed as a number thanks to -N). */
export function parseRules(json: string, family: 4 | 6, into: Map<string, number>, c: NatConfig): void {
  for (const r of JSON.parse(json || '[]') as Array<Record<string, unknown>>) {
    if (String(r.protocol) !== String(c.rtProto) || r.fwmark === undefined || r.priority !== c.rulePriority) continue;
    into.set(`${family} ${Number(r.fwmark)}`, tableNumber(r.table));
  }
}

/** `ip -j neigh show proxy dev <ext>`: only entries backed by our `dev lo` route are ours. */
export function parseProxies(json: string, routes: Map<string, string>, into: Set<string>): void {
  for (const n of JSON.parse(json || '[]') as Array<Record<string, unknown>>) {
    const ip = parseIp(n.dst);
    if (!ip) continue;
    if (routes.get(`${MAIN} ${host(ip.text)}`) === 'lo') into.add(ip.text);
  }
}

/** Kernel settings NAT forwarding needs (applied on adopt). */
export function sysctls(c: NatConfig): Array<[string, string]> {
  const ext = c.externalInterface.replace(/\./g, '/');
  const s: Array<[string, string]> = [
    ['net.ipv4.ip_forward', '1'],
    ['net.ipv6.conf.all.forwarding', '1'],
    // rp_filter must look up the source with the packet's fwmark (tenant table).
    ['net.ipv4.conf.all.src_valid_mark', '1'],
  ];
  if (c.mode === 'l2') {
    s.push(
      [`net.ipv4.neigh.${ext}.proxy_delay`, '0'],
      [`net.ipv6.neigh.${ext}.proxy_delay`, '0'],
      [`net.ipv6.conf.${ext}.proxy_ndp`, '1'],
      // arping -U sends from the FIP, which is not a local address.
      ['net.ipv4.ip_nonlocal_bind', '1'],
    );
  }
  return s;
}
