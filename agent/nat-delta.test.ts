// natDelta: the agent's NAT fast path applies exactly what changed, or nothing when the
// tenants changed (then a full reconcile runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deltaSize, natDelta, natDeltaAt } from './nat-delta.js';
import type { NatDesired } from '../nat/index.js';

const t1 = { id: 't1', zone: 11, subnets: ['10.0.0.0/24'], ifaces: ['tap-a', 'tap-b'], snat: { address: '203.0.113.1' } };
const base: NatDesired = {
  tenants: [t1],
  ports: [{ tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap-a' }, { tenant: 't1', fixedIp: '10.0.0.6', iface: 'tap-b' }],
  fips: [{ fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.5' }, { fip: '198.51.100.8', tenant: 't1', fixedIp: '10.0.0.6' }],
};

test('natDelta: equal states give an empty delta', () => {
  const d = natDelta(base, structuredClone(base))!;
  assert.equal(deltaSize(d), 0);
});

test('natDelta: added, re-pointed and removed FIPs; new, re-plugged and removed ports', () => {
  const next: NatDesired = {
    tenants: [{ ...t1, ifaces: ['tap-b', 'tap-a'] }], // order does not matter
    ports: [{ tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap-b' }, { tenant: 't1', fixedIp: '10.0.0.9', iface: 'tap-a' }],
    fips: [{ fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.9' }, { fip: '198.51.100.20', tenant: 't1', fixedIp: '10.0.0.5' }],
  };
  assert.deepEqual(natDelta(base, next), {
    setPorts: [{ tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap-b' }, { tenant: 't1', fixedIp: '10.0.0.9', iface: 'tap-a' }],
    addFips: [{ fip: '198.51.100.20', tenant: 't1', fixedIp: '10.0.0.5' }],
    moveFips: [{ fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.9' }],
    removeFips: [{ fip: '198.51.100.8', tenant: 't1', fixedIp: '10.0.0.6' }],
    removePorts: [{ tenant: 't1', fixedIp: '10.0.0.6', iface: 'tap-b' }],
  });
});

test('natDelta: any tenant change (zone, interfaces, SNAT, a tenant more) means a full reconcile', () => {
  assert.equal(natDelta(base, { ...base, tenants: [{ ...t1, zone: 12 }] }), undefined);
  assert.equal(natDelta(base, { ...base, tenants: [{ ...t1, ifaces: ['tap-a'] }] }), undefined);
  assert.equal(natDelta(base, { ...base, tenants: [{ ...t1, snat: { address: '203.0.113.2' } }] }), undefined);
  assert.equal(natDelta(base, { ...base, tenants: [t1, { id: 't2', zone: 12, subnets: [], ifaces: [] }] }), undefined);
});

test('natDelta: lists in any order give the same delta as sorted ones (map walk fallback)', () => {
  const next: NatDesired = {
    tenants: [t1],
    ports: [{ tenant: 't1', fixedIp: '10.0.0.9', iface: 'tap-a' }, { tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap-a' }],
    fips: [{ fip: '198.51.100.9', tenant: 't1', fixedIp: '10.0.0.9' }, { fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.5' }],
  };
  const sorted: NatDesired = { ...next, ports: [...next.ports].reverse(), fips: [...next.fips].reverse() };
  const a = natDelta(base, next)!;
  const b = natDelta(base, sorted)!;
  const norm = (d: typeof a) => JSON.stringify(Object.fromEntries(Object.entries(d).map(([k, v]) => [k, [...v].map((x) => JSON.stringify(x)).sort()])));
  assert.equal(norm(a), norm(b));
  assert.deepEqual(b.addFips.map((f) => f.fip), ['198.51.100.9']);
  assert.deepEqual(b.removeFips.map((f) => f.fip), ['198.51.100.8']);
  assert.deepEqual(b.setPorts.map((p) => p.fixedIp), ['10.0.0.9']);
  assert.deepEqual(b.removePorts.map((p) => p.fixedIp), ['10.0.0.6']);
});

test('natDeltaAt: the delta natDelta finds, looking only at the named addresses (property)', () => {
  const byFip = (d: ReturnType<typeof natDelta>) => d && Object.fromEntries(Object.entries(d).map(([k, v]) => [k, [...v].sort((a: any, b: any) => (a.fip ?? a.fixedIp).localeCompare(b.fip ?? b.fixedIp))]));
  fc.assert(fc.property(
    fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.constantFrom('add', 'remove', 'move')), { maxLength: 8 }),
    (have, changes) => {
      const fip = (n: number) => `198.51.100.${n}`;
      const fips = new Map(have.map((n) => [fip(n), { fip: fip(n), tenant: 't1', fixedIp: '10.0.0.5' }]));
      const prev: NatDesired = { tenants: base.tenants, ports: base.ports, fips: [...fips.values()].sort((a, b) => (a.fip < b.fip ? -1 : 1)) };
      const touched = new Set<string>();
      for (const [n, op] of changes) {
        touched.add(fip(n));
        if (op === 'remove') fips.delete(fip(n));
        else if (op === 'add') fips.set(fip(n), { fip: fip(n), tenant: 't1', fixedIp: '10.0.0.5' });
        else if (fips.has(fip(n))) fips.set(fip(n), { fip: fip(n), tenant: 't1', fixedIp: '10.0.0.6' });
      }
      const next: NatDesired = { tenants: prev.tenants, ports: prev.ports, fips: [...fips.values()].sort((a, b) => (a.fip < b.fip ? -1 : 1)) };
      // naming an unchanged address too changes nothing
      if (have.length) touched.add(fip(have[0]!));
      assert.deepEqual(byFip(natDeltaAt(prev, next, touched)), byFip(natDelta(prev, next)));
    },
  ));
  // other tenants or ports arrays: natDelta decides
  const other = { ...base, ports: [...base.ports] };
  assert.deepEqual(natDeltaAt(base, other, []), natDelta(base, other));
  assert.equal(natDeltaAt(base, { ...base, tenants: [{ ...t1, zone: 12 }] }, []), undefined);
});
