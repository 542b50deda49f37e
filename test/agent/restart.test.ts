// A killed agent restarts without touching unchanged kernel state (root, netns, FRR, etcd).
// The agent carries FIP A; we record the nftables table with handles (`nft -a -j`) and
// our rules and routes, watch every kernel change with `nft monitor` and `ip monitor
// route rule`, SIGKILL the agent, allocate FIP B for another port straight in etcd while
// it is dead, and start it again. Once it is Established with the ToR again and has
// applied B: the only nftables changes seen are B's map elements, no route or rule was
// touched, every handle (table, chains, rules, maps) is the one from before, A never
// left the kernel, and the ToR has both /32s. Topology: test/agent/lab.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { NETNS_SKIP } from '../harness/netns.js';
import { haveFrr } from '../harness/frr.js';
import { ETCD_SKIP } from '../harness/etcd.js';
import { AgentLab, UPLINK, createFip, waitFor } from './lab.js';

const SKIP = NETNS_SKIP || (haveFrr() ? ETCD_SKIP : 'needs FRR (Debian package frr)');
const l = new AgentLab({ prefix: 'efa-rst', etcd: [{ clientPort: 24580, peerPort: 24591 }] });

before(async () => {
  if (SKIP) return;
  await l.up();
});
after(async () => {
  if (!SKIP) await l.down();
});

/** Starts a monitor in the compute namespace and collects its output lines. */
function monitor(cmd: string, args: string[]): { child: ChildProcess; lines: () => string[] } {
  const child = l.lab.spawn(l.c1, cmd, args);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, lines: () => out.split('\n').map((s) => s.trim()).filter((s) => s && !s.startsWith('#')) };
}

/** The table's objects with handles, minus map elements that mention `skip` (B's address). */
function withoutElementsOf(items: any[], skip: string): any[] {
  return items.map((it) => {
    if (!it.map || !Array.isArray(it.map.elem)) return it;
    const elem = it.map.elem.filter((e: unknown) => !JSON.stringify(e).includes(`"${skip}"`));
    return { map: { ...it.map, elem } };
  }).map((it) => (it.map && it.map.elem?.length === 0 ? { map: { ...it.map, elem: undefined } } : it));
}

test('a SIGKILLed agent restarts without re-creating kernel state and applies what changed while it was dead (root, netns, FRR, etcd)', { skip: SKIP }, async (t) => {
  const cfg = l.writeConfig('etcd');
  await l.startAgent(cfg);
  await l.waitEstablished();
  const a = await createFip(l, 'vm1');
  await waitFor('FIP A in the kernel', async () => (await l.kernelFips()).get(a.address) === '10.0.0.5', 10000, 50);
  await waitFor('FIP A at the ToR', async () => (await l.torRoutes()).has(`${a.address}/32`), 10000, 50);
  // one more pass (the activeChassis claim) settles; then the kernel is what we compare against
  await waitFor('agent idle with A active', async () => (await l.api('GET', `/api/v1/floatingips/${a.id}`)).body?.floatingip?.activeChassis === 'compute1', 10000, 50);
  const nftBefore = await l.nftJson(true);
  const plumbBefore = await l.kernelPlumb();
  assert.ok(nftBefore?.some((x) => x.rule), 'the table has rules with handles');

  const nftMon = monitor('nft', ['monitor']);
  const ipMon = monitor('ip', ['monitor', 'route', 'rule']);
  await new Promise((r) => setTimeout(r, 300));

  await l.stopAgent('SIGKILL');
  assert.equal(l.agent?.signalCode, 'SIGKILL');
  const b = await l.storeTool<{ id: string; address: string }>('allocate', { portId: 'vm2' });
  assert.notEqual(b.address, a.address);
  assert.equal((await l.kernelFips()).has(b.address), false, 'nothing applies B while the agent is dead');

  await l.startAgent(cfg);
  await l.waitEstablished();
  await waitFor('FIP B in the kernel after restart', async () => (await l.kernelFips()).get(b.address) === '10.0.0.6', 15000, 50)
    .catch((e: Error) => assert.fail(`${e.message}\n${l.logTail()}`));
  await waitFor('both FIPs at the ToR', async () => {
    const r = await l.torRoutes();
    return r.get(`${a.address}/32`)?.[0] === UPLINK && r.get(`${b.address}/32`)?.[0] === UPLINK;
  }, 15000, 50);
  await waitFor('agent claims B', async () => (await l.api('GET', `/api/v1/floatingips/${b.id}`)).body?.floatingip?.activeChassis === 'compute1', 10000, 50);
  await new Promise((r) => setTimeout(r, 300));
  nftMon.child.kill('SIGKILL');
  ipMon.child.kill('SIGKILL');

  const nftChanges = nftMon.lines();
  t.diagnostic(`nft monitor across the restart: ${nftChanges.join(' | ')}`);
  assert.ok(nftChanges.length > 0, 'nft monitor saw B being added (the monitor works)');
  assert.deepEqual(nftChanges.filter((s) => !s.includes(b.address)), [], 'only B\'s elements changed in nftables');
  assert.ok(nftChanges.every((s) => s.startsWith('add element')), `B was added, nothing deleted: ${nftChanges.join(' | ')}`);
  assert.deepEqual(ipMon.lines(), [], 'no route or rule was touched');

  const nftAfter = await l.nftJson(true);
  assert.deepEqual(withoutElementsOf(nftAfter!, b.address), withoutElementsOf(nftBefore!, b.address), 'same handles, same elements apart from B');
  assert.equal(await l.kernelPlumb(), plumbBefore, 'rules and routes identical');
  assert.equal((await l.kernelFips()).get(a.address), '10.0.0.5', 'A stayed');
});
