// A 3-member etcd cluster loses its leader and the agent carries on (root, netns, FRR,
// etcd). The three members run inside the compute namespace on loopback; the agent is
// given all three endpoints. After FIP A is applied, the leader is killed (SIGKILL); once
// the two survivors have elected a new leader, a FIP created through the agent's API is
// allocated, reaches the agent through its (re-established) watch and is applied in the
// kernel and at the ToR, while A never moved. Topology: test/agent/lab.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NETNS_SKIP } from '../harness/netns.js';
import { haveFrr } from '../harness/frr.js';
import { ETCD_SKIP } from '../harness/etcd.js';
import { AgentLab, UPLINK, createFip, waitFor } from './lab.js';

const SKIP = NETNS_SKIP || (haveFrr() ? ETCD_SKIP : 'needs FRR (Debian package frr)');
const l = new AgentLab({
  prefix: 'efa-clu',
  etcd: [{ clientPort: 24582, peerPort: 24593 }, { clientPort: 24583, peerPort: 24594 }, { clientPort: 24584, peerPort: 24595 }],
});

before(async () => {
  if (SKIP) return;
  await l.up();
});
after(async () => {
  if (!SKIP) await l.down();
});

async function leaderIndex(): Promise<number> {
  for (const m of l.etcd.filter((x) => x.running)) {
    try {
      const { leader } = await m.status();
      for (const [i, x] of l.etcd.entries()) if (x.running && (await x.status()).memberId === leader) return i;
    } catch { /* next member */ }
  }
  return -1;
}

test('3-member etcd loses its leader: the agent carries on and applies a new FIP (root, netns, FRR, etcd)', { skip: SKIP }, async (t) => {
  await l.startAgent(l.writeConfig('etcd'));
  await l.waitEstablished();
  const a = await createFip(l, 'vm1');
  await waitFor('FIP A in the kernel', async () => (await l.kernelFips()).get(a.address) === '10.0.0.5', 10000, 50);
  await waitFor('FIP A at the ToR', async () => (await l.torRoutes()).get(`${a.address}/32`)?.[0] === UPLINK, 10000, 50);

  const li = await waitFor('a leader', async () => {
    const i = await leaderIndex();
    return i >= 0 ? i + 1 : 0;
  }, 10000, 100) - 1;
  t.diagnostic(`killing leader m${li} (${l.etcd[li]!.endpoint})`);
  await l.etcd[li]!.kill();
  const survivors = l.etcd.filter((m) => m.running);
  assert.equal(survivors.length, 2);
  await waitFor('survivors elect a new leader', async () => (await Promise.all(survivors.map((m) => m.healthy()))).every(Boolean), 15000, 100);
  const nl = await leaderIndex();
  assert.ok(nl >= 0 && nl !== li, `new leader m${nl}`);

  const b = await createFip(l, 'vm2');
  await waitFor('FIP B in the kernel', async () => (await l.kernelFips()).get(b.address) === '10.0.0.6', 15000, 50)
    .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  await waitFor('FIP B at the ToR', async () => (await l.torRoutes()).get(`${b.address}/32`)?.[0] === UPLINK, 10000, 50);
  await waitFor('agent claims B (writes to the store work)', async () => (await l.api('GET', `/api/v1/floatingips/${b.id}`)).body?.floatingip?.activeChassis === 'compute1', 10000, 100);
  assert.equal((await l.kernelFips()).get(a.address), '10.0.0.5', 'A stayed');
  assert.equal(await l.torState(), 'Established');
  await waitFor('status.storeConnected true', async () => (await l.status()).storeConnected === true, 10000, 100);
});
