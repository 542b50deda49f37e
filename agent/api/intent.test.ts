// REST contract of the intent resources (/api/v1/chassis, networks, tenants, ports,
// floatingips, speakers) with inject() against the embedded store in a temp dir:
// shapes, field-naming 4xx, status mapping, CAS, nothing partial, concurrent allocation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './server.js';
import { intentRoutes, INTENT_RESOURCES, apiErrorOf, fipStatus } from './intent.js';
import { ApiError } from './errors.js';
import { openEmbeddedStore, StoreError, type IntentStore } from '../../store/index.js';

let dir: string;
let store: IntentStore;
let app: FastifyInstance;
const TOKEN = 'tok3n';
const auth = { authorization: `Bearer ${TOKEN}` };

async function post(url: string, payload: unknown) {
  return app.inject({ method: 'POST', url, payload: payload as object, headers: auth });
}
async function put(url: string, payload: unknown) {
  return app.inject({ method: 'PUT', url, payload: payload as object, headers: auth });
}
async function del(url: string) {
  return app.inject({ method: 'DELETE', url, headers: auth });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeflow-intent-api-'));
  store = await openEmbeddedStore({ dir, fsync: false });
  app = await buildServer({ token: TOKEN });
  await app.register(intentRoutes, { store });
  await app.ready();
  const setup: Array<[string, unknown]> = [
    ['/api/v1/chassis', { chassis: { name: 'c1', uplinkIp: '192.0.2.11', snatAddresses: ['203.0.113.11'], localAsn: 65011, bgpNeighbors: [{ address: '192.0.2.1', asn: 65000 }] } }],
    ['/api/v1/chassis', { chassis: { name: 'c2', uplinkIp: '192.0.2.12', localAsn: 65012 } }],
    ['/api/v1/networks', { network: { id: 'ext', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.250' }] } }],
    ['/api/v1/networks', { network: { id: 'tiny', cidr: '192.0.2.0/24', pools: [{ start: '192.0.2.100', end: '192.0.2.101' }] } }],
    ['/api/v1/tenants', { tenant: { id: 't1', subnets: ['10.0.0.0/24'] } }],
    ['/api/v1/ports', { port: { id: 'p1', tenant: 't1', fixedIp: '10.0.0.5', chassis: 'c1', interfaceName: 'tap1' } }],
    ['/api/v1/ports', { port: { id: 'p2', tenant: 't1', fixedIp: '10.0.0.6', chassis: 'c2' } }],
    ['/api/v1/ports', { port: { id: 'p3', tenant: 't1', fixedIp: '10.0.0.7', chassis: 'c1' } }],
  ];
  for (const [url, body] of setup) {
    const r = await post(url, body);
    assert.equal(r.statusCode, 201, `${url}: ${r.body}`);
  }
});

after(async () => {
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('create, list, show: Neutron-style envelopes with a revision; ids generated when absent', async () => {
  const list = await app.inject({ url: '/api/v1/ports' });
  assert.equal(list.statusCode, 200);
  assert.deepEqual(list.json().ports.map((p: { id: string }) => p.id), ['p1', 'p2', 'p3']);
  assert.ok(list.json().revision > 0);
  const one = await app.inject({ url: '/api/v1/chassis/c1' });
  assert.equal(one.json().chassis.uplinkIp, '192.0.2.11');
  assert.equal(typeof one.json().chassis.revision, 'number');
  const filtered = await app.inject({ url: '/api/v1/ports?chassis=c2' });
  assert.deepEqual(filtered.json().ports.map((p: { id: string }) => p.id), ['p2']);
  const t = await post('/api/v1/tenants', { tenant: { subnets: ['10.9.0.0/24'] } });
  assert.equal(t.statusCode, 201);
  assert.match(t.json().tenant.id, /^[0-9a-f-]{36}$/);
  assert.equal((await del(`/api/v1/tenants/${t.json().tenant.id}`)).statusCode, 204);
  const dup = await post('/api/v1/chassis', { chassis: { name: 'c1', uplinkIp: '192.0.2.99', localAsn: 65099 } });
  assert.equal(dup.statusCode, 409);
  assert.equal(dup.json().error.field, 'chassis.name');
  assert.equal((await app.inject({ url: '/api/v1/ports/nope' })).statusCode, 404);
});

test('bad requests are 4xx naming the field; nothing is written', async () => {
  const before = (await app.inject({ url: '/api/v1/networks' })).json().revision;
  const cases: Array<[string, unknown, number, string, string]> = [
    ['/api/v1/networks', { network: { id: 'n2', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '203.0.113.1' }] } }, 400, 'EF_ERR_BAD_INTENT', 'network.pools[0].end'],
    ['/api/v1/networks', { network: { id: 'n2', pools: [] } }, 400, 'EF_ERR_VALIDATION', 'network.cidr'],
    ['/api/v1/networks', { network: { id: 'n2', cidr: '198.51.100.0/24', pools: [], colour: 'red' } }, 400, 'EF_ERR_VALIDATION', 'network.colour'],
    ['/api/v1/networks', { id: 'n2' }, 400, 'EF_ERR_VALIDATION', 'network'],
    ['/api/v1/ports', { port: { id: 'p9', tenant: 't1', fixedIp: '10.1.0.5', chassis: 'c1' } }, 400, 'EF_ERR_BAD_INTENT', 'port.fixedIp'],
    ['/api/v1/ports', { port: { id: 'p9', tenant: 'nobody', fixedIp: '10.0.0.9' } }, 400, 'EF_ERR_BAD_INTENT', 'port.tenant'],
    ['/api/v1/ports', { port: { id: 'p9', tenant: 't1', fixedIp: '10.0.0.5' } }, 409, 'EF_ERR_CONFLICT', 'port.fixedIp'],
    ['/api/v1/floatingips', { floatingip: { network: 'ext', portId: 'p1', address: '203.0.113.5' } }, 400, 'EF_ERR_BAD_INTENT', 'floatingip.address'],
    ['/api/v1/floatingips', { floatingip: { network: 'nowhere', tenant: 't1' } }, 400, 'EF_ERR_BAD_INTENT', 'floatingip.network'],
    ['/api/v1/floatingips', { floatingip: { network: 'ext' } }, 400, 'EF_ERR_BAD_INTENT', 'floatingip.tenant'],
    ['/api/v1/floatingips', { floatingip: { network: 'ext', portId: 'ghost' } }, 400, 'EF_ERR_BAD_INTENT', 'floatingip.portId'],
    ['/api/v1/floatingips', { floatingip: { network: 'ext', tenant: 't1', activeChassis: 'c1' } }, 400, 'EF_ERR_VALIDATION', 'floatingip.activeChassis'],
    ['/api/v1/floatingips', { floatingip: { network: 'ext', portId: 'p1', standbyPortId: 'p3' } }, 400, 'EF_ERR_BAD_INTENT', 'floatingip.standbyPortId'],
  ];
  for (const [url, body, status, code, field] of cases) {
    const r = await post(url, body);
    assert.equal(r.statusCode, status, `${JSON.stringify(body)}: ${r.body}`);
    assert.equal(r.json().error.code, code, r.body);
    assert.equal(r.json().error.field, field, r.body);
    assert.ok(r.json().error.message.includes(field.split('.').pop()!.replace(/\[\d+\]/, '')), r.body);
  }
  assert.equal((await app.inject({ url: '/api/v1/networks' })).json().revision, before, 'no write happened');
  assert.equal((await app.inject({ url: '/api/v1/floatingips' })).json().floatingips.length, 0);
});

test('floating IPs: allocate from the pool or take an address; status follows the port and activeChassis', async () => {
  const a = await post('/api/v1/floatingips', { floatingip: { network: 'ext', portId: 'p1' } });
  assert.equal(a.statusCode, 201, a.body);
  const f = a.json().floatingip;
  assert.equal(f.tenant, 't1', 'tenant taken from the port');
  const last = Number(f.address.split('.')[3]);
  assert.ok(f.address.startsWith('198.51.100.') && last >= 10 && last <= 250, f.address);
  assert.equal(f.status, 'PENDING');
  await store.update('floatingip', f.id, (x) => ({ ...x, activeChassis: 'c1' }));
  assert.equal((await app.inject({ url: `/api/v1/floatingips/${f.id}` })).json().floatingip.status, 'ACTIVE');
  const given = await post('/api/v1/floatingips', { floatingip: { id: 'fixed', network: 'ext', tenant: 't1', address: '198.51.100.5' } });
  assert.equal(given.statusCode, 201, given.body);
  assert.equal(given.json().floatingip.status, 'DOWN');
  const taken = await post('/api/v1/floatingips', { floatingip: { network: 'ext', tenant: 't1', address: '198.51.100.5' } });
  assert.equal(taken.statusCode, 409);
  assert.equal(taken.json().error.field, 'floatingip.address');
  const samePort = await post('/api/v1/floatingips', { floatingip: { network: 'ext', portId: 'p1' } });
  assert.equal(samePort.statusCode, 409);
  assert.equal(samePort.json().error.field, 'floatingip.portId');
  const byPort = await app.inject({ url: '/api/v1/floatingips?portId=p1' });
  assert.deepEqual(byPort.json().floatingips.map((x: { id: string }) => x.id), [f.id]);
  assert.equal((await del(`/api/v1/floatingips/${f.id}`)).statusCode, 204);
  assert.equal((await del('/api/v1/floatingips/fixed')).statusCode, 204);
  assert.equal((await del('/api/v1/floatingips/fixed')).statusCode, 404);
  const again = await post('/api/v1/floatingips', { floatingip: { network: 'ext', tenant: 't1', address: '198.51.100.5' } });
  assert.equal(again.statusCode, 201, 'a released address can be allocated again');
  await del(`/api/v1/floatingips/${again.json().floatingip.id}`);
});

test('pool exhausted is 409 EF_ERR_POOL_EXHAUSTED naming the network', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await post('/api/v1/floatingips', { floatingip: { network: 'tiny', tenant: 't1' } });
    assert.equal(r.statusCode, 201, r.body);
    ids.push(r.json().floatingip.id);
  }
  const r = await post('/api/v1/floatingips', { floatingip: { network: 'tiny', tenant: 't1' } });
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().error.code, 'EF_ERR_POOL_EXHAUSTED');
  assert.equal(r.json().error.field, 'floatingip.network');
  for (const id of ids) await del(`/api/v1/floatingips/${id}`);
});

test('PUT: re-associate (planned failover), standby set/clear/swap, CAS, immutable fields; a refused update changes nothing', async () => {
  const f = (await post('/api/v1/floatingips', { floatingip: { id: 'mv', network: 'ext', portId: 'p1' } })).json().floatingip;
  const other = (await post('/api/v1/floatingips', { floatingip: { id: 'other', network: 'ext', portId: 'p3' } })).json().floatingip;
  let r = await put('/api/v1/floatingips/mv', { floatingip: { portId: 'p2' } });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().floatingip.portId, 'p2');
  assert.equal(r.json().floatingip.address, f.address);
  // Standby on another chassis; then fail over onto it: the two swap.
  r = await put('/api/v1/floatingips/mv', { floatingip: { standbyPortId: 'p1' } });
  assert.equal(r.json().floatingip.standbyPortId, 'p1');
  r = await put('/api/v1/floatingips/mv', { floatingip: { portId: 'p1' } });
  assert.deepEqual([r.json().floatingip.portId, r.json().floatingip.standbyPortId], ['p1', 'p2']);
  r = await put('/api/v1/floatingips/mv', { floatingip: { standbyPortId: null } });
  assert.equal(r.json().floatingip.standbyPortId, null);
  // Refused: port taken by another FIP, standby on the same chassis, immutable and status fields, stale revision.
  const rev = r.json().floatingip.revision;
  const refused: Array<[unknown, number, string]> = [
    [{ portId: 'p3' }, 409, 'floatingip.portId'],
    [{ standbyPortId: 'p3' }, 400, 'floatingip.standbyPortId'],
    [{ address: '198.51.100.99' }, 400, 'floatingip.address'],
    [{ activeChassis: 'c2' }, 400, 'floatingip.activeChassis'],
    [{ id: 'other' }, 400, 'floatingip.id'],
    [{ description: 'x', revision: rev - 1 }, 409, 'floatingip.revision'],
    [{ portId: 7, bogus: true }, 400, 'floatingip.bogus'],
  ];
  for (const [body, status, field] of refused) {
    const x = await put('/api/v1/floatingips/mv', { floatingip: body });
    assert.equal(x.statusCode, status, `${JSON.stringify(body)}: ${x.body}`);
    assert.equal(x.json().error.field, field, x.body);
  }
  const now = (await app.inject({ url: '/api/v1/floatingips/mv' })).json().floatingip;
  assert.equal(now.revision, rev, 'nothing written');
  r = await put('/api/v1/floatingips/mv', { floatingip: { description: 'web', revision: rev } });
  assert.equal(r.statusCode, 200);
  assert.equal((await put('/api/v1/floatingips/none', { floatingip: { portId: 'p2' } })).statusCode, 404);
  // Other kinds: partial update of a port (bind it elsewhere), tenant immutable.
  r = await put('/api/v1/ports/p3', { port: { chassis: 'c2' } });
  assert.equal(r.json().port.chassis, 'c2');
  r = await put('/api/v1/ports/p3', { port: { tenant: 't2' } });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().error.field, 'port.tenant');
  await put('/api/v1/ports/p3', { port: { chassis: 'c1' } });
  await del('/api/v1/floatingips/mv');
  await del(`/api/v1/floatingips/${other.id}`);
});

test('DELETE is refused while other objects name the object', async () => {
  await post('/api/v1/floatingips', { floatingip: { id: 'ref', network: 'ext', portId: 'p2' } });
  for (const [url, field] of [['/api/v1/ports/p2', 'id'], ['/api/v1/tenants/t1', 'id'], ['/api/v1/networks/ext', 'id'], ['/api/v1/chassis/c2', 'id']] as const) {
    const r = await del(url);
    assert.equal(r.statusCode, 409, `${url}: ${r.body}`);
    assert.equal(r.json().error.field, field);
    assert.match(r.json().error.message, /still used by/);
  }
  assert.equal((await del('/api/v1/floatingips/ref')).statusCode, 204);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/networks/tiny?revision=1', headers: auth })).statusCode, 409);
});

test('writes need the token; reads do not', async () => {
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/tenants', payload: { tenant: { subnets: ['10.8.0.0/24'] } } })).statusCode, 401);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/ports/p1' })).statusCode, 401);
  assert.equal((await app.inject({ url: '/api/v1/tenants' })).statusCode, 200);
});

test('100 concurrent allocations from one pool never collide', async () => {
  const rs = await Promise.all(Array.from({ length: 100 }, () => post('/api/v1/floatingips', { floatingip: { network: 'ext', tenant: 't1' } })));
  for (const r of rs) assert.equal(r.statusCode, 201, r.body);
  const addrs = rs.map((r) => r.json().floatingip.address);
  assert.equal(new Set(addrs).size, 100);
  const listed = (await app.inject({ url: '/api/v1/floatingips?network=ext' })).json().floatingips;
  assert.equal(listed.length, 100);
  await Promise.all(rs.map((r) => del(`/api/v1/floatingips/${r.json().floatingip.id}`)));
});

test('OpenAPI documents every intent path and method', async () => {
  const doc = (await app.inject({ url: '/docs/json' })).json();
  for (const r of INTENT_RESOURCES) {
    assert.ok(doc.paths[r.path]?.get && doc.paths[r.path]?.post, r.path);
    const one = doc.paths[`${r.path}/{id}`];
    assert.ok(one?.get && one?.put && one?.delete, `${r.path}/{id}`);
  }
});

test('error mapping: store codes to the catalogue; fipStatus', () => {
  const m = (code: ConstructorParameters<typeof StoreError>[0]) => apiErrorOf(new StoreError(code, 'x', { fields: [{ field: 'address', message: 'm' }] }), 'floatingip') as ApiError;
  assert.deepEqual([m('EF_STORE_VALIDATION').status, m('EF_STORE_VALIDATION').field], [400, 'floatingip.address']);
  assert.equal(m('EF_STORE_NOT_FOUND').status, 404);
  assert.equal(m('EF_STORE_CONFLICT').status, 409);
  assert.equal(m('EF_STORE_UNIQUE').status, 409);
  assert.equal(m('EF_STORE_POOL_EXHAUSTED').code, 'EF_ERR_POOL_EXHAUSTED');
  assert.equal(m('EF_STORE_UNAVAILABLE').status, 503);
  assert.equal(m('EF_STORE_CONTENDED').status, 503);
  const plain = new Error('boom');
  assert.equal(apiErrorOf(plain), plain);
  const f = { id: 'f', address: '198.51.100.7', network: 'n', tenant: 't', portId: 'p' };
  assert.equal(fipStatus({ ...f, portId: null }, undefined), 'DOWN');
  assert.equal(fipStatus(f, { id: 'p', tenant: 't', fixedIp: '10.0.0.1', chassis: null }), 'DOWN');
  assert.equal(fipStatus(f, { id: 'p', tenant: 't', fixedIp: '10.0.0.1', chassis: 'c1' }), 'PENDING');
  assert.equal(fipStatus({ ...f, activeChassis: 'c1' }, { id: 'p', tenant: 't', fixedIp: '10.0.0.1', chassis: 'c1' }), 'ACTIVE');
});
