// diffRoutes: by routeSpecKey; attribute changes are re-announced; canonical form ignores key order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRoute, diffRoutes } from './diff.js';
import type { RouteSpec } from '../bgp/routespec.js';

const r = (prefix: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({ family: prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast', prefix, nextHop: '192.0.2.11', ...extra });

test('adds new, removes gone, re-announces changed, leaves equal ones alone', () => {
  const cur = [r('198.51.100.7/32'), r('198.51.100.8/32', { communities: ['65000:100'] }), r('198.51.100.9/32')];
  const want = [r('198.51.100.10/32'), r('198.51.100.8/32', { communities: ['65000:200'] }), r('198.51.100.7/32')];
  const d = diffRoutes(cur, want);
  assert.deepEqual(d.add.map((x) => x.prefix), ['198.51.100.8/32', '198.51.100.10/32']);
  assert.deepEqual(d.remove.map((x) => x.prefix), ['198.51.100.9/32']);
  assert.deepEqual(diffRoutes(want, want), { add: [], remove: [] });
  assert.deepEqual(diffRoutes([], want).add.length, 3);
  assert.deepEqual(diffRoutes(want, []).remove.length, 3);
});

test('the key includes family and RD: the same prefix in two VRFs is two routes', () => {
  const a: RouteSpec = { family: 'ipv4-vpn', prefix: '10.0.0.0/24', rd: '65000:1', routeTargets: ['65000:1'], nextHop: '192.0.2.11' };
  const b: RouteSpec = { ...a, rd: '65000:2' };
  const d = diffRoutes([a], [a, b, r('10.0.0.0/24')]);
  assert.deepEqual(d.add.map((x) => `${x.family} ${x.rd ?? ''}`), ['ipv4-unicast ', 'ipv4-vpn 65000:2']);
  assert.deepEqual(diffRoutes([a, b], [b]).remove, [a]);
});

test('canonical form: key order and undefined fields do not matter', () => {
  const x = { prefix: '198.51.100.7/32', nextHop: '192.0.2.11', communities: ['65000:1'] } as RouteSpec;
  const y = { communities: ['65000:1'], med: undefined, nextHop: '192.0.2.11', prefix: '198.51.100.7/32' } as RouteSpec;
  assert.equal(canonicalRoute(x), canonicalRoute(y));
  assert.deepEqual(diffRoutes([x], [y]), { add: [], remove: [] });
  assert.notEqual(canonicalRoute(x), canonicalRoute({ ...x, communities: ['65000:2'] }));
});
