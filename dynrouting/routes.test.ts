// dynrouting routes: per-chassis and central route sets from fixed intent, checked
// against hand-written expected RouteSpecs; every produced route must also pass the
// speaker's own validation (toCodecRoute), and output must not depend on input order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toCodecRoute, routeSpecKey, type RouteSpec } from '../bgp/routespec.js';
import { compareRoutes, planChassisRoutes, routesForCentral, routesForChassis } from './routes.js';
import { chassis, fip, port, site, SETTINGS } from './testing/fixture.js';
import type { Intent } from './intent.js';

function valid(routes: RouteSpec[]): void {
  for (const r of routes) assert.doesNotThrow(() => toCodecRoute(r), JSON.stringify(r));
}

function prefixes(routes: RouteSpec[]): string[] {
  return routes.map((r) => `${r.family} ${r.rd ? `${r.rd} ` : ''}${r.prefix}`);
}

test('a FIP bound to a local port is a /32 via the uplink with the FIP communities; SNAT addresses are /32s', () => {
  const intent = site({ floatingIps: [fip('f1', '198.51.100.7', 'p1'), fip('f2', '198.51.100.8', 'p2')] });
  const c1 = routesForChassis(intent, 'c1');
  assert.deepEqual(c1.filter((r) => !r.prefix.startsWith('10.')), [
    { family: 'ipv4-unicast', prefix: '198.51.100.7/32', nextHop: '192.0.2.11', communities: ['65000:100'] },
    { family: 'ipv4-unicast', prefix: '203.0.113.11/32', nextHop: '192.0.2.11', communities: ['65000:200'] },
  ]);
  const c2 = routesForChassis(intent, 'c2');
  assert.deepEqual(prefixes(c2), ['ipv4-unicast 198.51.100.8/32', 'ipv4-unicast 203.0.113.12/32']);
  assert.deepEqual(routesForChassis(intent, 'c3').map((r) => r.prefix), ['203.0.113.13/32']);
  valid(c1);
  valid(c2);
});

test('an unassociated FIP or one on an unbound port is advertised nowhere', () => {
  const intent = site({
    ports: [...site().ports, port('pu', 't1', '10.0.0.9', null)],
    floatingIps: [fip('f1', '198.51.100.7', null), fip('f2', '198.51.100.8', 'pu')],
  });
  for (const c of ['c1', 'c2', 'c3']) assert.ok(!routesForChassis(intent, c).some((r) => r.prefix.startsWith('198.51.100.')), c);
});

test('IPv6 FIPs are /128s via the IPv6 uplink, or the IPv4 uplink as an IPv4-mapped address', () => {
  const intent = site({
    ports: [...site().ports, port('p7', 't1', '2001:db8:1::6', 'c2', 'tap7')],
    floatingIps: [fip('f6', '2001:db8:f::20', 'p6', { network: 'ext6' }), fip('f7', '2001:db8:f::21', 'p7', { network: 'ext6' })],
  });
  const c1 = routesForChassis(intent, 'c1').find((r) => r.prefix === '2001:db8:f::20/128');
  assert.deepEqual(c1, { family: 'ipv6-unicast', prefix: '2001:db8:f::20/128', nextHop: '::ffff:192.0.2.11', communities: ['65000:100'] });
  const c2 = routesForChassis(intent, 'c2').find((r) => r.prefix === '2001:db8:f::21/128');
  assert.equal(c2?.nextHop, '2001:db8:ff::12');
  valid(routesForChassis(intent, 'c1'));
  valid(routesForChassis(intent, 'c2'));
});

test('hot standby: the standby chassis advertises a backup path (AS-path prepend x N of its ASN + standby communities)', () => {
  const intent = site({ floatingIps: [fip('f1', '198.51.100.7', 'p1', { standbyPortId: 'p2', activeChassis: 'c1' })] });
  const active = routesForChassis(intent, 'c1').find((r) => r.prefix === '198.51.100.7/32');
  assert.deepEqual(active, { family: 'ipv4-unicast', prefix: '198.51.100.7/32', nextHop: '192.0.2.11', communities: ['65000:100'] });
  const backup = routesForChassis(intent, 'c2').find((r) => r.prefix === '198.51.100.7/32');
  assert.deepEqual(backup, {
    family: 'ipv4-unicast', prefix: '198.51.100.7/32', nextHop: '192.0.2.12',
    communities: ['65000:100', '65000:666'], asPathPrepend: [65012, 65012],
  });
  valid([backup!]);
  // Prepend count 0: the community alone marks the backup.
  const noPrepend = site({ ...intent, speakers: [{ ...SETTINGS, standbyAsPathPrepend: 0 }] });
  const b0 = routesForChassis(noPrepend, 'c2').find((r) => r.prefix === '198.51.100.7/32');
  assert.equal(b0?.asPathPrepend, undefined);
  assert.deepEqual(b0?.communities, ['65000:100', '65000:666']);
});

test('hot standby: a standby port that moved onto the active chassis gives no second route there', () => {
  const ports = site().ports.map((p) => (p.id === 'p2' ? { ...p, chassis: 'c1' } : p));
  const intent = site({ ports, floatingIps: [fip('f1', '198.51.100.7', 'p1', { standbyPortId: 'p2' })] });
  const r = routesForChassis(intent, 'c1').filter((x) => x.prefix === '198.51.100.7/32');
  assert.equal(r.length, 1);
  assert.equal(r[0]!.asPathPrepend, undefined);
  assert.ok(!routesForChassis(intent, 'c2').some((x) => x.prefix === '198.51.100.7/32'));
});

test('make before break: the new chassis announces at once, the old one withdraws only when activeChassis says so', () => {
  const has = (i: Intent, c: string): boolean => routesForChassis(i, c).some((r) => r.prefix === '198.51.100.7/32');
  // Steady state on c1.
  let i = site({ floatingIps: [fip('f1', '198.51.100.7', 'p1', { activeChassis: 'c1' })] });
  assert.deepEqual([has(i, 'c1'), has(i, 'c2')], [true, false]);
  // Operator re-associates to p2 on c2: both announce.
  i = site({ floatingIps: [fip('f1', '198.51.100.7', 'p2', { activeChassis: 'c1' })] });
  assert.deepEqual([has(i, 'c1'), has(i, 'c2')], [true, true]);
  assert.equal(planChassisRoutes(i, 'c1').routes.find((r) => r.spec.prefix === '198.51.100.7/32')?.class, 'fip-draining');
  // c2 confirms: c1 withdraws.
  i = site({ floatingIps: [fip('f1', '198.51.100.7', 'p2', { activeChassis: 'c2' })] });
  assert.deepEqual([has(i, 'c1'), has(i, 'c2')], [false, true]);
  // Port migration (binding changes) behaves the same.
  const moved = site().ports.map((p) => (p.id === 'p1' ? { ...p, chassis: 'c3' } : p));
  i = site({ ports: moved, floatingIps: [fip('f1', '198.51.100.7', 'p1', { activeChassis: 'c1' })] });
  assert.deepEqual([has(i, 'c1'), has(i, 'c3')], [true, true]);
});

test('make before break: nothing to wait for when the FIP lost its port or the new chassis has no live agent', () => {
  const has = (i: Intent, c: string): boolean => routesForChassis(i, c).some((r) => r.prefix === '198.51.100.7/32');
  assert.equal(has(site({ floatingIps: [fip('f1', '198.51.100.7', null, { activeChassis: 'c1' })] }), 'c1'), false);
  const agents = [{ chassis: 'c1', startedAt: '2024-01-01T00:00:00Z' }];
  const dead = site({ agents, floatingIps: [fip('f1', '198.51.100.7', 'p2', { activeChassis: 'c1' })] });
  assert.equal(has(dead, 'c1'), false, 'c2 has no agent: no one will confirm');
  const alive = site({ agents: [...agents, { chassis: 'c2', startedAt: '2024-01-01T00:00:00Z' }], floatingIps: dead.floatingIps });
  assert.equal(has(alive, 'c1'), true);
  // The agent's chassis view hides c2's port: the FIP is still drained until the status changes.
  const hidden = site({ ports: site().ports.filter((p) => p.id !== 'p2'), floatingIps: dead.floatingIps });
  assert.equal(has(hidden, 'c1'), true);
});

test('tenant prefixes: only in the address scope of an external network of the same family, from chassis with the tenant\'s ports', () => {
  const intent = site();
  const c1 = routesForChassis(intent, 'c1').filter((r) => r.prefix.startsWith('10.') || r.prefix.startsWith('2001:db8:1'));
  // t2 (scope public, IPv4 only) has p3 on c1; t1 has no scope.
  assert.deepEqual(c1, [{ family: 'ipv4-unicast', prefix: '10.0.0.0/24', nextHop: '192.0.2.11', communities: ['65000:300'] }]);
  assert.ok(!routesForChassis(intent, 'c2').some((r) => r.prefix === '10.0.0.0/24'), 't2 has no port on c2');
  const off = site({ speakers: [{ ...SETTINGS, advertiseTenantPrefixes: false }] });
  assert.ok(!routesForChassis(off, 'c1').some((r) => r.prefix === '10.0.0.0/24'));
  // Another scope: nothing.
  const other = site({ tenants: site().tenants.map((t) => (t.id === 't2' ? { ...t, addressScope: 'private' } : t)) });
  assert.ok(!routesForChassis(other, 'c1').some((r) => r.prefix === '10.0.0.0/24'));
});

test('VRF tenants: VPNv4/VPNv6 (RD, export RTs, label) and EVPN type-5 (RD, RTs, VNI, router MAC) besides unicast', () => {
  const intent = site({
    ports: [port('p31', 't3', '10.3.0.5', 'c1', 'tap31'), port('p36', 't3', '2001:db8:3::5', 'c1', 'tap36'), port('p41', 't4', '10.4.0.5', 'c1', 'tap41')],
    floatingIps: [
      fip('f3', '198.51.100.30', 'p31', { tenant: 't3' }),
      fip('f36', '2001:db8:f::30', 'p36', { tenant: 't3', network: 'ext6' }),
      fip('f4', '198.51.100.40', 'p41', { tenant: 't4' }),
    ],
  });
  const r = routesForChassis(intent, 'c1');
  valid(r);
  assert.deepEqual(prefixes(r), [
    'ipv4-unicast 198.51.100.30/32',
    'ipv4-unicast 198.51.100.40/32',
    'ipv4-unicast 203.0.113.11/32',
    'ipv6-unicast 2001:db8:f::30/128',
    'ipv4-vpn 65000:3 10.3.0.0/24',
    'ipv4-vpn 65000:3 198.51.100.30/32',
    'ipv6-vpn 65000:3 2001:db8:3::/64',
    'ipv6-vpn 65000:3 2001:db8:f::30/128',
    'l2vpn-evpn 65000:4 10.4.0.0/24',
    'l2vpn-evpn 65000:4 198.51.100.40/32',
  ]);
  assert.deepEqual(r.find((x) => x.family === 'ipv4-vpn' && x.prefix === '198.51.100.30/32'), {
    family: 'ipv4-vpn', prefix: '198.51.100.30/32', nextHop: '192.0.2.11', rd: '65000:3', routeTargets: ['65000:3'], label: 3003, communities: ['65000:100'],
  });
  assert.equal(r.find((x) => x.family === 'ipv6-vpn' && x.prefix === '2001:db8:f::30/128')?.nextHop, '::ffff:192.0.2.11');
  assert.deepEqual(r.find((x) => x.family === 'l2vpn-evpn' && x.prefix === '198.51.100.40/32'), {
    family: 'l2vpn-evpn', routeType: 5, prefix: '198.51.100.40/32', nextHop: '192.0.2.11', rd: '65000:4',
    routeTargets: ['65000:4', '65000:44'], vni: 5004, routerMac: '02:00:00:00:00:04', communities: ['65000:100'],
  });
  // 'replace': VRF tenants get only their VPN/EVPN routes.
  const only = routesForChassis(intent, 'c1', { vrfRoutes: 'replace' });
  assert.deepEqual(prefixes(only).filter((p) => p.includes('unicast')), ['ipv4-unicast 203.0.113.11/32']);
});

test('l2 external networks: FIPs get no host route (the segment answers by ARP/NDP)', () => {
  const intent = site({ networks: [{ ...site().networks[0]!, mode: 'l2' }], floatingIps: [fip('f1', '198.51.100.7', 'p1')] });
  assert.ok(!routesForChassis(intent, 'c1').some((r) => r.prefix === '198.51.100.7/32'));
});

test('settings: per-chassis override, switches off, large communities split out', () => {
  const intent = site({
    speakers: [SETTINGS, { ...SETTINGS, id: 'c2', advertiseSnatAddresses: false, communities: { fip: ['65000:1:2', 'no-export'] } }],
    floatingIps: [fip('f2', '198.51.100.8', 'p2')],
  });
  assert.deepEqual(routesForChassis(intent, 'c2'), [
    { family: 'ipv4-unicast', prefix: '198.51.100.8/32', nextHop: '192.0.2.12', communities: ['no-export'], largeCommunities: ['65000:1:2'] },
  ]);
  valid(routesForChassis(intent, 'c2'));
  const noSettings = site({ speakers: [], floatingIps: [fip('f1', '198.51.100.7', 'p1')] });
  assert.deepEqual(prefixes(routesForChassis(noSettings, 'c1')), ['ipv4-unicast 198.51.100.7/32', 'ipv4-unicast 203.0.113.11/32']);
  const noFips = site({ speakers: [{ ...SETTINGS, advertiseFipHostRoutes: false }], floatingIps: [fip('f1', '198.51.100.7', 'p1')] });
  assert.ok(!routesForChassis(noFips, 'c1').some((r) => r.prefix === '198.51.100.7/32'));
});

test('a key claimed twice keeps the higher class and reports the loser; an unknown chassis gives nothing', () => {
  const intent = site({ floatingIps: [fip('f1', '203.0.113.11', 'p1'), fip('f2', '198.51.100.7', 'p1', { network: 'ext' }), fip('f3', '198.51.100.7', 'p3', { network: 'other' })] });
  const plan = planChassisRoutes(intent, 'c1');
  assert.equal(plan.routes.filter((r) => r.spec.prefix === '203.0.113.11/32').length, 1);
  assert.equal(plan.routes.find((r) => r.spec.prefix === '203.0.113.11/32')?.class, 'fip');
  assert.deepEqual(plan.skipped.map((s) => s.source), ['chassis/c1', 'floatingip/f3']);
  assert.deepEqual(planChassisRoutes(intent, 'nope').routes, []);
});

test('central mode: compute agents advertise nothing; the central speaker has every FIP with a third-party next hop', () => {
  const ports = site().ports.map((p) => (p.id === 'p2' ? { ...p, chassis: 'c3' } : p));
  const intent = site({
    ports,
    speakers: [{ ...SETTINGS, mode: 'central' }],
    floatingIps: [
      fip('f1', '198.51.100.7', 'p1', { activeChassis: 'c1', standbyPortId: 'p2' }),
      fip('f2', '198.51.100.8', 'p2', { activeChassis: 'c2' }), // moving c2 → c3, not confirmed
      fip('f3', '198.51.100.9', null),
    ],
  });
  assert.deepEqual(routesForChassis(intent, 'c1'), []);
  const central = routesForCentral(intent);
  valid(central);
  assert.deepEqual(central.map((r) => `${r.prefix} via ${r.nextHop}`), [
    '198.51.100.7/32 via 192.0.2.11',
    '198.51.100.8/32 via 192.0.2.12',
    '203.0.113.11/32 via 192.0.2.11',
    '203.0.113.12/32 via 192.0.2.12',
    '203.0.113.13/32 via 192.0.2.13',
  ]);
  const confirmed = site({ ...intent, floatingIps: intent.floatingIps.map((f) => (f.id === 'f2' ? { ...f, activeChassis: 'c3' } : f)) });
  assert.equal(routesForCentral(confirmed).find((r) => r.prefix === '198.51.100.8/32')?.nextHop, '192.0.2.13');
});

// ---------------------------------------------------------------------------
// Properties over random sites.

const arbSite = fc.record({
  nChassis: fc.integer({ min: 1, max: 4 }),
  ports: fc.array(fc.record({ tenant: fc.constantFrom('t1', 't2', 't3', 't4'), host: fc.integer({ min: 0, max: 4 }), v6: fc.boolean() }), { maxLength: 12 }),
  fips: fc.array(fc.record({ port: fc.integer({ min: -1, max: 11 }), standby: fc.integer({ min: -1, max: 11 }), active: fc.integer({ min: -1, max: 4 }) }), { maxLength: 12 }),
  central: fc.boolean(),
  replace: fc.boolean(),
  seed: fc.integer(),
});

type SiteArgs = typeof arbSite extends fc.Arbitrary<infer T> ? T : never;

function build(a: SiteArgs): Intent {
  const names = Array.from({ length: a.nChassis }, (_, i) => `c${i + 1}`);
  const subnetOf: Record<string, [string, string]> = { t1: ['10.0.0', '2001:db8:1::'], t2: ['10.0.0', '2001:db8:2::'], t3: ['10.3.0', '2001:db8:3::'], t4: ['10.4.0', '2001:db8:4::'] };
  const ports = a.ports.map((p, i) => port(`p${i}`, p.tenant, p.v6 ? `${subnetOf[p.tenant]![1]}${i + 5}` : `${subnetOf[p.tenant]![0]}.${i + 5}`, names[p.host] ?? null, `tap${i}`));
  const fips = a.fips.flatMap((f, i) => {
    const p = ports[f.port];
    const s = ports[f.standby];
    const v6 = p ? p.fixedIp.includes(':') : false;
    return [fip(`f${i}`, v6 ? `2001:db8:f::${i + 16}` : `198.51.100.${i + 16}`, p?.id ?? null, {
      tenant: p?.tenant ?? 't1', network: v6 ? 'ext6' : 'ext',
      ...(p && s && s !== p && s.tenant === p.tenant ? { standbyPortId: s.id } : {}),
      ...(names[f.active] ? { activeChassis: names[f.active] } : {}),
    })];
  });
  const base = site();
  return {
    ...base,
    chassis: names.map((n, i) => chassis(n, 11 + i, i % 2 ? { uplinkIpv6: `2001:db8:ff::${i + 11}` } : {})),
    tenants: base.tenants.map((t) => (t.id === 't2' ? { ...t, subnets: ['10.0.0.0/24', '2001:db8:2::/64'] } : t)),
    ports, floatingIps: fips,
    speakers: [{ ...SETTINGS, mode: a.central ? 'central' : 'per-chassis' }],
  };
}

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('property: sorted, one route per key, valid for the speaker, independent of input order', () => {
  fc.assert(fc.property(arbSite, (a) => {
    const intent = build(a);
    const opts = { vrfRoutes: a.replace ? 'replace' as const : 'add' as const };
    const shuffled: Intent = {
      ...intent,
      chassis: shuffle(intent.chassis, a.seed), ports: shuffle(intent.ports, a.seed + 1), floatingIps: shuffle(intent.floatingIps, a.seed + 2), tenants: shuffle(intent.tenants, a.seed + 3),
    };
    const sets = a.central ? [routesForCentral(intent, opts)] : intent.chassis.map((c) => routesForChassis(intent, c.name, opts));
    const again = a.central ? [routesForCentral(shuffled, opts)] : intent.chassis.map((c) => routesForChassis(shuffled, c.name, opts));
    assert.deepEqual(again, sets);
    for (const rs of sets) {
      valid(rs);
      const keys = rs.map(routeSpecKey);
      assert.equal(new Set(keys).size, keys.length);
      for (let i = 1; i < rs.length; i++) assert.ok(compareRoutes(rs[i - 1]!, rs[i]!) < 0);
    }
    // Every associated, bound FIP on an l3 network is carried by exactly one chassis' normal route.
    if (!a.central) {
      for (const f of intent.floatingIps) {
        const host = intent.ports.find((p) => p.id === f.portId)?.chassis;
        if (!host) continue;
        const normal = intent.chassis.filter((c) => routesForChassis(intent, c.name, opts).some((r) => r.prefix.startsWith(`${f.address}/`) && !r.asPathPrepend && !(r.communities ?? []).includes('65000:666')));
        assert.ok(normal.some((c) => c.name === host), `${f.id} announced by ${host}`);
      }
    }
  }), { numRuns: 150 });
});
