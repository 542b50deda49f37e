// L2 mode (root, netns): the FIP is on the external subnet itself, so the external host
// ARPs for it; the compute answers through a proxy ARP entry, and announces a FIP that
// arrives with a gratuitous ARP (iputils `arping -U`; that part skips without arping).
//
//   efn-l2-ext eth0 192.0.2.1/24 ──── eth0 efn-l2-c 192.0.2.2/24 ── tap1 ── efn-l2-vm 10.0.0.5/24
//   FIP 192.0.2.100 → 10.0.0.5 (tenant zone 21)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Lab, NETNS_SKIP, nsRun, waitFor } from '../harness/netns.js';
import { NatManager, type NatDesired } from '../../nat/index.js';

const HELPER = fileURLToPath(new URL('./traffic.js', import.meta.url));
const [E, C, V] = ['efn-l2-ext', 'efn-l2-c', 'efn-l2-vm'];
const lab = new Lab();
const desired: NatDesired = {
  tenants: [{ id: 't', zone: 21, subnets: ['10.0.0.0/24'], ifaces: ['tap1'] }],
  ports: [{ tenant: 't', fixedIp: '10.0.0.5', iface: 'tap1' }],
  fips: [{ fip: '192.0.2.100', tenant: 't', fixedIp: '10.0.0.5' }],
};
let hasArping = false;
try { execFileSync('arping', ['-V'], { stdio: 'ignore' }); hasArping = true; } catch { /* absent */ }
const warnings: string[] = [];
let nat: NatManager;

async function udp(dst: string): Promise<{ server?: string; replyFrom?: string; error?: string }> {
  const out = await nsRun(E, process.execPath, [HELPER, 'udp', dst, '7007'], { allowFail: true });
  return out ? JSON.parse(out) : { error: 'no reply' };
}
async function extNeigh(ip: string): Promise<string> {
  return (await nsRun(E, 'ip', ['neigh', 'show', ip, 'dev', 'eth0'])).trim();
}

before(async () => {
  if (NETNS_SKIP) return;
  for (const ns of [E, C, V]) await lab.ns(ns);
  await lab.link(E, 'eth0', '192.0.2.1/24', C, 'eth0', '192.0.2.2/24');
  await lab.link(V, 'eth0', '10.0.0.5/24', C, 'tap1', '10.0.0.1/32');
  await nsRun(V, 'ip', ['route', 'add', '10.0.0.1', 'dev', 'eth0']);
  await nsRun(V, 'ip', ['route', 'add', 'default', 'via', '10.0.0.1']);
  const srv = lab.spawn(V, process.execPath, [HELPER, 'serve', 'vm', '7007']);
  let out = '';
  srv.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('vm server', () => out.includes('ready'), 10000, 20);
  nat = new NatManager({ externalInterface: 'eth0', mode: 'l2', netns: C, onWarning: (m) => warnings.push(m) });
  await nat.adopt();
  await nat.reconcile(desired);
  await nat.settle();
});

after(async () => {
  nat?.close();
  await lab.cleanup();
});

test('(root, netns) L2 mode: the compute answers ARP for an on-link FIP and NAT works', { skip: NETNS_SKIP }, async () => {
  // The first datagram waits for ARP; under load give it a few tries.
  const r = await waitFor('first reply through the FIP', async () => { const x = await udp('192.0.2.100'); return x.server ? x : undefined; }, 15000, 100).catch(() => ({} as { server?: string; replyFrom?: string }));
  assert.deepEqual([r.server, r.replyFrom], ['vm', '192.0.2.100'], JSON.stringify(r));
  const mac = (await nsRun(C, 'cat', ['/sys/class/net/eth0/address'])).trim();
  assert.match(await extNeigh('192.0.2.100'), new RegExp(`lladdr ${mac}`));
  assert.match(await nsRun(C, 'ip', ['neigh', 'show', 'proxy', 'dev', 'eth0']), /192\.0\.2\.100/);
});

test('(root, netns) L2 mode: a FIP that arrives is announced by gratuitous ARP (arping -U)', { skip: NETNS_SKIP || (!hasArping && 'arping not installed (Debian package iputils-arping)') }, async () => {
  await nat.removeFip('192.0.2.100');
  assert.doesNotMatch(await nsRun(C, 'ip', ['neigh', 'show', 'proxy', 'dev', 'eth0']), /192\.0\.2\.100/, 'proxy entry removed');
  assert.doesNotMatch(await nsRun(C, 'ip', ['route', 'show', 'proto', '188']), /192\.0\.2\.100/, 'lo route removed');
  // The external host still believes an old owner's MAC.
  await nsRun(E, 'ip', ['neigh', 'replace', '192.0.2.100', 'lladdr', '02:00:00:00:00:01', 'dev', 'eth0', 'nud', 'stale']);
  await nat.addFip({ fip: '192.0.2.100', tenant: 't', fixedIp: '10.0.0.5' });
  await nat.settle();
  assert.deepEqual(warnings, []);
  const mac = (await nsRun(C, 'cat', ['/sys/class/net/eth0/address'])).trim();
  assert.match(await extNeigh('192.0.2.100'), new RegExp(`lladdr ${mac}`), 'gratuitous ARP updated the neighbour entry');
  assert.equal((await udp('192.0.2.100')).server, 'vm');
});
