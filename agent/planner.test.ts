// Planner: the incremental pass gives exactly what the full pass gives. Oracle test: a
// random chassis view (two chassis, two tenants, ports with and without interfaces, a
// duplicate fixed IP, FIPs with ports here, elsewhere, none, standby ports, any
// activeChassis) is mutated one to three FIPs at a time; one planner patches its plan
// incrementally (falling back to full when it gives up), another plans every step in
// full. NAT entries, the routes the speaker ends up with and the role counts must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Planner } from './planner.js';
import { canonicalRoute } from '../dynrouting/index.js';
import { routeSpecKey, type RouteSpec } from '../bgp/routespec.js';
import type { IntentObject, Kind } from '../store/index.js';

const STEPS = 1000;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

for (const seed of [7, 8, 9]) test(`Planner.incremental agrees with Planner.full over ${STEPS} random FIP changes (seed ${seed})`, (t) => {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const view = new Map<string, { kind: Kind; value: IntentObject }>();
  const put = (kind: Kind, id: string, value: object) => view.set(`${kind}/${id}`, { kind, value: value as IntentObject });
  put('chassis', 'c1', { name: 'c1', uplinkIp: '192.0.2.11', localAsn: 65011, snatAddresses: ['198.51.100.250'], bgpNeighbors: [] });
  put('chassis', 'c2', { name: 'c2', uplinkIp: '192.0.2.21', localAsn: 65012, snatAddresses: [], bgpNeighbors: [] });
  put('network', 'ext', { id: 'ext', cidr: '198.51.100.0/24', mode: 'l3', pools: [{ start: '198.51.100.1', end: '198.51.100.254' }] });
  put('tenant', 't1', { id: 't1', subnets: ['10.0.0.0/16'] });
  put('tenant', 't2', { id: 't2', subnets: ['10.1.0.0/16'] });
  put('speaker', 'default', { id: 'default', advertiseFipHostRoutes: true, advertiseSnatAddresses: true, advertiseTenantPrefixes: false, mode: 'per-chassis', standbyAsPathPrepend: 2 });
  put('agent', 'c1', { chassis: 'c1' });
  put('agent', 'c2', { chassis: 'c2' });
  const portIds: string[] = [];
  for (let i = 0; i < 60; i++) {
    const t = i % 2 ? 't2' : 't1';
    const fixed = `${t === 't1' ? '10.0' : '10.1'}.0.${i === 59 ? 2 : i + 1}`; // vm-59 (t2) has vm-1's fixed IP (t2)
    const chassis = pick(['c1', 'c1', 'c2', null]);
    put('port', `vm-${i}`, { id: `vm-${i}`, tenant: t, fixedIp: fixed, chassis, ...(i % 7 === 5 ? {} : { interfaceName: t === 't1' ? 'tap1' : 'tap2' }) });
    portIds.push(`vm-${i}`);
  }
  const fipIds = Array.from({ length: 40 }, (_, i) => `f-${i}`);
  const address = (id: string) => `198.51.100.${Number(id.slice(2)) + 10}`;
  const randomFip = (id: string) => ({
    id, address: address(id), network: 'ext', tenant: pick(['t1', 't2']),
    portId: r() < 0.1 ? null : r() < 0.97 ? `vm-${id.slice(2)}` : pick(portIds), // now and then two FIPs on one port
    standbyPortId: r() < 0.05 ? pick(portIds.slice(40)) : null, activeChassis: pick([null, 'c1', 'c2']),
  });
  for (const id of fipIds) if (r() < 0.6) put('floatingip', id, randomFip(id));

  const inc = new Planner('c1');
  const full = new Planner('c1');
  const speaker = new Map<string, RouteSpec>();
  const apply = (add: RouteSpec[], remove: RouteSpec[]) => {
    for (const x of remove) speaker.delete(routeSpecKey(x));
    for (const x of add) speaker.set(routeSpecKey(x), x);
  };
  let zones = new Map<string, number>();
  let incZones = new Map<string, number>();
  let prevFull = full.full(view, [], { zones, nat: undefined });
  const first = inc.full(view, [], { zones: incZones, nat: undefined });
  apply(first.add, first.remove);
  zones = prevFull.nat.zones;
  incZones = first.nat.zones;
  let incremental = 0;
  for (let step = 0; step < STEPS; step++) {
    const changed = new Map<string, string>();
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const id = pick(fipIds);
      changed.set(id, address(id));
      const x = r();
      if (x < 0.2) view.delete(`floatingip/${id}`);
      else if (x < 0.5 || !view.has(`floatingip/${id}`)) put('floatingip', id, randomFip(id));
      else {
        const cur = view.get(`floatingip/${id}`)!.value as unknown as Record<string, unknown>;
        put('floatingip', id, { ...cur, ...(r() < 0.5 ? { activeChassis: pick([null, 'c1', 'c2']) } : { portId: r() < 0.25 ? pick(portIds.slice(40)) : r() < 0.5 ? null : `vm-${id.slice(2)}` }) });
      }
    }
    let p = inc.incremental(view, changed, incZones);
    if (p) incremental++;
    else p = inc.full(view, [...speaker.values()], { zones: incZones, nat: inc['nat']?.desired });
    apply(p.add, p.remove);
    incZones = p.nat.zones;
    const f = full.full(view, [], { zones, nat: prevFull.nat.desired });
    zones = f.nat.zones;
    prevFull = f;
    const want = new Map([...full['bySource'].values()].flat().map((x) => [routeSpecKey(x), canonicalRoute(x)]));
    assert.deepEqual(new Map([...speaker].map(([k, x]) => [k, canonicalRoute(x)])), want, `routes at step ${step}`);
    assert.deepEqual(p.nat.desired.fips, f.nat.desired.fips, `NAT entries at step ${step}`);
    assert.deepEqual(p.roles, f.roles, `roles at step ${step}`);
    assert.equal(p.routes, f.routes, `route count at step ${step}`);
  }
  t.diagnostic(`incremental ${incremental} of ${STEPS} steps`);
  assert.ok(incremental > STEPS / 4, `the incremental path was taken ${incremental} times of ${STEPS}`);
});
