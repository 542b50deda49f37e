// planNat: the NAT desired state of one chassis from intent; NAT's own validator
// (validateDesired) is the oracle that the output is what NatManager.reconcile() accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_CONFIG, validateDesired, type NatConfig } from '../nat/index.js';
import { assignZones, fnv1a, planNat } from './nat.js';
import { chassis, fip, port, site } from './testing/fixture.js';

const CONFIG: NatConfig = { ...DEFAULT_CONFIG, externalInterface: 'eth0' };

test('local tenants, ports and active FIPs; zones from the tenant id; SNAT through the chassis address', () => {
  const plan = planNat(site({ floatingIps: [fip('f1', '198.51.100.7', 'p1'), fip('f2', '198.51.100.8', 'p2'), fip('f6', '2001:db8:f::20', 'p6', { network: 'ext6' })] }), 'c1');
  const z1 = (fnv1a('t1') % 65535) + 1;
  const z2 = (fnv1a('t2') % 65535) + 1;
  assert.deepEqual(plan.desired, {
    tenants: [
      { id: 't1', zone: z1, subnets: ['10.0.0.0/24', '2001:db8:1::/64'], ifaces: ['tap1', 'tap6'], snat: { address: '203.0.113.11' } },
      { id: 't2', zone: z2, subnets: ['10.0.0.0/24'], ifaces: ['tap3'], snat: { address: '203.0.113.11' } },
    ],
    ports: [
      { tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap1' },
      { tenant: 't1', fixedIp: '2001:db8:1::5', iface: 'tap6' },
      { tenant: 't2', fixedIp: '10.0.0.5', iface: 'tap3' },
    ],
    fips: [
      { fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.5' },
      { fip: '2001:db8:f::20', tenant: 't1', fixedIp: '2001:db8:1::5' },
    ],
  });
  assert.deepEqual(plan.skipped, []);
  assert.doesNotThrow(() => validateDesired(plan.desired, CONFIG));
});

test('hot standby: the standby chassis pre-programs the FIP on the standby port', () => {
  const plan = planNat(site({ floatingIps: [fip('f1', '198.51.100.7', 'p1', { standbyPortId: 'p2' })] }), 'c2');
  assert.deepEqual(plan.desired.fips, [{ fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.6' }]);
  assert.doesNotThrow(() => validateDesired(plan.desired, CONFIG));
});

test('conflicts: an active FIP beats a standby one on the same fixed IP; a FIP equal to a SNAT address is refused', () => {
  const intent = site({
    floatingIps: [
      fip('fa', '198.51.100.7', 'p1', { standbyPortId: 'p2' }), // c2 stands by on p2
      fip('fb', '198.51.100.8', 'p2'), // ...but p2 is also active for fb
      fip('fc', '203.0.113.12', 'p2', { network: 'other' }),
    ],
  });
  const plan = planNat(intent, 'c2');
  assert.deepEqual(plan.desired.fips, [{ fip: '198.51.100.8', tenant: 't1', fixedIp: '10.0.0.6' }]);
  assert.deepEqual(plan.skipped.map((s) => s.source), ['floatingip/fa', 'floatingip/fc']);
  assert.doesNotThrow(() => validateDesired(plan.desired, CONFIG));
});

test('make before break: the old chassis keeps its previous NAT entry while draining, then drops it', () => {
  const before = planNat(site({ floatingIps: [fip('f1', '198.51.100.7', 'p1', { activeChassis: 'c1' })] }), 'c1');
  const draining = planNat(site({ floatingIps: [fip('f1', '198.51.100.7', 'p2', { activeChassis: 'c1' })] }), 'c1', { previous: before.desired, previousZones: before.zones });
  assert.deepEqual(draining.desired.fips, [{ fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.5' }]);
  const done = planNat(site({ floatingIps: [fip('f1', '198.51.100.7', 'p2', { activeChassis: 'c2' })] }), 'c1', { previous: draining.desired });
  assert.deepEqual(done.desired.fips, []);
  // Without a previous state there is nothing to keep.
  assert.deepEqual(planNat(site({ floatingIps: [fip('f1', '198.51.100.7', 'p2', { activeChassis: 'c1' })] }), 'c1').desired.fips, []);
});

test('ports that cannot be programmed are reported, not fatal', () => {
  const intent = site({
    ports: [
      port('p1', 't1', '10.0.0.5', 'c1', 'tap1'),
      port('px', 't1', '10.9.9.9', 'c1', 'tapx'), // outside the tenant's subnets
      port('py', 'ghost', '10.0.0.7', 'c1', 'tapy'), // unknown tenant
      port('pz', 't2', '10.0.0.8', 'c1', 'tap1'), // interface of another tenant
      port('pn', 't1', '10.0.0.9', 'c1'), // no interface: FIP only
    ],
    floatingIps: [fip('fn', '198.51.100.9', 'pn'), fip('fx', '198.51.100.10', 'px')],
  });
  const plan = planNat(intent, 'c1');
  assert.deepEqual(plan.skipped.map((s) => s.source), ['floatingip/fx', 'port/px', 'port/py', 'port/pz']);
  assert.deepEqual(plan.desired.fips, [{ fip: '198.51.100.9', tenant: 't1', fixedIp: '10.0.0.9' }]);
  assert.doesNotThrow(() => validateDesired(plan.desired, CONFIG));
});

test('SNAT: IPv4 addresses only, one picked per tenant by its id; none when the chassis has none', () => {
  const two = site({ chassis: [chassis('c1', 11, { snatAddresses: ['2001:db8:ff::1', '203.0.113.21', '203.0.113.22'] })] });
  const plan = planNat(two, 'c1');
  for (const t of plan.desired.tenants) assert.equal(t.snat?.address, ['203.0.113.21', '203.0.113.22'][fnv1a(t.id) % 2]);
  const none = planNat(site({ chassis: [chassis('c1', 11, { snatAddresses: [] })] }), 'c1');
  assert.ok(none.desired.tenants.every((t) => t.snat === undefined));
});

test('assignZones: stable for tenants that stay, distinct always, probes past collisions', () => {
  const a = assignZones(['x', 'y', 'z']);
  assert.equal(new Set(a.values()).size, 3);
  const b = assignZones(['y', 'w'], a);
  assert.equal(b.get('y'), a.get('y'));
  // Force a collision: w's natural zone is taken by a previous tenant.
  const wz = (fnv1a('w') % 65535) + 1;
  const c = assignZones(['w', 'q'], new Map([['q', wz]]));
  assert.equal(c.get('q'), wz);
  assert.equal(c.get('w'), (wz % 65535) + 1);
  // A previous zone out of range or taken twice is reassigned.
  const d = assignZones(['m', 'n'], new Map([['m', 7], ['n', 7]]));
  assert.equal(d.get('m'), 7);
  assert.notEqual(d.get('n'), 7);
});

test('property: the plan always passes NAT validation, whatever the site', () => {
  const arb = fc.record({
    ports: fc.array(fc.record({ t: fc.constantFrom('t1', 't2', 't3'), host: fc.constantFrom('c1', 'c2', null), ip: fc.integer({ min: 2, max: 12 }), iface: fc.integer({ min: 0, max: 8 }) }), { maxLength: 12 }),
    fips: fc.array(fc.record({ p: fc.integer({ min: -1, max: 11 }), s: fc.integer({ min: -1, max: 11 }), a: fc.constantFrom('c1', 'c2', undefined), addr: fc.integer({ min: 1, max: 6 }) }), { maxLength: 10 }),
  });
  fc.assert(fc.property(arb, (x) => {
    const ports = x.ports.map((p, i) => port(`p${i}`, p.t, p.t === 't3' ? `10.3.0.${p.ip}` : `10.0.0.${p.ip}`, p.host, `tap${p.iface}`));
    const fips = x.fips.map((f, i) => fip(`f${i}`, f.addr === 1 ? '203.0.113.11' : `198.51.100.${f.addr}`, ports[f.p]?.id ?? null, {
      network: `n${i}`, ...(ports[f.s] && ports[f.p] && f.s !== f.p ? { standbyPortId: ports[f.s]!.id } : {}), ...(f.a ? { activeChassis: f.a } : {}),
    }));
    let previous;
    for (const c of ['c1', 'c2']) {
      const first = planNat(site({ ports, floatingIps: fips }), c);
      validateDesired(first.desired, CONFIG);
      previous = first.desired;
      const again = planNat(site({ ports: [...ports].reverse(), floatingIps: [...fips].reverse() }), c, { previous, previousZones: first.zones });
      validateDesired(again.desired, CONFIG);
      assert.deepEqual(again.desired, first.desired);
    }
  }), { numRuns: 200 });
});
