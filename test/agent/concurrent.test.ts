// Many concurrent FIP allocations through the agent's API never collide (root, netns,
// FRR, etcd): 100 POST /api/v1/floatingips sent at once (one per port, from inside the
// compute namespace), with the embedded store and with etcd. Every request succeeds,
// the 100 addresses are distinct and inside the pool, the store holds exactly those,
// and all 100 end up in the kernel's DNAT map with their port's fixed IP and at the ToR.
// Then 100 concurrent DELETEs empty both again. Topology: test/agent/lab.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NETNS_SKIP } from '../harness/netns.js';
import { haveFrr } from '../harness/frr.js';
import { ETCD_SKIP } from '../harness/etcd.js';
import { AgentLab, portIp, waitFor } from './lab.js';

const SKIP = NETNS_SKIP || (haveFrr() ? ETCD_SKIP : 'needs FRR (Debian package frr)');
const N = 100;
const l = new AgentLab({ prefix: 'efa-par', etcd: [{ clientPort: 24585, peerPort: 24596 }], extraPorts: N });

before(async () => {
  if (SKIP) return;
  await l.up();
});
after(async () => {
  if (!SKIP) await l.down();
});

function inPool(a: string): boolean {
  const m = /^198\.51\.100\.(\d+)$/.exec(a);
  return !!m && Number(m[1]) >= 10 && Number(m[1]) <= 250;
}

async function concurrentAllocations(driver: 'embedded' | 'etcd'): Promise<void> {
  await l.startAgent(l.writeConfig(driver));
  await l.waitEstablished();
  const replies = await l.parallel(Array.from({ length: N }, (_, i) => ({ method: 'POST', path: '/api/v1/floatingips', body: { floatingip: { network: 'ext', portId: `vm-${i}` } } })));
  const bad = replies.filter((r) => r.status !== 201);
  assert.deepEqual(bad.map((r) => `${r.status} ${JSON.stringify(r.body)}`), [], 'every POST succeeded');
  const fips = replies.map((r) => r.body.floatingip as { id: string; address: string; portId: string });
  assert.equal(new Set(fips.map((f) => f.address)).size, N, 'distinct addresses');
  assert.ok(fips.every((f) => inPool(f.address)), 'all from the pool');
  const listed = (await l.api('GET', '/api/v1/floatingips')).body.floatingips as Array<{ address: string }>;
  assert.deepEqual(listed.map((f) => f.address).sort(), fips.map((f) => f.address).sort(), 'the store holds exactly these');

  const want = new Map(fips.map((f, i) => [f.address, portIp(i)]));
  await waitFor(`${N} FIPs in the kernel`, async () => {
    const k = await l.kernelFips();
    return [...want].every(([fip, fixed]) => k.get(fip) === fixed);
  }, 20000, 100).catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  assert.equal((await l.kernelFips()).size, N, 'nothing else in the kernel');
  await waitFor(`${N} routes at the ToR`, async () => {
    const r = await l.torRoutes();
    return [...want.keys()].every((a) => r.has(`${a}/32`));
  }, 20000, 100);

  const dels = await l.parallel(fips.map((f) => ({ method: 'DELETE', path: `/api/v1/floatingips/${f.id}` })));
  assert.deepEqual(dels.filter((r) => r.status !== 204).map((r) => `${r.status} ${JSON.stringify(r.body)}`), [], 'every DELETE succeeded');
  await waitFor('kernel empty', async () => (await l.kernelFips()).size === 0, 20000, 100);
  await waitFor('ToR empty', async () => [...(await l.torRoutes()).keys()].every((p) => !want.has(p.replace('/32', ''))), 20000, 100);
  await l.stopAgent('SIGUSR2');
}

test(`${N} concurrent FIP allocations through the agent API, embedded store: distinct, all applied (root, netns, FRR)`, { skip: SKIP }, async () => {
  await concurrentAllocations('embedded');
});

test(`${N} concurrent FIP allocations through the agent API, etcd: distinct, all applied (root, netns, FRR, etcd)`, { skip: SKIP }, async () => {
  await concurrentAllocations('etcd');
});
