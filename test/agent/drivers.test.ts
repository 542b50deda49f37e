// The whole path with both store drivers (root, netns, FRR, etcd): the real `edgeflow
// agent` in a compute namespace, first on the embedded store, then on etcd. For each:
// POST /api/v1/floatingips → the DNAT/SNAT map entries appear in the kernel (nft in the
// agent's namespace and GET /api/v1/nat agree) and the FRR ToR learns the /32 with the
// agent's uplink as next hop; DELETE → both are gone. Topology: test/agent/lab.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NETNS_SKIP } from '../harness/netns.js';
import { haveFrr } from '../harness/frr.js';
import { ETCD_SKIP } from '../harness/etcd.js';
import { readFileSync } from 'node:fs';
import { AgentLab, UPLINK, createFip, nsRun, waitFor } from './lab.js';

const SKIP = NETNS_SKIP || (haveFrr() ? ETCD_SKIP : 'needs FRR (Debian package frr)');
const l = new AgentLab({ prefix: 'efa-drv', etcd: [{ clientPort: 24579, peerPort: 24590 }] });

before(async () => {
  if (SKIP) return;
  await l.up();
});
after(async () => {
  if (!SKIP) await l.down();
});

async function wholePath(driver: 'embedded' | 'etcd'): Promise<void> {
  await l.startAgent(l.writeConfig(driver));
  await l.waitEstablished();
  const st = await l.status();
  assert.equal(st.storeConnected, true);

  const fip = await createFip(l, 'vm1');
  const prefix = `${fip.address}/32`;
  await waitFor(`${fip.address} in the kernel DNAT map`, async () => (await l.kernelFips()).get(fip.address) === '10.0.0.5', 10000, 50)
    .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  const nat = (await l.api('GET', '/api/v1/nat')).body as { fips: Array<{ fip: string; fixedIp: string }> };
  assert.deepEqual(nat.fips.filter((f) => f.fip === fip.address).map((f) => f.fixedIp), ['10.0.0.5'], 'GET /api/v1/nat shows the kernel entry');
  const hops = await waitFor(`${prefix} at the ToR`, async () => (await l.torRoutes()).get(prefix), 10000, 50);
  assert.deepEqual(hops, [UPLINK], 'the ToR routes the FIP to the compute uplink');
  // the claim (written from the watched FIP in one round trip) lands, and the metrics saw
  // the API's write and the claim come back through the store watch
  await waitFor('activeChassis = compute1', async () => (await l.api('GET', `/api/v1/floatingips/${fip.id}`)).body?.floatingip?.activeChassis === 'compute1', 10000, 50);
  const metrics = String((await l.api('GET', '/metrics')).body);
  const count = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  assert.ok(count('edgeflow_store_watch_lag_seconds_count') >= 2, `watch lag observed for the POST and the claim:\n${metrics.split('\n').filter((x) => x.includes('watch_lag')).join('\n')}`);
  assert.ok(count('edgeflow_reconcile_duration_seconds_count') >= 1, 'reconcile latency observed');

  const del = await l.api('DELETE', `/api/v1/floatingips/${fip.id}`);
  assert.equal(del.status, 204);
  await waitFor(`${fip.address} gone from the kernel`, async () => !(await l.kernelFips()).has(fip.address), 10000, 50);
  await waitFor(`${prefix} withdrawn at the ToR`, async () => !(await l.torRoutes()).has(prefix), 10000, 50);
  const after = (await l.api('GET', '/api/v1/nat')).body as { fips: Array<{ fip: string }> };
  assert.equal(after.fips.some((f) => f.fip === fip.address), false);

  // SIGUSR2: withdraw and stop, so the next driver starts from a ToR without our routes
  await l.stopAgent('SIGUSR2');
  assert.equal(l.agent?.exitCode, 0, `agent exit: ${l.logTail()}`);
}

test('agent, embedded store: POST FIP → kernel NAT + route at FRR; DELETE → both gone (root, netns, FRR)', { skip: SKIP }, async () => {
  await wholePath('embedded');
});

test('agent, etcd store: POST FIP → kernel NAT + route at FRR; DELETE → both gone (root, netns, FRR, etcd)', { skip: SKIP }, async () => {
  await wholePath('etcd');
});

test('resync repairs kernel drift: a DNAT element deleted by hand comes back; no drift, no repair (root, netns, FRR)', { skip: SKIP }, async () => {
  const start = readFileSync(l.logFile, 'utf8').length;
  const logSince = () => readFileSync(l.logFile, 'utf8').slice(start);
  await l.startAgent(l.writeConfig('embedded', { reconcile: { resyncSeconds: 1 } }));
  await l.waitEstablished();
  const fip = await createFip(l, 'vm1');
  await waitFor(`${fip.address} in the kernel DNAT map`, async () => (await l.kernelFips()).get(fip.address) === '10.0.0.5', 10000, 50);
  // three resync ticks with nothing changed: the drift check must find nothing
  await new Promise((r) => setTimeout(r, 3500));
  assert.doesNotMatch(logSince(), /drifted/, 'no drift reported while the kernel matches');

  await nsRun(l.c1, 'nft', ['delete', 'element', 'inet', 'edgeflow', 'fip4_dnat', '{', fip.address, '}']);
  assert.equal((await l.kernelFips()).has(fip.address), false);
  await waitFor(`${fip.address} restored by the resync`, async () => (await l.kernelFips()).get(fip.address) === '10.0.0.5', 10000, 100)
    .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  assert.match(logSince(), /kernel NAT drifted/);

  assert.equal((await l.api('DELETE', `/api/v1/floatingips/${fip.id}`)).status, 204);
  await waitFor(`${fip.address} gone from the kernel`, async () => !(await l.kernelFips()).has(fip.address), 10000, 50);
  await l.stopAgent('SIGUSR2');
});
