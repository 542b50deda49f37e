// Speaker config and route objects: defaults, and errors that name the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpeakerConfig, ConfigError } from './config.js';
import { toCodecRoute, routeSpecKey, RouteSpecError, type RouteSpec } from './routespec.js';

const base = { asn: 65020, routerId: '192.0.2.20', neighbors: [{ address: '192.0.2.1', asn: 65000 }] };

test('speaker config: the issue example parses with defaults filled', () => {
  const c = parseSpeakerConfig({
    ...base,
    listen: { address: '0.0.0.0', port: 179 },
    api: { address: '127.0.0.1', port: 8179 },
    neighbors: [{ address: '192.0.2.1', asn: 65000, families: ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'l2vpn-evpn'], holdTime: 9 }],
    routes: [
      { prefix: '198.51.100.7/32', nextHop: '192.0.2.20', communities: ['65000:100'], largeCommunities: ['65020:1:1'] },
      { family: 'ipv4-vpn', prefix: '198.51.100.8/32', nextHop: '192.0.2.20', rd: '65020:10', routeTargets: ['65000:10'], label: 100 },
      { family: 'l2vpn-evpn', routeType: 5, prefix: '198.51.100.9/32', nextHop: '192.0.2.20', rd: '65020:20', routeTargets: ['65000:20'], vni: 5020, routerMac: '02:00:00:00:00:01' },
    ],
  });
  assert.equal(c.neighbors[0]!.holdTime, 9);
  assert.equal(c.neighbors[0]!.port, 179);
  assert.equal(c.neighbors[0]!.gracefulRestart, 120);
  assert.equal(c.routes.length, 3);
  const d = parseSpeakerConfig(base);
  assert.deepEqual(d.listen, { address: '0.0.0.0', port: 179 });
  assert.deepEqual(d.neighbors[0]!.families, ['ipv4-unicast']);
  assert.equal(d.neighbors[0]!.holdTime, 90);
});

test('speaker config: each bad field is named', () => {
  const cases: Array<[unknown, string]> = [
    [{ ...base, asn: 0 }, 'asn'],
    [{ ...base, routerId: '2001:db8::1' }, 'routerId'],
    [{ ...base, neighbors: [{ address: '192.0.2.1', asn: 65000, holdTime: 2 }] }, 'neighbors[0].holdTime'],
    [{ ...base, neighbors: [{ address: '192.0.2.300', asn: 65000 }] }, 'neighbors[0].address'],
    [{ ...base, neighbors: [{ address: '192.0.2.1', asn: 65000, families: ['ipv4-flowspec'] }] }, 'neighbors[0].families[0]'],
    [{ ...base, neighbors: [{ address: '192.0.2.1', asn: 65000, bfd: { minTx: 1 } }] }, 'neighbors[0].bfd.minTx'],
    [{ ...base, neighbors: [{ address: '192.0.2.1', asn: 65000, colour: 'blue' }] }, 'neighbors[0].colour'],
    [{ ...base, neighbors: [base.neighbors[0], base.neighbors[0]] }, 'neighbors[1].address'],
    [{ ...base, listen: { port: 70000 } }, 'listen.port'],
    [{ ...base, routes: [{ prefix: '198.51.100.7/33' }] }, 'routes[0].prefix'],
    [{ ...base, routes: [{ family: 'ipv4-vpn', prefix: '198.51.100.7/32', routeTargets: ['65000:1'] }] }, 'routes[0].rd'],
    [{ ...base, routes: [{ family: 'l2vpn-evpn', prefix: '198.51.100.7/32', rd: '1:1', routeTargets: ['65000:1'], vni: 0 }] }, 'routes[0].vni'],
  ];
  for (const [raw, field] of cases) {
    assert.throws(() => parseSpeakerConfig(raw), (e: unknown) => e instanceof ConfigError && e.field === field, `expected an error naming ${field}`);
  }
});

test('route objects: EVPN type 5 carries RT, VXLAN encapsulation and router MAC; keys identify routes', () => {
  const r = toCodecRoute({ family: 'l2vpn-evpn', routeType: 5, prefix: '198.51.100.9/32', rd: '65020:20', routeTargets: ['65000:20'], vni: 5020, routerMac: '02:00:00:00:00:01' });
  assert.equal(r.family, 'l2vpn-evpn');
  assert.deepEqual(r.nlri, { routeType: 5, rd: '65020:20', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, prefix: '198.51.100.9/32', gateway: '0.0.0.0', label: 5020 });
  assert.deepEqual(r.attributes.find((a) => a.type === 'EXTENDED_COMMUNITIES'), {
    type: 'EXTENDED_COMMUNITIES',
    values: [{ type: 'route-target', value: '65000:20' }, { type: 'encapsulation', tunnelType: 8 }, { type: 'router-mac', mac: '02:00:00:00:00:01' }],
  });
  const v6: RouteSpec = { prefix: '2001:db8::7/128', asPathPrepend: [65020, 65020], localPref: 50 };
  const c = toCodecRoute(v6);
  assert.equal(c.family, 'ipv6-unicast');
  assert.deepEqual(c.attributes.find((a) => a.type === 'AS_PATH'), { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65020, 65020] }] });
  assert.equal(routeSpecKey(v6), 'ipv6-unicast|2001:db8::7/128');
  assert.throws(() => toCodecRoute({ family: 'ipv6-unicast', prefix: '198.51.100.1/32' }), (e: unknown) => e instanceof RouteSpecError && e.field === 'prefix');
  assert.throws(() => toCodecRoute({ prefix: '198.51.100.1/32', communities: ['65000:100', 'x'] }), (e: unknown) => e instanceof RouteSpecError && e.field === 'communities[1]');
});
