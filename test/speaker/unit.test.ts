// Unit tests (no root) of the speaker pieces the interop tests rely on: the next hop of the
// other address family picked from the interface of the session's local address, and the
// neighbor settings added for the interop work (idleHoldTime, idleHoldMaxTime, delayOpen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { otherFamilyNextHop } from '../../bgp/speaker.js';
import { parseNeighbor, ConfigError } from '../../bgp/config.js';

const a = (address: string, internal = false): NetworkInterfaceInfo => ({
  address, internal, family: address.includes(':') ? 'IPv6' : 'IPv4', netmask: '', mac: '00:00:00:00:00:00', cidr: null,
  ...(address.includes(':') ? { scopeid: 0 } : {}),
} as NetworkInterfaceInfo);

test('otherFamilyNextHop: the first global address of the other family on the session\'s interface', () => {
  const ifaces = {
    lo: [a('127.0.0.1', true), a('::1', true)],
    'to-frr': [a('192.0.2.1'), a('fe80::1'), a('2001:db8:1::1')],
    'to-bird': [a('192.0.2.5'), a('2001:db8:2::1')],
  };
  assert.equal(otherFamilyNextHop('192.0.2.1', ifaces), '2001:db8:1::1', 'link-local skipped');
  assert.equal(otherFamilyNextHop('192.0.2.5', ifaces), '2001:db8:2::1', 'the interface of the session, not the first one');
  assert.equal(otherFamilyNextHop('2001:db8:2::1', ifaces), '192.0.2.5');
  assert.equal(otherFamilyNextHop('198.51.100.1', ifaces), undefined, 'unknown local address');
  assert.equal(otherFamilyNextHop(undefined, ifaces), undefined);
  assert.equal(otherFamilyNextHop('192.0.2.1', { eth0: [a('192.0.2.1'), a('fe80::1')] }), undefined, 'no global IPv6: none');
});

test('neighbor config: idleHoldTime, idleHoldMaxTime and delayOpen with defaults and bounds', () => {
  const n = parseNeighbor({ address: '192.0.2.2', asn: 65000 }, 'neighbors[0].');
  assert.deepEqual([n.idleHoldTime, n.idleHoldMaxTime, n.delayOpen], [5, 300, undefined]);
  const m = parseNeighbor({ address: '192.0.2.2', asn: 65000, idleHoldTime: 1, idleHoldMaxTime: 2, delayOpen: 3 }, 'neighbors[0].');
  assert.deepEqual([m.idleHoldTime, m.idleHoldMaxTime, m.delayOpen], [1, 2, 3]);
  assert.throws(() => parseNeighbor({ address: '192.0.2.2', asn: 65000, idleHoldTime: 10, idleHoldMaxTime: 5 }, 'neighbors[0].'),
    (e: unknown) => e instanceof ConfigError && e.field === 'neighbors[0].idleHoldMaxTime');
  assert.throws(() => parseNeighbor({ address: '192.0.2.2', asn: 65000, delayOpen: -1 }, 'neighbors[0].'),
    (e: unknown) => e instanceof ConfigError && e.field === 'neighbors[0].delayOpen');
});
