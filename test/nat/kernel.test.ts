// Kernel NAT with real packets (root, netns): an external host, a compute namespace
// running NatManager's table, and VM namespaces of two tenants whose fixed IPs overlap.
//
//   efn-ext  eth0 192.0.2.1 / 2001:db8:ff::1 ──── eth0 efn-compute (192.0.2.2, 2001:db8:ff::2)
//                                                  tapa1 ── efn-vm1  tenant A 10.0.0.5, 2001:db8:a::5 (FIP 198.51.100.7, 2001:db8:f1::7)
//                                                  tapa2 ── efn-vm2  tenant A 10.0.0.6 (SNAT only)
//                                                  tapb1 ── efn-vm3  tenant B 10.0.0.6 (SNAT only, same fixed IP as vm2)
// L3 mode: the external host routes 198.51.100.0/24 and 2001:db8:f1::/64 to the compute, as
// the ToR would after the BGP announcement.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Lab, NETNS_SKIP, nsRun, waitFor } from '../harness/netns.js';
import { NatError, NatManager, type NatDesired } from '../../nat/index.js';

const HELPER = fileURLToPath(new URL('./traffic.js', import.meta.url));
const C = 'efn-compute';
const EXT = 'efn-ext';
const PORT = 7007;
const lab = new Lab();

const desired = (): NatDesired => ({
  tenants: [
    { id: 'tenant-a', zone: 11, subnets: ['10.0.0.0/24', '2001:db8:a::/64'], ifaces: ['tapa1', 'tapa2'], snat: { address: '198.51.100.200', portRange: { min: 20000, max: 29999 } } },
    { id: 'tenant-b', zone: 12, subnets: ['10.0.0.0/24'], ifaces: ['tapb1'], snat: { address: '198.51.100.200', portRange: { min: 30000, max: 39999 } } },
  ],
  ports: [
    { tenant: 'tenant-a', fixedIp: '10.0.0.5', iface: 'tapa1' },
    { tenant: 'tenant-a', fixedIp: '2001:db8:a::5', iface: 'tapa1' },
    { tenant: 'tenant-a', fixedIp: '10.0.0.6', iface: 'tapa2' },
    { tenant: 'tenant-b', fixedIp: '10.0.0.6', iface: 'tapb1' },
  ],
  fips: [
    { fip: '198.51.100.7', tenant: 'tenant-a', fixedIp: '10.0.0.5' },
    { fip: '2001:db8:f1::7', tenant: 'tenant-a', fixedIp: '2001:db8:a::5' },
  ],
});

interface Reply { server?: string; peer?: string; peerPort?: number; replyFrom?: string; ok?: boolean; error?: string }

async function udp(ns: string, dst: string, srcPort?: number): Promise<Reply> {
  const out = await nsRun(ns, process.execPath, [HELPER, 'udp', dst, String(PORT), ...(srcPort ? [String(srcPort)] : [])], { allowFail: true });
  return out ? (JSON.parse(out) as Reply) : { error: 'no reply' };
}
async function tcp(ns: string, dst: string): Promise<Reply> {
  const out = await nsRun(ns, process.execPath, [HELPER, 'tcp', dst, String(PORT)], { allowFail: true });
  return out ? (JSON.parse(out) as Reply) : { error: 'no reply' };
}
async function serve(ns: string, name: string): Promise<void> {
  const child = lab.spawn(ns, process.execPath, [HELPER, 'serve', name, String(PORT)]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(`${name} server`, () => out.includes('ready'), 10000, 20);
}
async function kernelSnapshot(): Promise<string> {
  return [
    await nsRun(C, 'nft', ['list', 'table', 'inet', 'edgeflow']),
    await nsRun(C, 'ip', ['-N', 'route', 'show', 'table', 'all', 'proto', '188']),
    await nsRun(C, 'ip', ['-N', '-6', 'route', 'show', 'table', 'all', 'proto', '188']),
    await nsRun(C, 'ip', ['-N', 'rule', 'show']),
    await nsRun(C, 'ip', ['-N', '-6', 'rule', 'show']),
  ].join('\n---\n');
}
async function conntrackCount(args: string[]): Promise<number> {
  const out = await nsRun(C, 'conntrack', ['-L', ...args], { allowFail: true });
  return out.split('\n').filter((l) => l.trim()).length;
}

let nat: NatManager;

before(async () => {
  if (NETNS_SKIP) return;
  for (const ns of [C, EXT, 'efn-vm1', 'efn-vm2', 'efn-vm3']) await lab.ns(ns);
  await lab.link(EXT, 'eth0', ['192.0.2.1/24', '2001:db8:ff::1/64'], C, 'eth0', ['192.0.2.2/24', '2001:db8:ff::2/64']);
  await nsRun(EXT, 'ip', ['route', 'add', '198.51.100.0/24', 'via', '192.0.2.2']);
  await nsRun(EXT, 'ip', ['-6', 'route', 'add', '2001:db8:f1::/64', 'via', '2001:db8:ff::2']);
  await nsRun(C, 'ip', ['route', 'add', 'default', 'via', '192.0.2.1']);
  await nsRun(C, 'ip', ['-6', 'route', 'add', 'default', 'via', '2001:db8:ff::1']);
  const vms: Array<[string, string, string, string?]> = [['efn-vm1', 'tapa1', '10.0.0.5/24', '2001:db8:a::5/64'], ['efn-vm2', 'tapa2', '10.0.0.6/24'], ['efn-vm3', 'tapb1', '10.0.0.6/24']];
  for (const [vm, tap, v4, v6] of vms) {
    // The virt driver's part, not NAT's: a gateway address on the tap (/32, so no
    // connected route clashes between tenants) and the VM's default routes.
    await lab.link(vm, 'eth0', v6 ? [v4, v6] : [v4], C, tap, ['10.0.0.1/32', 'fe80::1/64']);
    await nsRun(vm, 'ip', ['route', 'add', '10.0.0.1', 'dev', 'eth0']);
    await nsRun(vm, 'ip', ['route', 'add', 'default', 'via', '10.0.0.1']);
    if (v6) await nsRun(vm, 'ip', ['-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0']);
    await serve(vm, vm);
  }
  await serve(EXT, 'ext');
  nat = new NatManager({ externalInterface: 'eth0', mode: 'l3', netns: C, onWarning: (m) => assert.fail(m) });
  await nat.adopt();
  await nat.reconcile(desired());
});

after(async () => {
  nat?.close();
  await lab.cleanup();
});

test('(root, netns) external → FIP reaches the right VM over TCP, UDP and NAT66, replies come from the FIP', { skip: NETNS_SKIP }, async () => {
  const u = await udp(EXT, '198.51.100.7');
  assert.deepEqual([u.server, u.peer, u.replyFrom, u.ok], ['efn-vm1', '192.0.2.1', '198.51.100.7', true], JSON.stringify(u));
  const t = await tcp(EXT, '198.51.100.7');
  assert.deepEqual([t.server, t.peer, t.replyFrom, t.ok], ['efn-vm1', '192.0.2.1', '198.51.100.7', true], JSON.stringify(t));
  const u6 = await udp(EXT, '2001:db8:f1::7');
  assert.deepEqual([u6.server, u6.peer, u6.replyFrom, u6.ok], ['efn-vm1', '2001:db8:ff::1', '2001:db8:f1::7', true], JSON.stringify(u6));
  const none = await udp(EXT, '198.51.100.8');
  assert.ok(none.error, 'an address with no FIP gets no answer');
});

test('(root, netns) VM → external leaves from its FIP, or from the SNAT address in its port slice', { skip: NETNS_SKIP }, async () => {
  const a = await tcp('efn-vm1', '192.0.2.1');
  assert.deepEqual([a.server, a.peer, a.replyFrom, a.ok], ['ext', '198.51.100.7', '192.0.2.1', true], JSON.stringify(a));
  const b = await udp('efn-vm2', '192.0.2.1');
  assert.deepEqual([b.server, b.peer, b.ok], ['ext', '198.51.100.200', true], JSON.stringify(b));
  assert.ok(b.peerPort! >= 20000 && b.peerPort! <= 29999, `tenant A's slice, got ${b.peerPort}`);
  const c = await tcp('efn-vm2', '192.0.2.1');
  assert.deepEqual([c.peer, c.ok], ['198.51.100.200', true], JSON.stringify(c));
});

test('(root, netns) two tenants with the same fixed IP and source port use SNAT at once (conntrack zones)', { skip: NETNS_SKIP }, async () => {
  const [x, y] = await Promise.all([udp('efn-vm2', '192.0.2.1', 5555), udp('efn-vm3', '192.0.2.1', 5555)]);
  assert.deepEqual([x.server, x.peer, x.ok], ['ext', '198.51.100.200', true], JSON.stringify(x));
  assert.deepEqual([y.server, y.peer, y.ok], ['ext', '198.51.100.200', true], JSON.stringify(y));
  assert.ok(x.peerPort! >= 20000 && x.peerPort! <= 29999, `tenant A port ${x.peerPort}`);
  assert.ok(y.peerPort! >= 30000 && y.peerPort! <= 39999, `tenant B port ${y.peerPort}`);
  assert.equal(await conntrackCount(['-p', 'udp', '-s', '10.0.0.6', '--sport', '5555', '--orig-zone', '11']), 1);
  assert.equal(await conntrackCount(['-p', 'udp', '-s', '10.0.0.6', '--sport', '5555', '--orig-zone', '12']), 1);
  const [tx, ty] = await Promise.all([tcp('efn-vm2', '192.0.2.1'), tcp('efn-vm3', '192.0.2.1')]);
  assert.ok(tx.ok && ty.ok, `${JSON.stringify(tx)} ${JSON.stringify(ty)}`);
});

test('(root, netns) hairpin: a VM reaches a FIP hosted on the same compute', { skip: NETNS_SKIP }, async () => {
  const r = await udp('efn-vm2', '198.51.100.7');
  assert.deepEqual([r.server, r.peer, r.replyFrom, r.ok], ['efn-vm1', '198.51.100.200', '198.51.100.7', true], JSON.stringify(r));
  const t = await udp('efn-vm3', '198.51.100.7');
  assert.deepEqual([t.server, t.peer, t.replyFrom, t.ok], ['efn-vm1', '198.51.100.200', '198.51.100.7', true], 'tenant B, whose 10.0.0.6 overlaps, too');
});

test('(root, netns) a bad request changes nothing in the kernel', { skip: NETNS_SKIP }, async () => {
  const before = await kernelSnapshot();
  const bad: Array<[() => Promise<unknown>, string, string]> = [
    [() => nat.reconcile({ ...desired(), fips: [...desired().fips, { fip: '198.51.100.9', tenant: 'tenant-b', fixedIp: '10.9.0.5' }] }), 'NAT_FIXED_IP_OUTSIDE_SUBNET', '10.9.0.5'],
    [() => nat.reconcile({ ...desired(), fips: [...desired().fips, { fip: '224.0.0.9', tenant: 'tenant-b', fixedIp: '10.0.0.6' }] }), 'NAT_INVALID_FIP', '224.0.0.9'],
    [() => nat.reconcile({ ...desired(), fips: [...desired().fips, { fip: '198.51.100.7', tenant: 'tenant-b', fixedIp: '10.0.0.6' }] }), 'NAT_FIP_CONFLICT', '198.51.100.7'],
    [() => nat.addFip({ fip: '198.51.100.7', tenant: 'tenant-b', fixedIp: '10.0.0.6' }), 'NAT_FIP_CONFLICT', '198.51.100.7'],
    [() => nat.addFip({ fip: '255.255.255.255', tenant: 'tenant-b', fixedIp: '10.0.0.6' }), 'NAT_INVALID_FIP', '255.255.255.255'],
    [() => nat.addFip({ fip: '198.51.100.9', tenant: 'tenant-a', fixedIp: '10.1.0.6' }), 'NAT_FIXED_IP_OUTSIDE_SUBNET', '10.1.0.6'],
  ];
  for (const [fn, code, value] of bad) {
    await assert.rejects(fn, (e: unknown) => e instanceof NatError && e.code === code && e.value === value && e.message.includes(value), code);
  }
  assert.equal(await kernelSnapshot(), before);
});

test('(root, netns) a FIP moved to another VM takes effect and its old conntrack entries are gone', { skip: NETNS_SKIP }, async () => {
  const first = await udp(EXT, '198.51.100.7', 6000);
  assert.equal(first.server, 'efn-vm1');
  assert.ok(await conntrackCount(['-d', '198.51.100.7']) >= 1);
  const r = await nat.moveFip({ fip: '198.51.100.7', tenant: 'tenant-b', fixedIp: '10.0.0.6' });
  assert.deepEqual(r.conntrackCleared, ['198.51.100.7']);
  await nat.settle(); // the fast path deletes conntrack entries after the commit
  assert.equal(await conntrackCount(['-d', '198.51.100.7']), 0, 'DNAT flows of the FIP deleted');
  assert.equal(await conntrackCount(['--reply-dst', '198.51.100.7']), 0, 'SNAT flows of the FIP deleted');
  const again = await udp(EXT, '198.51.100.7', 6000);
  assert.deepEqual([again.server, again.replyFrom, again.ok], ['efn-vm3', '198.51.100.7', true], 'same 5-tuple now reaches the new VM');
  const out = await udp('efn-vm3', '192.0.2.1');
  assert.equal(out.peer, '198.51.100.7', 'the new VM leaves from the FIP');
  const gone = await nat.removeFip('198.51.100.7');
  assert.equal(gone.deleted, 3);
  assert.ok((await udp(EXT, '198.51.100.7')).error, 'removed FIP no longer answers');
  await nat.addFip({ fip: '198.51.100.7', tenant: 'tenant-a', fixedIp: '10.0.0.5' });
  assert.equal((await udp(EXT, '198.51.100.7')).server, 'efn-vm1');
});

test('(root, netns) restarting the NAT owner keeps established flows and changes nothing', { skip: NETNS_SKIP }, async () => {
  const hold = lab.spawn(EXT, process.execPath, [HELPER, 'hold', '198.51.100.7', String(PORT)]);
  const lines: string[] = [];
  let partial = '';
  hold.stdout!.on('data', (d: Buffer) => {
    const all = (partial + d.toString()).split('\n');
    partial = all.pop() ?? '';
    lines.push(...all);
  });
  await waitFor('long-lived TCP flow answering', () => lines.filter((l) => l.includes('efn-vm1')).length >= 3, 10000, 20);
  const handles = await nsRun(C, 'nft', ['-a', 'list', 'table', 'inet', 'edgeflow']);
  // A new owner (as after an agent restart) adopts and reconciles the same intent.
  const fresh = new NatManager({ externalInterface: 'eth0', mode: 'l3', netns: C, onWarning: (m) => assert.fail(m) });
  const adopted = await fresh.adopt();
  assert.equal(adopted.nftBatch, '', 'adopt found everything in place');
  const again = await fresh.reconcile(desired());
  assert.equal(again.nftBatch, '', 'full resync with nothing to change sends no transaction');
  assert.deepEqual(again.ipLines, []);
  assert.equal(await nsRun(C, 'nft', ['-a', 'list', 'table', 'inet', 'edgeflow']), handles, 'same objects, same handles: nothing was recreated');
  const seen = lines.length;
  await waitFor('flow still answering after the restart', () => lines.slice(seen).filter((l) => l.includes('efn-vm1')).length >= 3, 10000, 20);
  assert.ok(!lines.some((l) => l.includes('error')), lines.filter((l) => l.includes('error')).join());
  const nums = lines.filter((l) => l.startsWith('{"server"')).map((l) => Number((JSON.parse(l) as { nonce: string }).nonce));
  assert.deepEqual(nums, nums.map((_, i) => i), 'every request answered, in order');
  hold.kill('SIGKILL');
  nat.close();
  nat = fresh;
});

test('(root, netns) reconcile repairs drift: a missing element and an edited chain come back, foreign tables untouched', { skip: NETNS_SKIP }, async () => {
  await nsRun(C, 'nft', ['-f', '-'], { input: 'table ip efn_foreign {\n chain c {\n type filter hook input priority 0; policy accept;\n }\n}\n' });
  await nsRun(C, 'nft', ['delete', 'element', 'inet', 'edgeflow', 'fip4_dnat', '{ 198.51.100.7 }']);
  await nsRun(C, 'nft', ['flush', 'chain', 'inet', 'edgeflow', 'nat_post']);
  const snap = await nat.read();
  assert.deepEqual(snap.driftedChains, ['nat_post']);
  const r = await nat.reconcile(desired());
  assert.deepEqual(r.chainsRewritten, ['nat_post']);
  assert.equal(r.added, 1);
  assert.equal((await udp(EXT, '198.51.100.7')).server, 'efn-vm1');
  assert.equal((await udp('efn-vm2', '192.0.2.1')).peer, '198.51.100.200');
  assert.match(await nsRun(C, 'nft', ['list', 'tables']), /efn_foreign/);
  const read = await nat.read();
  assert.deepEqual(read.driftedChains, []);
  assert.deepEqual(read.fips.map((f) => f.fip).sort(), ['198.51.100.7', '2001:db8:f1::7']);
  assert.deepEqual(read.snat, [{ zone: 11, address: '198.51.100.200', portRange: { min: 20000, max: 29999 } }, { zone: 12, address: '198.51.100.200', portRange: { min: 30000, max: 39999 } }]);
});

test('(root, netns) removing a NAT66 FIP deletes its IPv6 conntrack entries too', { skip: NETNS_SKIP }, async () => {
  const fip = '2001:db8:f1::7';
  assert.equal((await udp(EXT, fip, 6001)).server, 'efn-vm1');
  assert.ok(await conntrackCount(['-f', 'ipv6', '-d', fip]) >= 1, 'a flow to the FIP is tracked');
  const r = await nat.removeFip(fip);
  assert.deepEqual([r.deleted, r.conntrackCleared], [3, [fip]]);
  await nat.settle();
  assert.equal(await conntrackCount(['-f', 'ipv6', '-d', fip]), 0, 'its flows are gone');
  await nat.addFip({ fip, tenant: 'tenant-a', fixedIp: '2001:db8:a::5' });
  assert.equal((await udp(EXT, fip, 6001)).server, 'efn-vm1', 'added again, the same 5-tuple works');
});
