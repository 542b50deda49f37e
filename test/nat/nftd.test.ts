// The nftd helper under NatManager in a real namespace (root, netns, python3-nftables):
// a transaction the kernel refuses is a NatError naming the FIP and leaves nothing behind;
// a killed helper is replaced on the next call; calls run in order with their own replies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Lab, NETNS_SKIP, nsRun, waitFor } from '../harness/netns.js';
import { NatError, NatManager, nftHelper, type NatDesired, type NftClient } from '../../nat/index.js';

const NS = 'efn-nftd';
const lab = new Lab();
const hasBinding = spawnSync('/usr/bin/python3', ['-c', 'import nftables'], { stdio: 'ignore' }).status === 0;
const SKIP = NETNS_SKIP || (!hasBinding && 'python3-nftables not installed (scripts/install-deps.sh)');

const desired: NatDesired = {
  tenants: [{ id: 't', zone: 7, subnets: ['10.0.0.0/24'], ifaces: ['tapa1'] }],
  ports: [],
  fips: [{ fip: '198.51.100.7', tenant: 't', fixedIp: '10.0.0.5' }],
};

let nft: NftClient;
let nat: NatManager;

before(async () => {
  if (SKIP) return;
  await lab.ns(NS);
  await nsRun(NS, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'tapa1']);
  nft = nftHelper({ netns: NS });
  nat = new NatManager({ externalInterface: 'eth0', netns: NS, nft, onWarning: (m) => assert.fail(m) });
  await nat.adopt();
  await nat.reconcile(desired);
});

after(async () => {
  nft?.close();
  await lab.cleanup();
});

const table = (): Promise<string> => nsRun(NS, 'nft', ['list', 'table', 'inet', 'edgeflow']);

test('(root, netns) nftd: a transaction the kernel refuses is a NatError naming the FIP, and none of it is applied', { skip: SKIP }, async () => {
  // Someone else put a conflicting element in one of the three maps: the third add fails.
  await nsRun(NS, 'nft', ['add element inet edgeflow fip4_mark { 198.51.100.9 : 0x1 }']);
  const before = await table();
  await assert.rejects(nat.addFip({ fip: '198.51.100.9', tenant: 't', fixedIp: '10.0.0.9' }), (e: unknown) =>
    e instanceof NatError && e.code === 'NAT_KERNEL' && e.field === 'nft' && String(e.value).includes('fip4_dnat { 198.51.100.9 : 10.0.0.9 }') && /File exists/.test(e.message));
  assert.equal(await table(), before, 'the dnat and snat elements of the same transaction were not applied');
  // The manager did not record the FIP: once the conflict is gone the same call works.
  await nsRun(NS, 'nft', ['delete element inet edgeflow fip4_mark { 198.51.100.9 }']);
  const r = await nat.addFip({ fip: '198.51.100.9', tenant: 't', fixedIp: '10.0.0.9' });
  assert.equal(r.added, 3);
  assert.match(await table(), /198\.51\.100\.9 : 10\.0\.0\.9/);
});

test('(root, netns) nftd: a killed helper fails nothing later; the next call starts a new one', { skip: SKIP }, async () => {
  const old = nft.pid;
  assert.ok(old, 'helper running');
  process.kill(old, 'SIGKILL');
  await waitFor('helper gone', () => nft.pid === undefined, 5000, 10);
  const r = await nat.removeFip('198.51.100.9');
  assert.equal(r.deleted, 3);
  assert.ok(nft.pid && nft.pid !== old, `new helper (${old} → ${nft.pid})`);
  assert.doesNotMatch(await table(), /198\.51\.100\.9/);
  const snap = await nat.read();
  assert.deepEqual(snap.fips, [{ fip: '198.51.100.7', fixedIp: '10.0.0.5', zone: 7 }]);
});

test('(root, netns) nftd: concurrent calls come back in order, each with its own reply', { skip: SKIP }, async () => {
  const names = Array.from({ length: 20 }, (_, i) => `efn_absent_${i}`);
  const rs = await Promise.all(names.map((n, i) => (i % 2 ? nft.run(`list table inet ${n}`) : nft.run('list table inet edgeflow', true))));
  rs.forEach((r, i) => {
    if (i % 2) {
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`${names[i]}`));
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /"name": "fip4_dnat"/);
    }
  });
});
