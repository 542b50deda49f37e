// The intent API against a real etcd (Debian etcd-server on loopback, client port
// 24479): two API replicas, each with its own store client, take 100 concurrent
// floating-IP allocations from one pool; no address is given out twice and each
// replica's view agrees. Skips with a reason when etcd is not installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './server.js';
import { intentRoutes } from './intent.js';
import { openEtcdStore, type IntentStore } from '../../store/index.js';
import { ETCD_SKIP, startEtcd, type EtcdMember } from '../../test/harness/etcd.js';

let etcd: EtcdMember | undefined;
const stores: IntentStore[] = [];
const apps: FastifyInstance[] = [];

before(async () => {
  if (ETCD_SKIP) return;
  etcd = await startEtcd({ clientPort: 24479, peerPort: 24480 });
  for (let i = 0; i < 2; i++) {
    const store = await openEtcdStore({ endpoints: [etcd.endpoint] });
    const app = await buildServer();
    await app.register(intentRoutes, { store });
    await app.ready();
    stores.push(store);
    apps.push(app);
  }
});

after(async () => {
  for (const a of apps) await a.close();
  for (const s of stores) await s.close();
  await etcd?.destroy();
});

test('(etcd) 100 concurrent POST /floatingips over two API replicas never collide', { skip: ETCD_SKIP }, async () => {
  const [a, b] = apps as [FastifyInstance, FastifyInstance];
  const post = (app: FastifyInstance, url: string, payload: object) => app.inject({ method: 'POST', url, payload });
  assert.equal((await post(a, '/api/v1/networks', { network: { id: 'ext', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.129' }] } })).statusCode, 201);
  assert.equal((await post(b, '/api/v1/tenants', { tenant: { id: 't1', subnets: ['10.0.0.0/24'] } })).statusCode, 201);
  // 120 addresses in the pool, 100 requests: heavy contention on purpose.
  const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => post(i % 2 ? a : b, '/api/v1/floatingips', { floatingip: { network: 'ext', tenant: 't1' } })));
  for (const r of rs) assert.equal(r.statusCode, 201, r.body);
  const addrs = rs.map((r) => r.json().floatingip.address as string);
  assert.equal(new Set(addrs).size, 100, 'every address once');
  const la = (await a.inject({ url: '/api/v1/floatingips' })).json().floatingips.map((f: { address: string }) => f.address).sort();
  const lb = (await b.inject({ url: '/api/v1/floatingips' })).json().floatingips.map((f: { address: string }) => f.address).sort();
  assert.deepEqual(la, [...addrs].sort());
  assert.deepEqual(lb, la);
  // The same explicit address asked by both replicas at once: exactly one wins.
  const race = await Promise.all([a, b].map((app) => post(app, '/api/v1/floatingips', { floatingip: { network: 'ext', tenant: 't1', address: '198.51.100.200' } })));
  assert.deepEqual(race.map((r) => r.statusCode).sort(), [201, 409]);
  // Re-association through one replica is seen by the other.
  assert.equal((await post(a, '/api/v1/ports', { port: { id: 'p1', tenant: 't1', fixedIp: '10.0.0.5', chassis: null } })).statusCode, 201);
  const id = rs[0]!.json().floatingip.id as string;
  const moved = await b.inject({ method: 'PUT', url: `/api/v1/floatingips/${id}`, payload: { floatingip: { portId: 'p1' } } });
  assert.equal(moved.statusCode, 200, moved.body);
  assert.equal((await a.inject({ url: `/api/v1/floatingips/${id}` })).json().floatingip.portId, 'p1');
});
