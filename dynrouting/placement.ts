// Where a floating IP lives, as a pure function of intent and status: which chassis
// announces it normally, which one keeps announcing while a move completes (make
// before break), and which one announces a backup path (hot standby).
//
// Make before break. A FIP's intended chassis is the chassis of its port. The store
// field `activeChassis` is status, written by the agent that has programmed NAT and
// announced the address. When the port binding changes from chassis A to B:
//   1. B sees port → B: it programs NAT and announces at once (role 'active'), then
//      writes activeChassis = B (claimsFor → 'claim').
//   2. A still sees activeChassis = A: it keeps NAT and its announcement (role
//      'draining') until activeChassis changes, so the ToR always has a path.
//   3. A sees activeChassis = B: role 'none', it withdraws.
// A drains only while someone will take over: the FIP still has a port, the port is
// bound, and (when liveness records are given) its chassis has a live agent. A port
// the caller cannot see (the agent's chassis view hides other chassis' ports) counts
// as "taking over elsewhere".
//
// Hot standby. A FIP may name a standby port; when that port is on another chassis
// than the active one, the standby chassis pre-programs NAT and announces a backup
// path (role 'standby'; routes.ts adds AS-path prepend and the standby communities).
import type { FloatingIp } from '../store/model.js';
import { IntentIndex, type Intent } from './intent.js';

export type FipRole = 'active' | 'draining' | 'standby' | 'none';

export interface FipPlacement {
  fip: FloatingIp;
  /** Chassis of the FIP's port: a name, null (no port or unbound), undefined (port not visible). */
  intended: string | null | undefined;
  /** Chassis of the standby port (same encoding). */
  standby: string | null | undefined;
  /** Chassis that currently carries the FIP: intended, or the old one while a move completes. */
  carrier: string | null;
  /** True while the old chassis must keep announcing (the new one has not confirmed). */
  moving: boolean;
}

function toIndex(i: Intent | IntentIndex): IntentIndex {
  return i instanceof IntentIndex ? i : new IntentIndex(i);
}

/** The placement of one FIP. */
export function placeFip(intent: Intent | IntentIndex, fip: FloatingIp): FipPlacement {
  const ix = toIndex(intent);
  const intended = ix.chassisOfPort(fip.portId);
  const standby = fip.standbyPortId ? ix.chassisOfPort(fip.standbyPortId) : null;
  const active = fip.activeChassis ?? null;
  const someoneTakesOver =
    !!fip.portId && intended !== null &&
    (intended === undefined || ix.alive === undefined || ix.alive.has(intended));
  const moving = active !== null && active !== intended && someoneTakesOver;
  const carrier = moving ? active : intended ?? null;
  return { fip, intended, standby, carrier, moving };
}

/** What `chassis` does for one FIP. */
export function fipRole(intent: Intent | IntentIndex, fip: FloatingIp, chassis: string): FipRole {
  const p = placeFip(intent, fip);
  if (p.intended === chassis) return 'active';
  if (p.moving && p.carrier === chassis) return 'draining';
  if (p.standby === chassis && fip.standbyPortId) return 'standby';
  return 'none';
}

export interface FipAssignment {
  fip: FloatingIp;
  role: Exclude<FipRole, 'none'>;
}

/** Every FIP `chassis` has a part in, sorted by FIP id. */
export function fipsOfChassis(intent: Intent | IntentIndex, chassis: string): FipAssignment[] {
  const ix = toIndex(intent);
  const out: FipAssignment[] = [];
  for (const fip of ix.fips) {
    const role = fipRole(ix, fip, chassis);
    if (role !== 'none') out.push({ fip, role });
  }
  return out;
}

/** A status write the agent on `chassis` should make (after NAT and routes are applied). */
export interface StatusUpdate {
  fipId: string;
  /** The value to write to the FIP's activeChassis. */
  activeChassis: string | null;
  /** The value read, for compare-and-swap. */
  previous: string | null;
  reason: 'claim' | 'release';
}

/**
 * The activeChassis writes owed by `chassis`: 'claim' for each FIP it now hosts that
 * does not say so yet (written once NAT and routes are in place, which lets the old
 * chassis withdraw); 'release' for each FIP that still names it but that it no longer
 * carries and nobody takes over (port removed or unbound, or its new chassis is dead).
 */
export function statusUpdates(intent: Intent | IntentIndex, chassis: string): StatusUpdate[] {
  const ix = toIndex(intent);
  const out: StatusUpdate[] = [];
  for (const fip of ix.fips) {
    const prev = fip.activeChassis ?? null;
    const role = fipRole(ix, fip, chassis);
    if (role === 'active' && prev !== chassis) out.push({ fipId: fip.id, activeChassis: chassis, previous: prev, reason: 'claim' });
    else if (prev === chassis && role !== 'active' && role !== 'draining') out.push({ fipId: fip.id, activeChassis: null, previous: prev, reason: 'release' });
  }
  return out;
}
