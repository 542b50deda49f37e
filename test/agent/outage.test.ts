// A store outage changes nothing on the data path (root, netns, FRR, etcd). The agent
// carries FIP A. First etcd is frozen (SIGSTOP: connections stay open, nothing answers)
// until the agent reports storeConnected false, then thawed (SIGCONT) until it reports
// true again. Then etcd is killed (SIGKILL, data dir kept). For several seconds: the agent
// reports storeConnected false, the BGP session stays Established, the ToR keeps A's /32,
// and `nft monitor` / `ip monitor route rule` see no kernel change at all; the API
// answers writes with an error instead of half-writing. etcd comes back on the same data
// dir: the agent reconnects, and a FIP created after that is applied (kernel and ToR).
// Topology: test/agent/lab.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { NETNS_SKIP } from '../harness/netns.js';
import { haveFrr } from '../harness/frr.js';
import { ETCD_SKIP } from '../harness/etcd.js';
import { AgentLab, UPLINK, createFip, waitFor } from './lab.js';

const SKIP = NETNS_SKIP || (haveFrr() ? ETCD_SKIP : 'needs FRR (Debian package frr)');
const l = new AgentLab({ prefix: 'efa-out', etcd: [{ clientPort: 24581, peerPort: 24592 }] });
const OUTAGE_MS = 5000;

before(async () => {
  if (SKIP) return;
  await l.up();
});
after(async () => {
  if (!SKIP) await l.down();
});

function monitor(cmd: string, args: string[]): { child: ChildProcess; lines: () => string[] } {
  const child = l.lab.spawn(l.c1, cmd, args);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, lines: () => out.split('\n').map((s) => s.trim()).filter((s) => s && !s.startsWith('#')) };
}

test('etcd down: NAT, routes and the session stay; status says so; after etcd returns a new FIP is applied (root, netns, FRR, etcd)', { skip: SKIP }, async () => {
  await l.startAgent(l.writeConfig('etcd'));
  await l.waitEstablished();
  const a = await createFip(l, 'vm1');
  await waitFor('FIP A at the ToR', async () => (await l.torRoutes()).get(`${a.address}/32`)?.[0] === UPLINK, 10000, 50);
  await waitFor('A claimed', async () => (await l.api('GET', `/api/v1/floatingips/${a.id}`)).body?.floatingip?.activeChassis === 'compute1', 10000, 50);
  const nftBefore = await l.nftJson(true);
  const plumbBefore = await l.kernelPlumb();
  const nftMon = monitor('nft', ['monitor']);
  const ipMon = monitor('ip', ['monitor', 'route', 'rule']);
  await new Promise((r) => setTimeout(r, 300));

  const etcd = l.etcd[0]!;
  process.kill(etcd.child!.pid!, 'SIGSTOP');
  try {
    await waitFor('status.storeConnected false with etcd frozen', async () => (await l.status()).storeConnected === false, 10000, 100)
      .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
    assert.equal((await l.torRoutes()).get(`${a.address}/32`)?.[0], UPLINK, 'the ToR keeps the route');
    assert.equal((await l.kernelFips()).get(a.address), '10.0.0.5', 'the kernel keeps the NAT');
  } finally {
    process.kill(etcd.child!.pid!, 'SIGCONT');
  }
  await waitFor('status.storeConnected true after SIGCONT', async () => (await l.status()).storeConnected === true, 10000, 100);

  await etcd.kill();
  await waitFor('status.storeConnected false', async () => (await l.status()).storeConnected === false, 10000, 100)
    .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  const write = await l.api('POST', '/api/v1/floatingips', { floatingip: { network: 'ext', portId: 'vm2' } });
  assert.ok(write.status >= 500, `a write while the store is down fails (got ${write.status} ${JSON.stringify(write.body)})`);
  const deadline = Date.now() + OUTAGE_MS;
  let checks = 0;
  while (Date.now() < deadline) {
    assert.equal(await l.torState(), 'Established');
    assert.equal((await l.torRoutes()).get(`${a.address}/32`)?.[0], UPLINK, 'the ToR keeps the route');
    assert.equal((await l.kernelFips()).get(a.address), '10.0.0.5', 'the kernel keeps the NAT');
    assert.equal((await l.status()).storeConnected, false);
    checks++;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(checks >= 3);
  assert.deepEqual(await l.nftJson(true), nftBefore, 'nftables unchanged, handles included');
  assert.equal(await l.kernelPlumb(), plumbBefore, 'rules and routes unchanged');
  assert.deepEqual(nftMon.lines(), [], 'nft monitor: no change during the outage');
  assert.deepEqual(ipMon.lines(), [], 'ip monitor: no change during the outage');
  nftMon.child.kill('SIGKILL');
  ipMon.child.kill('SIGKILL');

  etcd.spawn();
  await waitFor('etcd healthy again', () => etcd.healthy(), 20000, 50);
  await waitFor('status.storeConnected true', async () => (await l.status()).storeConnected === true, 20000, 100)
    .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  const b = await createFip(l, 'vm2');
  await waitFor('FIP B in the kernel', async () => (await l.kernelFips()).get(b.address) === '10.0.0.6', 10000, 50)
    .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  await waitFor('FIP B at the ToR', async () => (await l.torRoutes()).get(`${b.address}/32`)?.[0] === UPLINK, 10000, 50);
  assert.equal((await l.kernelFips()).get(a.address), '10.0.0.5');
  const st = await l.status();
  assert.ok(st.revision >= 1 && st.lastReconcile?.result === 'ok', JSON.stringify(st));
});
