// Validation of a desired NAT state before anything touches the kernel: every check
// names the offending field and value (NatError). Output is the normalized form that
// state.ts renders: canonical address text, tenants resolved, zone → table and mark.

import { NatError } from './errors.js';
import { notUnicastReason, parseIp, parsePrefix, prefixContains, type Ip, type Prefix } from './ip.js';
import type { NatConfig, NatDesired, NatFip, NatPort, NatTenant } from './model.js';

export interface VTenant {
  id: string;
  zone: number;
  mark: number;
  table: number;
  subnets: Prefix[];
  ifaces: string[];
  snat: { address: Ip; portRange: { min: number; max: number } | undefined } | undefined;
}
export interface VPort { tenant: VTenant; fixedIp: Ip; iface: string }
export interface VFip { fip: Ip; tenant: VTenant; fixedIp: Ip }
export interface Validated {
  tenants: VTenant[];
  ports: VPort[];
  fips: VFip[];
}

const IFACE = /^[A-Za-z0-9_.@-]{1,15}$/;
const TENANT_ID = /^[A-Za-z0-9_.:@/-]{1,64}$/;
const TABLE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export function validateConfig(c: NatConfig): void {
  if (typeof c.table !== 'string' || !TABLE.test(c.table)) throw new NatError('NAT_INVALID_CONFIG', 'table', c.table);
  if (typeof c.externalInterface !== 'string' || !IFACE.test(c.externalInterface)) throw new NatError('NAT_INVALID_IFACE', 'externalInterface', c.externalInterface);
  if (c.mode !== 'l3' && c.mode !== 'l2') throw new NatError('NAT_INVALID_CONFIG', 'mode', c.mode);
  if (!Number.isInteger(c.tableBase) || c.tableBase < 256 || c.tableBase + 65535 > 0xfffffff0) throw new NatError('NAT_INVALID_CONFIG', 'tableBase', c.tableBase);
  if (!Number.isInteger(c.markBase) || c.markBase < 0 || c.markBase > 0xffffffff || (c.markBase & 0xffff) !== 0) throw new NatError('NAT_INVALID_CONFIG', 'markBase', c.markBase);
  if (!Number.isInteger(c.rtProto) || c.rtProto < 5 || c.rtProto > 255) throw new NatError('NAT_INVALID_CONFIG', 'rtProto', c.rtProto);
  if (!Number.isInteger(c.rulePriority) || c.rulePriority < 1 || c.rulePriority > 32765) throw new NatError('NAT_INVALID_CONFIG', 'rulePriority', c.rulePriority);
}

export function validateTenant(t: NatTenant, at: string, config: NatConfig): VTenant {
  if (typeof t?.id !== 'string' || !TENANT_ID.test(t.id)) throw new NatError('NAT_INVALID_TENANT_ID', `${at}.id`, t?.id);
  if (!Number.isInteger(t.zone) || t.zone < 1 || t.zone > 65535) throw new NatError('NAT_INVALID_ZONE', `${at}.zone`, t.zone);
  if (!Array.isArray(t.subnets)) throw new NatError('NAT_INVALID_SUBNET', `${at}.subnets`, t.subnets);
  const subnets = t.subnets.map((s, i) => {
    const p = parsePrefix(s);
    if (!p) throw new NatError('NAT_INVALID_SUBNET', `${at}.subnets[${i}]`, s);
    return p;
  });
  if (!Array.isArray(t.ifaces)) throw new NatError('NAT_INVALID_IFACE', `${at}.ifaces`, t.ifaces);
  t.ifaces.forEach((f, i) => {
    if (typeof f !== 'string' || !IFACE.test(f)) throw new NatError('NAT_INVALID_IFACE', `${at}.ifaces[${i}]`, f);
    if (f === config.externalInterface) throw new NatError('NAT_IFACE_CONFLICT', `${at}.ifaces[${i}]`, f, 'it is the external interface');
  });
  let snat: VTenant['snat'];
  if (t.snat !== undefined) {
    const a = parseIp(t.snat.address);
    if (!a || a.family !== 4 || notUnicastReason(a)) throw new NatError('NAT_INVALID_ADDRESS', `${at}.snat.address`, t.snat.address, a ? notUnicastReason(a) ?? 'SNAT is IPv4 only (IPv6 is routed)' : undefined);
    const r = t.snat.portRange;
    if (r !== undefined && !(Number.isInteger(r.min) && Number.isInteger(r.max) && r.min >= 1 && r.min <= r.max && r.max <= 65535)) {
      throw new NatError('NAT_INVALID_PORT_RANGE', `${at}.snat.portRange`, r);
    }
    snat = { address: a, portRange: r === undefined ? undefined : { min: r.min, max: r.max } };
  }
  return { id: t.id, zone: t.zone, mark: (config.markBase | t.zone) >>> 0, table: config.tableBase + t.zone, subnets, ifaces: [...t.ifaces], snat };
}

export function validatePort(p: NatPort, at: string, tenants: Map<string, VTenant>): VPort {
  const tenant = tenants.get(p?.tenant);
  if (!tenant) throw new NatError('NAT_UNKNOWN_TENANT', `${at}.tenant`, p?.tenant);
  const ip = parseIp(p.fixedIp);
  if (!ip || notUnicastReason(ip)) throw new NatError('NAT_INVALID_ADDRESS', `${at}.fixedIp`, p.fixedIp);
  if (!tenant.subnets.some((s) => prefixContains(s, ip))) throw new NatError('NAT_FIXED_IP_OUTSIDE_SUBNET', `${at}.fixedIp`, p.fixedIp, `tenant ${tenant.id} has ${tenant.subnets.map((s) => s.text).join(', ') || 'no subnets'}`);
  if (!tenant.ifaces.includes(p.iface)) throw new NatError('NAT_IFACE_NOT_IN_TENANT', `${at}.iface`, p.iface);
  return { tenant, fixedIp: ip, iface: p.iface };
}

export function validateFip(f: NatFip, at: string, tenants: Map<string, VTenant>): VFip {
  const fip = parseIp(f?.fip);
  const why = fip ? notUnicastReason(fip) : 'not an IPv4/IPv6 address';
  if (!fip || why) throw new NatError('NAT_INVALID_FIP', `${at}.fip`, f?.fip, why);
  const tenant = tenants.get(f.tenant);
  if (!tenant) throw new NatError('NAT_UNKNOWN_TENANT', `${at}.tenant`, f.tenant);
  const fixed = parseIp(f.fixedIp);
  if (!fixed || notUnicastReason(fixed)) throw new NatError('NAT_INVALID_ADDRESS', `${at}.fixedIp`, f.fixedIp);
  if (fixed.family !== fip.family) throw new NatError('NAT_FAMILY_MISMATCH', `${at}.fixedIp`, f.fixedIp, `fip ${fip.text} is IPv${fip.family}`);
  if (!tenant.subnets.some((s) => prefixContains(s, fixed))) throw new NatError('NAT_FIXED_IP_OUTSIDE_SUBNET', `${at}.fixedIp`, f.fixedIp, `tenant ${tenant.id} has ${tenant.subnets.map((s) => s.text).join(', ') || 'no subnets'}`);
  return { fip, tenant, fixedIp: fixed };
}

/** Cross-object checks on the whole set: unique ids, zones, interfaces, FIPs, port slices. */
export function validateDesired(d: NatDesired, config: NatConfig): Validated {
  if (!d || !Array.isArray(d.tenants) || !Array.isArray(d.ports) || !Array.isArray(d.fips)) throw new NatError('NAT_INVALID_CONFIG', 'desired', d, 'needs tenants[], ports[], fips[]');
  const byId = new Map<string, VTenant>();
  const zones = new Map<number, string>();
  const ifaces = new Map<string, string>();
  const tenants = d.tenants.map((t, i) => {
    const v = validateTenant(t, `tenants[${i}]`, config);
    if (byId.has(v.id)) throw new NatError('NAT_TENANT_CONFLICT', `tenants[${i}].id`, v.id);
    if (zones.has(v.zone)) throw new NatError('NAT_ZONE_CONFLICT', `tenants[${i}].zone`, v.zone, `used by tenant ${zones.get(v.zone)}`);
    v.ifaces.forEach((f, j) => {
      if (ifaces.has(f)) throw new NatError('NAT_IFACE_CONFLICT', `tenants[${i}].ifaces[${j}]`, f, `belongs to tenant ${ifaces.get(f)}`);
      ifaces.set(f, v.id);
    });
    byId.set(v.id, v);
    zones.set(v.zone, v.id);
    return v;
  });
  checkPortSlices(tenants);
  const portKeys = new Set<string>();
  const ports = d.ports.map((p, i) => {
    const v = validatePort(p, `ports[${i}]`, byId);
    const k = `${v.tenant.zone} ${v.fixedIp.text}`;
    if (portKeys.has(k)) throw new NatError('NAT_FIXED_IP_CONFLICT', `ports[${i}].fixedIp`, p.fixedIp, `declared twice for tenant ${v.tenant.id}`);
    portKeys.add(k);
    return v;
  });
  const snatAddrs = new Set(tenants.flatMap((t) => (t.snat ? [t.snat.address.text] : [])));
  const fipSeen = new Map<string, string>();
  const fixedSeen = new Map<string, string>();
  const fips = d.fips.map((f, i) => {
    const v = validateFip(f, `fips[${i}]`, byId);
    const prev = fipSeen.get(v.fip.text);
    if (prev !== undefined) throw new NatError('NAT_FIP_CONFLICT', `fips[${i}].fip`, f.fip, `already mapped to ${prev}`);
    if (snatAddrs.has(v.fip.text)) throw new NatError('NAT_FIP_CONFLICT', `fips[${i}].fip`, f.fip, 'it is a SNAT address on this compute');
    const k = `${v.tenant.zone} ${v.fixedIp.text}`;
    const prevFixed = fixedSeen.get(k);
    if (prevFixed !== undefined) throw new NatError('NAT_FIXED_IP_CONFLICT', `fips[${i}].fixedIp`, f.fixedIp, `tenant ${v.tenant.id} already maps it to ${prevFixed}`);
    fipSeen.set(v.fip.text, `${v.fixedIp.text} of tenant ${v.tenant.id}`);
    fixedSeen.set(k, v.fip.text);
    return v;
  });
  return { tenants, ports, fips };
}

/** Tenants sharing one SNAT address must not share source ports when they slice it. */
function checkPortSlices(tenants: VTenant[]): void {
  const byAddr = new Map<string, Array<{ t: VTenant; min: number; max: number }>>();
  for (const t of tenants) {
    if (!t.snat?.portRange) continue;
    const list = byAddr.get(t.snat.address.text) ?? [];
    for (const o of list) {
      if (t.snat.portRange.min <= o.max && o.min <= t.snat.portRange.max) {
        throw new NatError('NAT_PORT_RANGE_OVERLAP', `tenants[${tenants.indexOf(t)}].snat.portRange`, t.snat.portRange, `overlaps tenant ${o.t.id} on ${t.snat.address.text}`);
      }
    }
    list.push({ t, min: t.snat.portRange.min, max: t.snat.portRange.max });
    byAddr.set(t.snat.address.text, list);
  }
}
