// diffRoutes: by routeSpecKey; attribute changes are re-announced; canonical form ignores key order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalRoute, diffRoutes, sameRoute } from './diff.js';
import { compareRoutes, sortRoutes } from './routes.js';
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

test('sameRoute agrees with canonicalRoute; sortRoutes is the order of compareRoutes (random routes)', () => {
  const route = fc.record({
    v6: fc.boolean(),
    a: fc.integer({ min: 0, max: 0xffffffff }),
    len: fc.integer({ min: 0, max: 32 }),
    rd: fc.option(fc.constantFrom('65000:1', '65000:2'), { nil: undefined }),
    communities: fc.option(fc.subarray(['65000:1', '65000:2', 'no-export']), { nil: undefined }),
    vpn: fc.boolean(),
  }).map(({ v6, a, len, rd, communities, vpn }): RouteSpec => {
    const addr = v6 ? `2001:db8::${(a >>> 16).toString(16)}:${(a & 0xffff).toString(16)}` : [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
    const fam = vpn ? (v6 ? 'ipv6-vpn' : 'ipv4-vpn') : v6 ? 'ipv6-unicast' : 'ipv4-unicast';
    return { family: fam, prefix: `${addr}/${v6 ? len + 96 : len}`, nextHop: '192.0.2.11', ...(vpn ? { rd: rd ?? '65000:9', routeTargets: ['65000:1'] } : {}), communities };
  });
  fc.assert(fc.property(fc.array(route, { maxLength: 40 }), (routes) => {
    const byCompare = [...routes].sort(compareRoutes);
    assert.deepEqual(sortRoutes(routes), byCompare);
    for (let i = 1; i < byCompare.length; i++) assert.ok(compareRoutes(byCompare[i - 1]!, byCompare[i]!) <= 0);
    for (const x of routes) for (const y of routes) assert.equal(sameRoute(x, y), canonicalRoute(x) === canonicalRoute(y));
  }));
});
