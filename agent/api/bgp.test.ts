// REST contract of /api/v1/bgp with a fake speaker: shapes, field-naming 4xx, auth, OpenAPI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServer } from './server.js';
import { bgpRoutes } from './bgp.js';
import { ERRORS } from './errors.js';
import { routeSpecKey, type RouteSpec } from '../../bgp/routespec.js';
import type { NeighborView, SpeakerApi } from '../../bgp/view.js';

function fakeSpeaker(): SpeakerApi & { routes: Map<string, RouteSpec> } {
  const routes = new Map<string, RouteSpec>();
  const zero = { open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0, total: 0 };
  const n: NeighborView = {
    address: '192.0.2.1', asn: 65000, state: 'Established', uptime: 12, holdTime: 9, keepalive: 3, families: ['ipv4-unicast'],
    capabilities: ['4-octet-as'], prefixes: { received: 1, accepted: 1, advertised: 0 }, messages: { sent: zero, received: zero }, flaps: 0,
  };
  return {
    asn: 65020, routerId: '192.0.2.20', routes,
    neighbors: () => [n],
    neighbor: (a) => (a === n.address ? n : undefined),
    rib: () => [],
    received: (a) => (a === n.address ? [] : undefined),
    advertised: (a) => (a === n.address ? [] : undefined),
    localRoutes: () => [...routes.values()],
    addRoutes: async (specs) => { for (const s of specs) routes.set(routeSpecKey(s), s); return specs.length; },
    removeRoutes: async (specs) => specs.filter((s) => routes.delete(routeSpecKey(s))).length,
    resetNeighbor: async () => true,
  };
}

async function app(token?: string) {
  const sp = fakeSpeaker();
  const a = await buildServer({ token });
  await a.register(bgpRoutes, { speaker: sp });
  await a.ready();
  return { a, sp };
}

test('GET neighbors and one neighbor; 404 names the address', async () => {
  const { a } = await app();
  const all = await a.inject({ url: '/api/v1/bgp/neighbors' });
  assert.equal(all.statusCode, 200);
  assert.equal(all.json()[0].state, 'Established');
  const missing = await a.inject({ url: '/api/v1/bgp/neighbors/192.0.2.99' });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json().error, { code: 'EF_ERR_NOT_FOUND', message: 'no neighbor 192.0.2.99', field: 'address' });
  await a.close();
});

test('POST routes: valid routes are added; a bad one names the field and adds nothing', async () => {
  const { a, sp } = await app();
  const ok = await a.inject({ method: 'POST', url: '/api/v1/bgp/routes', payload: { prefix: '198.51.100.7/32', nextHop: '192.0.2.20', communities: ['65000:100'] } });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(sp.routes.size, 1);
  const bad = await a.inject({ method: 'POST', url: '/api/v1/bgp/routes', payload: [
    { prefix: '198.51.100.8/32' },
    { family: 'ipv4-vpn', prefix: '198.51.100.9/32', rd: '65020:10', routeTargets: ['65000:10'], nextHop: '300.0.0.1' },
  ] });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'EF_ERR_BAD_ROUTE');
  assert.equal(bad.json().error.field, 'routes[1].nextHop');
  assert.equal(sp.routes.size, 1, 'nothing partial');
  const schemaBad = await a.inject({ method: 'POST', url: '/api/v1/bgp/routes', payload: { prefix: '198.51.100.8/32', label: -1, family: 'ipv4-vpn' } });
  assert.equal(schemaBad.statusCode, 400);
  assert.equal(schemaBad.json().error.code, 'EF_ERR_VALIDATION');
  assert.match(schemaBad.json().error.message, /label/);
  const missing = await a.inject({ method: 'POST', url: '/api/v1/bgp/routes', payload: { nextHop: '192.0.2.1' } });
  assert.equal(missing.statusCode, 400);
  assert.match(missing.json().error.message, /prefix/);
  const del = await a.inject({ method: 'DELETE', url: '/api/v1/bgp/routes', payload: { prefix: '198.51.100.7/32' } });
  assert.deepEqual(del.json(), { removed: 1 });
  await a.close();
});

test('a token protects writes; reads stay open unless readToken', async () => {
  const { a } = await app('s3cret');
  assert.equal((await a.inject({ method: 'POST', url: '/api/v1/bgp/routes', payload: { prefix: '198.51.100.7/32' } })).statusCode, 401);
  assert.equal((await a.inject({ method: 'POST', url: '/api/v1/bgp/routes', payload: { prefix: '198.51.100.7/32' }, headers: { authorization: 'Bearer wrong!' } })).statusCode, 401);
  assert.equal((await a.inject({ method: 'POST', url: '/api/v1/bgp/routes', payload: { prefix: '198.51.100.7/32' }, headers: { authorization: 'Bearer s3cret' } })).statusCode, 200);
  assert.equal((await a.inject({ url: '/api/v1/bgp/neighbors' })).statusCode, 200);
  await a.close();
});

test('OpenAPI is served at /docs and documents the routes', async () => {
  const { a } = await app();
  const doc = await a.inject({ url: '/docs/json' });
  assert.equal(doc.statusCode, 200);
  const paths = Object.keys(doc.json().paths);
  for (const p of ['/api/v1/bgp/neighbors', '/api/v1/bgp/neighbors/{address}', '/api/v1/bgp/rib', '/api/v1/bgp/routes']) assert.ok(paths.includes(p), p);
  assert.equal((await a.inject({ url: '/docs' })).statusCode < 400, true);
  await a.close();
});

test('error catalogue: codes unique, each documented with a 4xx/5xx status', () => {
  for (const [code, def] of Object.entries(ERRORS)) {
    assert.match(code, /^EF_ERR_[A-Z_]+$/);
    assert.ok(def.status >= 400 && def.status < 600);
    assert.ok(def.description.length > 10);
  }
});
