// A small site for dynrouting tests: three chassis, one l3 external network with an
// address scope, tenants with and without VRFs, ports and FIPs. Objects are built
// by hand (not through the store parser) so tests state exactly what they feed in.
import type { Chassis, ExternalNetwork, FloatingIp, Port, SpeakerSettings, Tenant } from '../../store/model.js';
import type { Intent } from '../intent.js';

export function chassis(name: string, n: number, extra: Partial<Chassis> = {}): Chassis {
  return { name, uplinkIp: `192.0.2.${n}`, snatAddresses: [`203.0.113.${n}`], localAsn: 65000 + n, bgpNeighbors: [{ address: '192.0.2.1', asn: 65000 }], ...extra };
}

export function port(id: string, tenant: string, fixedIp: string, chassisName: string | null, iface?: string): Port {
  return { id, tenant, fixedIp, chassis: chassisName, ...(iface ? { interfaceName: iface } : {}) };
}

export function fip(id: string, address: string, portId: string | null, extra: Partial<FloatingIp> = {}): FloatingIp {
  return { id, address, network: 'ext', tenant: 't1', portId, ...extra };
}

export const NET: ExternalNetwork = { id: 'ext', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.200' }], mode: 'l3', addressScope: 'public' };
export const NET6: ExternalNetwork = { id: 'ext6', cidr: '2001:db8:f::/64', pools: [{ start: '2001:db8:f::10', end: '2001:db8:f::ff' }], mode: 'l3', addressScope: 'public' };

export const SETTINGS: SpeakerSettings = {
  id: 'default', advertiseFipHostRoutes: true, advertiseSnatAddresses: true, advertiseTenantPrefixes: true,
  mode: 'per-chassis', standbyAsPathPrepend: 2,
  communities: { fip: ['65000:100'], snat: ['65000:200'], tenant: ['65000:300'], standby: ['65000:666'] },
};

export function tenants(): Tenant[] {
  return [
    { id: 't1', subnets: ['10.0.0.0/24', '2001:db8:1::/64'] },
    { id: 't2', subnets: ['10.0.0.0/24'], addressScope: 'public' },
    { id: 't3', subnets: ['10.3.0.0/24', '2001:db8:3::/64'], vrf: { rd: '65000:3', importRts: ['65000:3'], exportRts: ['65000:3'], label: 3003 } },
    { id: 't4', subnets: ['10.4.0.0/24'], vrf: { rd: '65000:4', importRts: ['65000:4'], exportRts: ['65000:4', '65000:44'], vni: 5004, routerMac: '02:00:00:00:00:04' } },
  ];
}

/** c1, c2, c3; ports p1 (t1 on c1), p2 (t1 on c2), p3 (t2 on c1), p6 (t1 v6 on c1). */
export function site(over: Partial<Intent> = {}): Intent {
  return {
    chassis: [chassis('c1', 11), chassis('c2', 12, { uplinkIpv6: '2001:db8:ff::12' }), chassis('c3', 13)],
    networks: [NET, NET6],
    tenants: tenants(),
    ports: [
      port('p1', 't1', '10.0.0.5', 'c1', 'tap1'),
      port('p2', 't1', '10.0.0.6', 'c2', 'tap2'),
      port('p3', 't2', '10.0.0.5', 'c1', 'tap3'),
      port('p6', 't1', '2001:db8:1::5', 'c1', 'tap6'),
    ],
    floatingIps: [],
    speakers: [SETTINGS],
    ...over,
  };
}
