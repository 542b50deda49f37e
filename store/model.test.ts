import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkReferences,
  communityProblem,
  parseObject,
  parseRouteDistinguisher,
  referencesOf,
  uniqueKeys,
  type ExternalNetwork,
  type FloatingIp,
  type Kind,
  type KindMap,
  type Port,
  type Tenant,
} from './model.js';

function ok<K extends Kind>(kind: K, input: unknown): KindMap[K] {
  const r = parseObject(kind, input);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.value;
}
function fields(kind: Kind, input: unknown): string[] {
  const r = parseObject(kind, input);
  assert.ok(!r.ok, 'expected errors');
  return r.errors.map((e) => e.field);
}
function errs(kind: Kind, input: unknown): Array<{ field: string; message: string }> {
  const r = parseObject(kind, input);
  assert.ok(!r.ok, 'expected errors');
  return r.errors;
}

describe('chassis', () => {
  const good = { name: 'compute-1', uplinkIp: '192.0.2.11', snatAddresses: ['203.0.113.11'], localAsn: 65011, bgpNeighbors: [{ address: '192.0.2.1', asn: 65000, bfd: true, families: ['ipv4-unicast', 'l2vpn-evpn'] }] };
  test('valid, normalized', () => {
    assert.deepEqual(ok('chassis', good), good);
    const c = ok('chassis', { name: 'c', uplinkIp: '2001:DB8::11', routerId: '192.0.2.11', localAsn: 4200000000 });
    assert.equal(c.uplinkIp, '2001:db8::11');
    assert.deepEqual(c.snatAddresses, []);
    assert.deepEqual(c.bgpNeighbors, []);
  });
  test('errors name their fields', () => {
    assert.deepEqual(fields('chassis', { ...good, name: 'a/b' }), ['name']);
    assert.deepEqual(fields('chassis', { ...good, localAsn: 23456 }), ['localAsn']);
    assert.deepEqual(fields('chassis', { ...good, localAsn: 4294967295 }), ['localAsn']);
    assert.deepEqual(fields('chassis', { ...good, snatAddresses: ['203.0.113.11', 'x', '203.0.113.11'] }), ['snatAddresses[1]', 'snatAddresses[2]']);
    assert.deepEqual(fields('chassis', { ...good, bgpNeighbors: [{ address: '192.0.2.1', asn: 65000, families: ['ipv4-multicast'] }] }), ['bgpNeighbors[0].families[0]']);
    assert.deepEqual(fields('chassis', { ...good, bgpNeighbors: [{ address: '192.0.2.1', asn: 1 }, { address: '192.0.2.1', asn: 2 }] }), ['bgpNeighbors[1].address']);
    assert.deepEqual(fields('chassis', { ...good, uplinkIp: '2001:db8::1' }), ['routerId']);
    assert.deepEqual(fields('chassis', { ...good, routerId: '2001:db8::1' }), ['routerId']);
    assert.deepEqual(fields('chassis', { ...good, uplinkIpv6: '192.0.2.1' }), ['uplinkIpv6']);
    assert.deepEqual(fields('chassis', { ...good, color: 'red' }), ['color']);
    assert.deepEqual(fields('chassis', { name: 'c' }), ['uplinkIp', 'localAsn']);
    assert.deepEqual(fields('chassis', []), ['']);
  });
});

describe('external network', () => {
  const good = { id: 'ext', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', pools: [{ start: '198.51.100.10', end: '198.51.100.99' }], mode: 'l3', addressScope: 'public' };
  test('valid; mode defaults to l3', () => {
    assert.deepEqual(ok('network', good), good);
    const { mode: _m, ...noMode } = good;
    assert.equal(ok('network', noMode).mode, 'l3');
  });
  test('pools must sit inside the CIDR, be ordered, disjoint, and avoid network, broadcast and gateway', () => {
    assert.deepEqual(errs('network', { ...good, pools: [{ start: '198.51.101.10', end: '198.51.100.20' }] }), [
      { field: 'pools[0].start', message: '198.51.101.10 is outside 198.51.100.0/24' },
      { field: 'pools[0].end', message: '198.51.100.20 is before start 198.51.101.10' },
    ]);
    assert.deepEqual(fields('network', { ...good, pools: [{ start: '198.51.100.20', end: '198.51.100.10' }] }), ['pools[0].end']);
    assert.deepEqual(fields('network', { ...good, pools: [{ start: '198.51.100.10', end: '198.51.100.20' }, { start: '198.51.100.20', end: '198.51.100.30' }] }), ['pools[1]']);
    assert.deepEqual(fields('network', { ...good, pools: [{ start: '198.51.100.0', end: '198.51.100.20' }] }), ['pools[0].start', 'pools[0]']);
    assert.deepEqual(fields('network', { ...good, pools: [{ start: '198.51.100.200', end: '198.51.100.255' }] }), ['pools[0].end']);
    assert.deepEqual(errs('network', { ...good, pools: [{ start: '198.51.100.1', end: '198.51.100.5' }] }), [{ field: 'pools[0]', message: 'the pool 198.51.100.1-198.51.100.5 contains the gateway 198.51.100.1' }]);
    assert.deepEqual(fields('network', { ...good, pools: [] }), ['pools']);
    assert.deepEqual(errs('network', { ...good, cidr: '198.51.100.7/24' }), [{ field: 'cidr', message: '198.51.100.7/24 has host bits set (did you mean 198.51.100.0/24?)' }]);
    assert.deepEqual(fields('network', { ...good, mode: 'l4' }), ['mode']);
  });
  test('IPv6 networks', () => {
    const n = ok('network', { id: 'v6', cidr: '2001:db8:100::/64', pools: [{ start: '2001:db8:100::10', end: '2001:db8:100::ffff' }] });
    assert.equal(n.pools[0]!.end, '2001:db8:100::ffff');
  });
});

describe('tenant and VRF', () => {
  test('MPLS VRF (VPNv4/VPNv6) and EVPN VRF (type 5)', () => {
    const m = ok('tenant', { id: 't1', subnets: ['10.0.0.0/24'], vrf: { rd: '65000:1', importRts: ['65000:1'], exportRts: ['65000:1'], label: 100 } });
    assert.deepEqual(m.vrf, { rd: '65000:1', importRts: ['65000:1'], exportRts: ['65000:1'], label: 100 });
    const e = ok('tenant', { id: 't2', subnets: ['10.0.0.0/24'], vrf: { rd: '192.0.2.1:5', importRts: ['4200000000:5'], exportRts: ['4200000000:5'], vni: 5000, routerMac: '02:AA:00:00:00:01' } });
    assert.deepEqual(e.vrf, { rd: '192.0.2.1:5', importRts: ['4200000000:5'], exportRts: ['4200000000:5'], vni: 5000, routerMac: '02:aa:00:00:00:01' });
  });
  test('VRF errors name their fields', () => {
    const base = { id: 't', subnets: ['10.0.0.0/24'] };
    assert.deepEqual(fields('tenant', { ...base, vrf: { rd: '65000', importRts: [], exportRts: [] } }), ['vrf.rd']);
    assert.deepEqual(fields('tenant', { ...base, vrf: { rd: '65000:1', importRts: ['x'], exportRts: [] } }), ['vrf.importRts[0]']);
    assert.deepEqual(fields('tenant', { ...base, vrf: { rd: '65000:1', importRts: [], exportRts: [], label: 3 } }), ['vrf.label']);
    assert.deepEqual(fields('tenant', { ...base, vrf: { rd: '65000:1', importRts: [], exportRts: [], vni: 1 } }), ['vrf.routerMac']);
    assert.deepEqual(fields('tenant', { ...base, vrf: { rd: '65000:1', importRts: [], exportRts: [], vni: 1, routerMac: '01:00:5e:00:00:01' } }), ['vrf.routerMac']);
    assert.deepEqual(fields('tenant', { ...base, vrf: { rd: '65000:1', importRts: [], exportRts: [], vni: 16777216, routerMac: '02:00:00:00:00:01', label: 20 } }), ['vrf.label', 'vrf.vni']);
  });
  test('subnets must not overlap one another', () => {
    assert.deepEqual(errs('tenant', { id: 't', subnets: ['10.0.0.0/16', '10.0.1.0/24'] }), [{ field: 'subnets[1]', message: '10.0.1.0/24 overlaps 10.0.0.0/16 (subnets[0])' }]);
    assert.deepEqual(fields('tenant', { id: 't', subnets: [] }), ['subnets']);
  });
  test('route distinguishers (RFC 4364 §4.2)', () => {
    assert.deepEqual(parseRouteDistinguisher('65000:4294967295'), { ok: true, text: '65000:4294967295' });
    assert.equal(parseRouteDistinguisher('65000:4294967296').ok, false);
    assert.deepEqual(parseRouteDistinguisher('4200000000:65535'), { ok: true, text: '4200000000:65535' });
    assert.equal(parseRouteDistinguisher('4200000000:65536').ok, false);
    assert.deepEqual(parseRouteDistinguisher('192.0.2.1:65535'), { ok: true, text: '192.0.2.1:65535' });
    assert.equal(parseRouteDistinguisher('192.0.2.1:65536').ok, false);
    assert.equal(parseRouteDistinguisher('2001:db8::1:5').ok, false);
    assert.equal(parseRouteDistinguisher(':5').ok, false);
  });
});

describe('speaker settings', () => {
  test('defaults and communities per route class (RFC 1997, RFC 8092)', () => {
    const s = ok('speaker', { id: 'default', communities: { fip: ['65000:100', 'no-export'], standby: ['65000:1:2'] } });
    assert.deepEqual(s, { id: 'default', advertiseFipHostRoutes: true, advertiseSnatAddresses: true, advertiseTenantPrefixes: false, mode: 'per-chassis', standbyAsPathPrepend: 3, communities: { fip: ['65000:100', 'no-export'], standby: ['65000:1:2'] } });
    assert.deepEqual(fields('speaker', { id: 'default', communities: { fip: ['65536:1'], bogus: [] } }), ['communities.bogus', 'communities.fip[0]']);
    assert.deepEqual(fields('speaker', { id: 'default', standbyAsPathPrepend: 11, mode: 'sideways' }), ['mode', 'standbyAsPathPrepend']);
    assert.equal(communityProblem('4294967295:0:4294967295'), undefined);
    assert.ok(communityProblem('1:2:3:4'));
  });
});

describe('references and unique values', () => {
  const tenant: Tenant = { id: 't1', subnets: ['10.0.0.0/24', '2001:db8:1::/64'] };
  const network: ExternalNetwork = { id: 'ext', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', pools: [{ start: '198.51.100.10', end: '198.51.100.20' }], mode: 'l3' };
  const p1: Port = { id: 'p1', tenant: 't1', fixedIp: '10.0.0.5', chassis: 'c1' };
  const p2: Port = { id: 'p2', tenant: 't1', fixedIp: '10.0.0.6', chassis: 'c2' };
  const p3: Port = { id: 'p3', tenant: 't1', fixedIp: '10.0.0.7', chassis: 'c1' };
  const p6: Port = { id: 'p6', tenant: 't1', fixedIp: '2001:db8:1::6', chassis: 'c2' };
  const other: Port = { id: 'px', tenant: 't2', fixedIp: '10.0.0.5', chassis: 'c3' };
  const objects: Record<string, unknown> = { 'tenant/t1': tenant, 'network/ext': network, 'port/p1': p1, 'port/p2': p2, 'port/p3': p3, 'port/p6': p6, 'port/px': other };
  const lookup = <K extends Kind>(kind: K, id: string): KindMap[K] | undefined => objects[`${kind}/${id}`] as KindMap[K] | undefined;
  const fip = (f: Partial<FloatingIp>): FloatingIp => ({ id: 'f', address: '198.51.100.10', network: 'ext', tenant: 't1', portId: 'p1', ...f });

  test('a port needs its tenant and a fixed IP inside one of its subnets', () => {
    assert.deepEqual(checkReferences('port', p1, lookup), []);
    assert.deepEqual(checkReferences('port', { ...p1, fixedIp: '10.1.0.5' }, lookup), [{ field: 'fixedIp', message: '10.1.0.5 is outside subnets 10.0.0.0/24, 2001:db8:1::/64 of tenant t1' }]);
    assert.deepEqual(checkReferences('port', { ...p1, tenant: 'nope' }, lookup), [{ field: 'tenant', message: 'tenant nope does not exist' }]);
    assert.deepEqual(referencesOf('port', p1), [{ kind: 'tenant', id: 't1' }]);
  });

  test('a floating IP: network, address, tenant, ports of the same tenant and family, standby on another chassis', () => {
    assert.deepEqual(checkReferences('floatingip', fip({ standbyPortId: 'p2' }), lookup), []);
    const one = (f: Partial<FloatingIp>): string[] => checkReferences('floatingip', fip(f), lookup).map((e) => `${e.field}: ${e.message}`);
    assert.deepEqual(one({ address: '198.51.101.10' }), ['address: 198.51.101.10 is outside 198.51.100.0/24 of network ext']);
    assert.deepEqual(one({ address: '198.51.100.255' }), ['address: 198.51.100.255 is the network or broadcast address of 198.51.100.0/24']);
    assert.deepEqual(one({ address: '198.51.100.1' }), ['address: 198.51.100.1 is the gateway of network ext']);
    assert.deepEqual(one({ network: 'nope' }), ['network: network nope does not exist']);
    assert.deepEqual(one({ portId: 'px' }), ['portId: port px belongs to tenant t2, not t1']);
    assert.deepEqual(one({ portId: 'p6' }), ['portId: port p6 has IPv6 address 2001:db8:1::6 but 198.51.100.10 is IPv4']);
    assert.deepEqual(one({ standbyPortId: 'p3' }), ['standbyPortId: port p3 is on chassis c1, the same as port p1; a standby must be on another chassis']);
    assert.deepEqual(one({ portId: 'gone' }), ['portId: port gone does not exist']);
  });

  test('a floating IP may sit outside the pools but inside the CIDR (given address)', () => {
    assert.deepEqual(checkReferences('floatingip', fip({ address: '198.51.100.200' }), lookup), []);
  });

  test('parse-level rules of a floating IP', () => {
    assert.deepEqual(fields('floatingip', { id: 'f', address: '198.51.100.10', network: 'ext', tenant: 't1', portId: 'p1', standbyPortId: 'p1' }), ['standbyPortId']);
    assert.deepEqual(fields('floatingip', { id: 'f', address: '198.51.100.10', network: 'ext', tenant: 't1', portId: null, standbyPortId: 'p2' }), ['standbyPortId']);
    assert.equal(ok('floatingip', { id: 'f', address: '198.51.100.10', network: 'ext', tenant: 't1' }).portId, null);
  });

  test('unique keys', () => {
    assert.deepEqual(uniqueKeys('floatingip', fip({})).map((u) => u.key), ['fipaddr/ext/198.51.100.10', 'fipport/p1']);
    assert.deepEqual(uniqueKeys('floatingip', fip({ portId: null })).map((u) => u.key), ['fipaddr/ext/198.51.100.10']);
    assert.deepEqual(uniqueKeys('port', p1).map((u) => u.key), ['portip/t1/10.0.0.5']);
    assert.deepEqual(uniqueKeys('chassis', { name: 'c', uplinkIp: '192.0.2.1', snatAddresses: ['203.0.113.1'], localAsn: 1, bgpNeighbors: [] }).map((u) => u.field), ['snatAddresses[0]']);
  });
});
