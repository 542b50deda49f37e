// Intent → the NAT desired state of one chassis, exactly what NatManager.reconcile()
// takes (nat/model.ts): the tenants with ports here (conntrack zone, subnets, the
// ports' interfaces, SNAT through a chassis SNAT address), the ports, and the 1:1
// floating IPs this chassis carries — active ones, hot-standby ones pre-programmed on
// the standby port, and ones still draining after a move (kept from the previous
// desired state until the new chassis confirms; see placement.ts).
//
// Conntrack zones are not in the intent model: zoneFor() derives them from the tenant
// id (FNV-1a, linear probing) and keeps the zones of `previousZones`, so a tenant's
// zone never changes while it stays on the chassis (a new zone would orphan its flows).
// Conflicts the NAT validator would reject are resolved here, deterministically, and
// reported: active beats draining beats standby; a FIP equal to a SNAT address loses.
import type { NatDesired, NatFip, NatPort, NatTenant } from '../nat/model.js';
import type { Port, Tenant } from '../store/model.js';
import { cidrContains, parseCidr, parseIp, type ParsedCidr } from '../store/address.js';
import { IntentIndex, cmpStr, type Intent } from './intent.js';
import { fipsOfChassis } from './placement.js';
import type { Skipped } from './routes.js';

export interface NatPlanOptions {
  /** Zones in use on this chassis (tenant id → zone), e.g. from the last plan. */
  previousZones?: ReadonlyMap<string, number>;
  /** The desired state applied last: draining FIPs keep their entry from it. */
  previous?: NatDesired;
}

export interface NatPlan {
  desired: NatDesired;
  /** Tenant id → conntrack zone, to pass as previousZones next time. */
  zones: Map<string, number>;
  skipped: Skipped[];
}

const ZONES = 65535;

/** FNV-1a 32-bit hash of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Zones 1..65535 for `tenantIds`: previous ones kept, new ones hashed and probed. */
export function assignZones(tenantIds: readonly string[], previous: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  const ids = [...new Set(tenantIds)].sort(cmpStr);
  for (const id of ids) {
    const z = previous.get(id);
    if (z !== undefined && Number.isInteger(z) && z >= 1 && z <= ZONES && !used.has(z)) {
      out.set(id, z);
      used.add(z);
    }
  }
  if (used.size + ids.filter((id) => !out.has(id)).length > ZONES) throw new RangeError(`more than ${ZONES} tenants on one chassis`);
  for (const id of ids) {
    if (out.has(id)) continue;
    let z = (fnv1a(id) % ZONES) + 1;
    while (used.has(z)) z = (z % ZONES) + 1;
    out.set(id, z);
    used.add(z);
  }
  return out;
}

/** Whether `ip` is in a subnet of `t`; subnets are parsed once per tenant (`cache`). */
function inSubnets(t: Tenant, ip: string, cache: Map<Tenant, ParsedCidr[]>): boolean {
  let subnets = cache.get(t);
  if (!subnets) {
    subnets = t.subnets.flatMap((s) => {
      const c = parseCidr(s);
      return c.ok ? [c.value] : [];
    });
    cache.set(t, subnets);
  }
  const a = parseIp(ip);
  return a.ok && subnets.some((c) => cidrContains(c, a.value));
}

/** The NAT desired state of `chassis`. */
export function planNat(intent: Intent | IntentIndex, chassis: string, opts: NatPlanOptions = {}): NatPlan {
  const ix = intent instanceof IntentIndex ? intent : new IntentIndex(intent);
  const skipped: Skipped[] = [];
  const host = ix.chassis.get(chassis);

  // Local ports and their tenants.
  const local = [...ix.ports.values()].filter((p) => p.chassis === chassis).sort((a, b) => cmpStr(a.id, b.id));
  const tenantPorts = new Map<string, Port[]>();
  const subnetCache = new Map<Tenant, ParsedCidr[]>();
  for (const p of local) {
    const t = ix.tenants.get(p.tenant);
    if (!t) {
      skipped.push({ source: `port/${p.id}`, reason: `tenant ${p.tenant} is not in the intent store` });
      continue;
    }
    if (!inSubnets(t, p.fixedIp, subnetCache)) {
      skipped.push({ source: `port/${p.id}`, reason: `${p.fixedIp} is outside the subnets of tenant ${t.id}` });
      continue;
    }
    const list = tenantPorts.get(t.id) ?? [];
    list.push(p);
    tenantPorts.set(t.id, list);
  }
  const zones = assignZones([...tenantPorts.keys()], opts.previousZones);
  const snatV4 = (host?.snatAddresses ?? []).filter((a) => !a.includes(':'));
  const ifaceOwner = new Map<string, string>();
  const tenants: NatTenant[] = [];
  const ports: NatPort[] = [];
  const portOk = new Set<string>();
  for (const [tid, plist] of [...tenantPorts].sort((a, b) => cmpStr(a[0], b[0]))) {
    const t = ix.tenants.get(tid)!;
    const ifaces: string[] = [];
    const seenFixed = new Set<string>();
    for (const p of plist) {
      if (seenFixed.has(p.fixedIp)) {
        skipped.push({ source: `port/${p.id}`, reason: `fixed IP ${p.fixedIp} of tenant ${tid} is taken by another port here` });
        continue;
      }
      seenFixed.add(p.fixedIp);
      portOk.add(p.id);
      if (!p.interfaceName) continue; // FIPs still work (DNAT by address); no tenant route for it
      const owner = ifaceOwner.get(p.interfaceName);
      if (owner !== undefined && owner !== tid) {
        skipped.push({ source: `port/${p.id}`, reason: `interface ${p.interfaceName} already belongs to tenant ${owner}` });
        continue;
      }
      ifaceOwner.set(p.interfaceName, tid);
      if (!ifaces.includes(p.interfaceName)) ifaces.push(p.interfaceName);
      ports.push({ tenant: tid, fixedIp: p.fixedIp, iface: p.interfaceName });
    }
    const nt: NatTenant = { id: tid, zone: zones.get(tid)!, subnets: [...t.subnets], ifaces: ifaces.sort(cmpStr) };
    if (snatV4.length) nt.snat = { address: snatV4[fnv1a(tid) % snatV4.length]! };
    tenants.push(nt);
  }

  // Floating IPs: active first, then draining, then standby; first claim wins.
  const snatSet = new Set(host?.snatAddresses ?? []);
  const fipTaken = new Map<string, string>();
  const fixedTaken = new Map<string, string>();
  const fips: NatFip[] = [];
  const rank = { active: 0, draining: 1, standby: 2 } as const;
  const assigned = fipsOfChassis(ix, chassis).sort((a, b) => rank[a.role] - rank[b.role] || cmpStr(a.fip.id, b.fip.id));
  // only draining FIPs look into the previous state: index it on first use (an
  // incremental plan of one FIP must not pay O(all FIPs) for it)
  let prevByFip: Map<string, NatFip> | undefined;
  for (const { fip, role } of assigned) {
    const source = `floatingip/${fip.id}`;
    let entry: NatFip | undefined;
    if (role === 'draining') {
      prevByFip ??= new Map((opts.previous?.fips ?? []).map((f) => [f.fip, f]));
      entry = prevByFip.get(fip.address);
      if (!entry) continue; // nothing programmed before: nothing to keep
      if (!tenantPorts.has(entry.tenant)) {
        skipped.push({ source, reason: `draining: tenant ${entry.tenant} has no port here any more` });
        continue;
      }
    } else {
      const portId = role === 'active' ? fip.portId! : fip.standbyPortId!;
      const port = ix.ports.get(portId);
      if (!port || !portOk.has(port.id)) {
        skipped.push({ source, reason: `port ${portId} cannot be programmed here (see port/${portId})` });
        continue;
      }
      entry = { fip: fip.address, tenant: port.tenant, fixedIp: port.fixedIp };
    }
    if (snatSet.has(entry.fip)) {
      skipped.push({ source, reason: `${entry.fip} is a SNAT address of chassis ${chassis}` });
      continue;
    }
    const otherFip = fipTaken.get(entry.fip);
    if (otherFip !== undefined) {
      skipped.push({ source, reason: `${entry.fip} is already mapped for ${otherFip}` });
      continue;
    }
    const fk = `${entry.tenant} ${entry.fixedIp}`;
    const otherFixed = fixedTaken.get(fk);
    if (otherFixed !== undefined) {
      skipped.push({ source, reason: `${entry.fixedIp} of tenant ${entry.tenant} already has ${otherFixed} (${role} loses)` });
      continue;
    }
    fipTaken.set(entry.fip, source);
    fixedTaken.set(fk, entry.fip);
    fips.push(entry);
  }
  fips.sort((a, b) => cmpStr(a.fip, b.fip));
  ports.sort((a, b) => cmpStr(a.tenant, b.tenant) || cmpStr(a.fixedIp, b.fixedIp));
  skipped.sort((x, y) => cmpStr(x.source, y.source) || cmpStr(x.reason, y.reason));
  return { desired: { tenants, ports, fips }, zones, skipped };
}
