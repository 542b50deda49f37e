// The NAT change between two desired states of one chassis, for the agent's fast path.
// A full NatManager.reconcile() re-reads the whole kernel state (nft -j list of every map
// element, ip route/rule) and validates everything: O(all FIPs) of I/O and parsing per
// pass, ≈1 s at 10,000 FIPs. When the tenants are unchanged and only a few FIPs or ports
// differ, the agent applies just those through NatManager's single-entry calls (one small
// nft transaction each). Make before break: `make` (new ports, new and re-pointed FIPs)
// goes in before the route changes, `brk` (FIPs, then ports, that left) after. Pure.
import type { NatDesired, NatFip, NatPort } from '../nat/index.js';

export interface NatDelta {
  /** New ports and ports whose interface changed (route replace). */
  setPorts: NatPort[];
  addFips: NatFip[];
  /** FIPs that stay but map to another fixed IP or tenant. */
  moveFips: NatFip[];
  removeFips: NatFip[];
  removePorts: NatPort[];
}

/** Above this many entries one full reconcile (one batch) beats per-entry calls. */
export const MAX_DELTA = 16;

const portKey = (p: NatPort): string => `${p.tenant}|${p.fixedIp}`;

/** Tenants (zones, subnets, interfaces, SNAT) compared as canonical JSON. */
function sameTenants(a: NatDesired, b: NatDesired): boolean {
  if (a.tenants.length !== b.tenants.length) return false;
  const key = (d: NatDesired) => JSON.stringify([...d.tenants].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    .map((t) => [t.id, t.zone, [...t.subnets].sort(), [...t.ifaces].sort(), t.snat?.address ?? null, t.snat?.portRange?.min ?? null, t.snat?.portRange?.max ?? null]));
  return key(a) === key(b);
}

/** What changed from `prev` (applied) to `next`; undefined when the tenants differ (full reconcile). */
export function natDelta(prev: NatDesired, next: NatDesired): NatDelta | undefined {
  if (!sameTenants(prev, next)) return undefined;
  const d: NatDelta = { setPorts: [], addFips: [], moveFips: [], removeFips: [], removePorts: [] };
  const prevPorts = new Map(prev.ports.map((p) => [portKey(p), p]));
  const nextPorts = new Map(next.ports.map((p) => [portKey(p), p]));
  for (const [k, p] of nextPorts) if (prevPorts.get(k)?.iface !== p.iface) d.setPorts.push(p);
  for (const [k, p] of prevPorts) if (!nextPorts.has(k)) d.removePorts.push(p);
  const prevFips = new Map(prev.fips.map((f) => [f.fip, f]));
  const nextFips = new Map(next.fips.map((f) => [f.fip, f]));
  for (const [a, f] of nextFips) {
    const o = prevFips.get(a);
    if (!o) d.addFips.push(f);
    else if (o.fixedIp !== f.fixedIp || o.tenant !== f.tenant) d.moveFips.push(f);
  }
  for (const [a, f] of prevFips) if (!nextFips.has(a)) d.removeFips.push(f);
  return d;
}

export function deltaSize(d: NatDelta): number {
  return d.setPorts.length + d.addFips.length + d.moveFips.length + d.removeFips.length + d.removePorts.length;
}
