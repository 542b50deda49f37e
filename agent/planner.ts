// What one reconcile pass must do — NAT desired state, route changes, the index for
// activeChassis writes — computed in full (dynrouting over the whole chassis view:
// ≈ 240 ms at 10,000 FIPs, bench/agent/pass.ts) or, for the common case of a few
// floating-IP events, incrementally: dynrouting runs over a small view holding only the
// changed FIPs (plus every non-port object and the ports they name), and the result
// patches the previous plan. Routes are kept by their source (`floatingip/<id>`), NAT
// entries by FIP address. Anything the small view cannot decide exactly makes the
// incremental path give up (undefined) and the caller plan in full: a FIP draining
// after a move, a route key owned by another source, a port that is not in the NAT
// plan (no interface) or whose fixed IP another local port also has, a fixed IP
// already mapped by an unchanged FIP. The periodic resync always plans in full.
import {
  IntentIndex, diffRoutes, sameRoute, fipRole, fipsOfChassis, intentFromObjects, planChassisRoutes, planNat,
  type FipRole, type Intent, type NatPlan,
} from '../dynrouting/index.js';
import { routeSpecKey, type RouteSpec } from '../bgp/routespec.js';
import type { NatDesired, NatFip } from '../nat/index.js';
import { findFip, fipPosition } from './nat-delta.js';
import type { FloatingIp, IntentObject, Kind, Port } from '../store/index.js';

export interface PassPlan {
  /** Index for statusUpdates: the whole view, or the small one (only the changed FIPs). */
  ix: IntentIndex;
  nat: NatPlan;
  add: RouteSpec[];
  remove: RouteSpec[];
  /** Routes this chassis originates after the pass. */
  routes: number;
  roles: { active: number; standby: number };
  incremental: boolean;
  /** Incremental plans: only the FIPs at these addresses can differ from `base` (natDeltaAt). */
  natChanged?: { base: NatDesired; addresses: ReadonlySet<string> };
}

/**
 * The view's objects other than ports and FIPs, as of the last full plan, and how many
 * local ports share each tenant + fixed IP. Neither changes between full plans: any event
 * that is not a FIP's makes the next pass plan in full. (Collecting them from the whole
 * view on every incremental pass cost ≈ 4 ms per FIP at 10,000.)
 */
interface Rest {
  objects: Omit<Intent, 'ports' | 'floatingIps'>;
  localTargets: Map<string, number>;
}

function restOf(intent: Intent, me: string): Rest {
  const { ports, floatingIps: _, ...objects } = intent;
  const localTargets = new Map<string, number>();
  for (const p of ports) {
    if (p.chassis !== me) continue;
    const k = `${p.tenant} ${p.fixedIp}`;
    localTargets.set(k, (localTargets.get(k) ?? 0) + 1);
  }
  return { objects, localTargets };
}

type Role = Exclude<FipRole, 'none'>;
type View = ReadonlyMap<string, { kind: Kind; value: IntentObject }>;

/** A NAT entry's or port's target: "tenant fixedIp". */
const target = (x: { tenant: string; fixedIp: string }): string => `${x.tenant} ${x.fixedIp}`;

export class Planner {
  private bySource = new Map<string, RouteSpec[]>();
  private keyOwner = new Map<string, string>();
  private roles = new Map<string, Role>();
  private nat?: NatPlan;
  private routeCount = 0;
  /** The last full plan skipped a FIP (two wanting one fixed IP or route key): a change may hand its place to another. */
  private conflicts = false;
  private rest?: Rest;
  /** NAT plan's FIPs by target ("tenant fixedIp" → FIP address) and its ports' targets: O(1) checks per changed FIP. */
  private natTargets = new Map<string, string>();
  private portTargets = new Set<string>();
  private roleCounts = { active: 0, standby: 0 };

  constructor(readonly chassis: string) {}

  get ready(): boolean {
    return this.nat !== undefined;
  }

  /** Everything from the whole view (`localRoutes`: what the speaker originates now). */
  full(view: View, localRoutes: RouteSpec[], prev: { zones: ReadonlyMap<string, number>; nat: NatDesired | undefined }): PassPlan {
    const intent = intentFromObjects(view.values());
    const ix = new IntentIndex(intent);
    const me = this.chassis;
    const nat = planNat(ix, me, { previousZones: prev.zones, previous: prev.nat });
    const rp = planChassisRoutes(ix, me);
    const routes = rp.routes.map((r) => r.spec);
    const diff = diffRoutes(localRoutes, routes);
    this.bySource = new Map();
    this.keyOwner = new Map();
    for (const r of rp.routes) {
      const list = this.bySource.get(r.source) ?? [];
      list.push(r.spec);
      this.bySource.set(r.source, list);
      this.keyOwner.set(routeSpecKey(r.spec), r.source);
    }
    this.routeCount = routes.length;
    this.roles = new Map(fipsOfChassis(ix, me).map((a) => [a.fip.id, a.role]));
    this.conflicts = [...nat.skipped, ...rp.skipped].some((x) => x.source.startsWith('floatingip/'));
    this.nat = nat;
    this.rest = restOf(intent, me);
    this.natTargets = new Map();
    for (const f of nat.desired.fips) {
      const k = target(f);
      if (this.natTargets.has(k)) this.conflicts = true; // two entries, one fixed IP (planNat skips that): plan in full
      this.natTargets.set(k, f.fip);
    }
    this.portTargets = new Set(nat.desired.ports.map(target));
    this.roleCounts = this.countRoles();
    return { ix, nat, add: diff.add, remove: diff.remove, routes: routes.length, roles: { ...this.roleCounts }, incremental: false };
  }

  /**
   * Only the FIPs in `changed` (id → address; deleted ones included) changed since the
   * last plan, and nothing else in the view did. Undefined: plan in full instead.
   */
  incremental(view: View, changed: ReadonlyMap<string, string>, prevZones: ReadonlyMap<string, number>): PassPlan | undefined {
    const prevNat = this.nat;
    const rest = this.rest;
    if (!prevNat || !rest || this.conflicts) return undefined;
    const me = this.chassis;
    const fips: FloatingIp[] = [];
    const portIds = new Set<string>();
    for (const id of changed.keys()) {
      const f = view.get(`floatingip/${id}`)?.value as FloatingIp | undefined;
      if (!f) continue;
      fips.push(f);
      if (f.portId) portIds.add(f.portId);
      if (f.standbyPortId) portIds.add(f.standbyPortId);
    }
    const ports: Port[] = [];
    for (const id of portIds) {
      const p = view.get(`port/${id}`)?.value as Port | undefined;
      if (p) ports.push(p);
    }
    // a local port sharing its tenant and fixed IP with another local port: the full plan decides
    for (const p of ports) if (p.chassis === me && (rest.localTargets.get(`${p.tenant} ${p.fixedIp}`) ?? 0) > 1) return undefined;
    const sub: Intent = { ...rest.objects, ports, floatingIps: fips };
    const ix = new IntentIndex(sub);

    // roles: a draining FIP (before or after) keeps an entry of the previous plan: full plan
    const newRoles = new Map<string, Role>();
    for (const f of ix.fips) {
      const r = fipRole(ix, f, me);
      if (r === 'draining') return undefined;
      if (r !== 'none') newRoles.set(f.id, r);
    }
    for (const id of changed.keys()) if (this.roles.get(id) === 'draining') return undefined;

    // routes of the changed sources
    const sources = new Set([...changed.keys()].map((id) => `floatingip/${id}`));
    const rp = planChassisRoutes(ix, me);
    if (rp.skipped.some((x) => x.source.startsWith('floatingip/'))) return undefined;
    const newBy = new Map<string, RouteSpec[]>();
    for (const r of rp.routes) {
      if (!sources.has(r.source)) continue;
      const owner = this.keyOwner.get(routeSpecKey(r.spec));
      if (owner !== undefined && !sources.has(owner)) return undefined;
      const list = newBy.get(r.source) ?? [];
      list.push(r.spec);
      newBy.set(r.source, list);
    }

    // NAT entries of the changed addresses
    const addresses = new Set(changed.values());
    const np = planNat(ix, me, { previousZones: prevZones, previous: prevNat.desired });
    if (np.skipped.some((x) => x.source.startsWith('floatingip/'))) return undefined;
    const entries = np.desired.fips.filter((f) => addresses.has(f.fip));
    for (const e of entries) {
      if (np.zones.get(e.tenant) !== prevZones.get(e.tenant)) return undefined;
      if (!this.portTargets.has(target(e))) return undefined;
      // the fixed IP already mapped by a FIP that did not change
      const owner = this.natTargets.get(target(e));
      if (owner !== undefined && !addresses.has(owner)) return undefined;
    }
    const kept = prevNat.desired.fips.slice();
    const gone: NatFip[] = [];
    for (const a of addresses) {
      const i = findFip(kept, a);
      if (i >= 0) gone.push(...kept.splice(i, 1));
    }
    for (const e of entries) {
      kept.splice(fipPosition(kept, e.fip), 0, e); // keep the list sorted by address, as planNat sorts it
    }

    // commit: route diff against the previous plan of these sources
    const add: RouteSpec[] = [];
    const remove: RouteSpec[] = [];
    for (const src of sources) {
      const before = this.bySource.get(src) ?? [];
      const after = newBy.get(src) ?? [];
      const afterKeys = new Map(after.map((r) => [routeSpecKey(r), r]));
      const beforeKeys = new Map(before.map((r) => [routeSpecKey(r), r]));
      for (const [k, r] of beforeKeys) {
        if (!afterKeys.has(k)) {
          remove.push(r);
          this.keyOwner.delete(k);
          this.routeCount--;
        }
      }
      for (const [k, r] of afterKeys) {
        const b = beforeKeys.get(k);
        if (!b) this.routeCount++;
        if (!b || !sameRoute(b, r)) add.push(r);
        this.keyOwner.set(k, src);
      }
      if (after.length) this.bySource.set(src, after);
      else this.bySource.delete(src);
    }
    for (const id of changed.keys()) {
      const was = this.roles.get(id);
      if (was === 'active' || was === 'standby') this.roleCounts[was]--;
      const r = newRoles.get(id);
      if (r) this.roles.set(id, r);
      else this.roles.delete(id);
      if (r === 'active' || r === 'standby') this.roleCounts[r]++;
    }
    for (const f of gone) if (this.natTargets.get(target(f)) === f.fip) this.natTargets.delete(target(f));
    for (const e of entries) this.natTargets.set(target(e), e.fip);
    const nat: NatPlan = { desired: { tenants: prevNat.desired.tenants, ports: prevNat.desired.ports, fips: kept }, zones: new Map(prevZones), skipped: prevNat.skipped };
    this.nat = nat;
    return { ix, nat, add, remove, routes: this.routeCount, roles: { ...this.roleCounts }, incremental: true, natChanged: { base: prevNat.desired, addresses } };
  }

  /** Forget the plan: the next pass plans in full. */
  reset(): void {
    this.nat = undefined;
    this.rest = undefined;
  }

  private countRoles(): { active: number; standby: number } {
    let active = 0;
    let standby = 0;
    for (const r of this.roles.values()) {
      if (r === 'active') active++;
      else if (r === 'standby') standby++;
    }
    return { active, standby };
  }
}
