// Pure parts of the agent: the make-before-break NAT union and neighbors from the chassis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unionNat, neighborsFor } from './agent.js';
import { parseAgentConfig } from './config.js';
import type { NatDesired } from '../nat/index.js';
import type { Chassis } from '../store/index.js';

const tenant = (id: string, zone: number, ifaces: string[]) => ({ id, zone, subnets: ['10.0.0.0/24'], ifaces });

test('unionNat keeps a leaving FIP until the next pass, but never two FIPs on one fixed IP', () => {
  const prev: NatDesired = {
    tenants: [tenant('t1', 11, ['tap-vm1'])],
    ports: [{ tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap-vm1' }],
    fips: [{ fip: '198.51.100.7', tenant: 't1', fixedIp: '10.0.0.5' }],
  };
  const moved: NatDesired = { tenants: [tenant('t1', 11, ['tap-vm1'])], ports: [{ tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap-vm1' }], fips: [] };
  assert.deepEqual(unionNat(moved, prev).fips, prev.fips, 'the FIP stays while its route is withdrawn');
  const replaced: NatDesired = { ...moved, fips: [{ fip: '198.51.100.8', tenant: 't1', fixedIp: '10.0.0.5' }] };
  assert.deepEqual(unionNat(replaced, prev).fips, replaced.fips, 'a new FIP on the same fixed IP wins at once');
  const gone: NatDesired = { tenants: [], ports: [], fips: [] };
  const u = unionNat(gone, prev);
  assert.deepEqual(u.tenants.map((t) => t.id), ['t1']);
  assert.equal(u.fips.length, 1);
  assert.equal(unionNat(moved, undefined), moved);
});

test('neighbors come from the agent config, else from the chassis object (BFD 100 ms x 3 when asked)', () => {
  const chassis = { name: 'c1', uplinkIp: '192.0.2.11', localAsn: 65011, snatAddresses: [], bgpNeighbors: [{ address: '192.0.2.1', asn: 65000, bfd: true }] } as unknown as Chassis;
  const fromChassis = neighborsFor(parseAgentConfig({ chassis: 'c1' }), chassis);
  assert.equal(fromChassis.length, 1);
  assert.deepEqual(fromChassis[0]!.bfd, { minTx: 100, minRx: 100, multiplier: 3 });
  assert.deepEqual(fromChassis[0]!.families, ['ipv4-unicast']);
  const fromConfig = neighborsFor(parseAgentConfig({ chassis: 'c1', bgp: { neighbors: [{ address: '192.0.2.9', asn: 65009 }] } }), chassis);
  assert.deepEqual(fromConfig.map((n) => n.address), ['192.0.2.9']);
});
