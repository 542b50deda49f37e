// Unit tests of the pure parts of nat/: address handling, validation (each error names
// its field and value), render (golden text), JSON read-back, the minimal diff, and the
// iproute2 plumbing lines. One "(root)" test feeds the golden texts to the real nft.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NAT_ERRORS, NatError, DEFAULT_CONFIG, validateDesired, buildNft, render, diffNft, parseNftJson, buildPlumb, diffPlumb, type NatConfig, type NatDesired, type NftDesired, type NftCurrent } from './index.js';
import { formatIp, notUnicastReason, parseIp, parsePrefix } from './ip.js';
import { NO_TABLE } from './parse.js';
import { emptyPlumb, parseRoutes, parseRules, parseProxies } from './plumb.js';
import { parseSnatComment } from './manager.js';

const SRC = fileURLToPath(new URL('../../nat/', import.meta.url));
const golden = (f: string): string => readFileSync(`${SRC}testdata/${f}`, 'utf8');
const CONFIG: NatConfig = { ...DEFAULT_CONFIG, externalInterface: 'eth0' };

const SAMPLE: NatDesired = {
  tenants: [
    { id: 'a', zone: 11, subnets: ['10.0.0.0/24', '2001:db8:a::/64'], ifaces: ['tapa1'], snat: { address: '198.51.100.200', portRange: { min: 20000, max: 29999 } } },
    { id: 'b', zone: 12, subnets: ['10.0.0.0/24'], ifaces: ['tapb1'], snat: { address: '198.51.100.201' } },
  ],
  ports: [{ tenant: 'a', fixedIp: '10.0.0.5', iface: 'tapa1' }],
  fips: [
    { fip: '198.51.100.7', tenant: 'a', fixedIp: '10.0.0.5' },
    { fip: '198.51.100.8', tenant: 'b', fixedIp: '10.0.0.5' },
    { fip: '2001:db8:f1:0::7', tenant: 'a', fixedIp: '2001:db8:a::5' },
  ],
};

/** A naive copy of a desired table as the kernel would report it (not via render). */
function asCurrent(d: NftDesired): NftCurrent {
  return {
    table: true,
    maps: Object.fromEntries(Object.entries(d.maps).map(([k, v]) => [k, new Map(v)])),
    chains: Object.fromEntries(Object.entries(d.chains).map(([k, rules]) => [k, rules.map((r) => r.comment)])),
  };
}
const clone = (d: NatDesired): NatDesired => JSON.parse(JSON.stringify(d)) as NatDesired;

test('ip: strict parsing and RFC 5952 canonical text', () => {
  const cases: Array<[string, string]> = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], ['::', '::'], ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['0:0:0:0:0:0:0:1', '::1'], ['2001:db8::', '2001:db8::'], ['198.51.100.7', '198.51.100.7'],
  ];
  for (const [i, o] of cases) assert.equal(parseIp(i)?.text, o, i);
  for (const bad of ['010.0.0.1', '1.2.3', '1.2.3.256', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', ' 1.2.3.4', 'x', '', '0x7f.0.0.1']) assert.equal(parseIp(bad), undefined, bad);
  assert.equal(formatIp(6, 1n), '::1');
  assert.equal(parsePrefix('10.0.0.1/24'), undefined, 'host bits set');
  assert.equal(parsePrefix('10.0.0.0/24')?.text, '10.0.0.0/24');
  for (const a of ['224.0.0.1', '255.255.255.255', '0.0.0.0', '127.0.0.1', '169.254.1.1', 'ff02::1', 'fe80::1', '::', '::1']) assert.ok(notUnicastReason(parseIp(a)!), a);
  for (const a of ['198.51.100.7', '10.0.0.5', '100.64.0.1', '2001:db8::7']) assert.equal(notUnicastReason(parseIp(a)!), undefined, a);
});

test('render: golden text of the whole table', () => {
  const got = render(buildNft(validateDesired(SAMPLE, CONFIG), 'eth0'), 'edgeflow');
  assert.equal(got, golden('render.golden.nft'));
});

test('diff: from an empty kernel, the golden install transaction', () => {
  const d = diffNft(buildNft(validateDesired(SAMPLE, CONFIG), 'eth0'), NO_TABLE, 'edgeflow');
  assert.equal(d.batch, golden('install.golden.nft'));
  assert.deepEqual(d.staleFips, []);
  assert.equal(d.added, 13);
});

test('diff: nothing to change gives an empty batch', () => {
  const want = buildNft(validateDesired(SAMPLE, CONFIG), 'eth0');
  const d = diffNft(want, asCurrent(want), 'edgeflow');
  assert.deepEqual([d.batch, d.added, d.deleted, d.chains], ['', 0, 0, []]);
});

test('diff: a moved FIP is delete + add of its elements only, and marks its flows stale', () => {
  const before = buildNft(validateDesired(SAMPLE, CONFIG), 'eth0');
  const moved = clone(SAMPLE);
  moved.fips[0] = { fip: '198.51.100.7', tenant: 'b', fixedIp: '10.0.0.9' };
  const d = diffNft(buildNft(validateDesired(moved, CONFIG), 'eth0'), asCurrent(before), 'edgeflow');
  assert.equal(d.batch, [
    'delete element inet edgeflow fip4_dnat { 198.51.100.7 }',
    'delete element inet edgeflow fip4_snat { 11 . 10.0.0.5 }',
    'delete element inet edgeflow fip4_mark { 198.51.100.7 }',
    'add element inet edgeflow fip4_dnat { 198.51.100.7 : 10.0.0.9 }',
    'add element inet edgeflow fip4_snat { 12 . 10.0.0.9 : 198.51.100.7 }',
    'add element inet edgeflow fip4_mark { 198.51.100.7 : 0x00ef000c }',
    '',
  ].join('\n'));
  assert.deepEqual(d.staleFips, ['198.51.100.7']);
});

test('diff: a changed SNAT tenant rewrites only chain snat_tenants; a drifted skeleton chain is repaired', () => {
  const before = buildNft(validateDesired(SAMPLE, CONFIG), 'eth0');
  const changed = clone(SAMPLE);
  changed.tenants[1]!.snat = { address: '198.51.100.200', portRange: { min: 30000, max: 39999 } };
  const d = diffNft(buildNft(validateDesired(changed, CONFIG), 'eth0'), asCurrent(before), 'edgeflow');
  assert.deepEqual(d.chains, ['snat_tenants']);
  assert.match(d.batch, /^flush chain inet edgeflow snat_tenants\n/);
  assert.match(d.batch, /ct original zone 12 meta l4proto \{ tcp, udp \} snat ip to 198\.51\.100\.200:30000-39999/);
  const cur = asCurrent(before);
  cur.chains.nat_post = ['efn:v1:not-tenant'];
  delete cur.chains.raw_pre;
  const r = diffNft(before, cur, 'edgeflow');
  assert.deepEqual(r.chains, ['raw_pre', 'nat_post']);
  assert.match(r.batch, /^add chain inet edgeflow raw_pre \{ type filter hook prerouting priority raw; policy accept; \}$/m);
  assert.match(r.batch, /^flush chain inet edgeflow nat_post$/m);
  assert.doesNotMatch(r.batch, /flush chain inet edgeflow raw_pre/, 'a new chain needs no flush');
});

test('parse: nft -j list output (libnftables JSON schema 1) back to element text', () => {
  const json = JSON.stringify({ nftables: [
    { metainfo: { version: '1.0.6', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'edgeflow', handle: 1 } },
    { table: { family: 'ip', name: 'edgeflow', handle: 2 } },
    { map: { family: 'inet', name: 'zone_by_iface', table: 'edgeflow', type: 'ifname', map: 'integer', elem: [['tapa1', 11]] } },
    { map: { family: 'inet', name: 'zone_mark', table: 'edgeflow', type: 'integer', map: 'mark', elem: [[11, 15663115]] } },
    { map: { family: 'inet', name: 'fip4_snat', table: 'edgeflow', type: ['integer', 'ipv4_addr'], map: 'ipv4_addr', elem: [[{ concat: [11, '10.0.0.5'] }, '198.51.100.7']] } },
    { map: { family: 'inet', name: 'fip6_dnat', table: 'edgeflow', type: 'ipv6_addr', map: 'ipv6_addr', elem: [[{ elem: { val: '2001:db8:f1::7', comment: 'x' } }, '2001:db8:a::5']] } },
    { map: { family: 'inet', name: 'fip4_dnat', table: 'other', type: 'ipv4_addr', map: 'ipv4_addr', elem: [['192.0.2.1', '10.0.0.1']] } },
    { chain: { family: 'inet', table: 'edgeflow', name: 'snat_tenants', handle: 5 } },
    { chain: { family: 'inet', table: 'edgeflow', name: 'nat_post', handle: 4, type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } },
    { rule: { family: 'inet', table: 'edgeflow', chain: 'nat_post', handle: 14, comment: 'efn:v1:not-tenant', expr: [] } },
    { rule: { family: 'inet', table: 'edgeflow', chain: 'nat_post', handle: 15, expr: [] } },
  ] });
  const cur = parseNftJson(json, 'edgeflow');
  assert.equal(cur.table, true);
  assert.deepEqual([...cur.maps.zone_by_iface!], [['"tapa1"', '11']]);
  assert.deepEqual([...cur.maps.zone_mark!], [['11', '0x00ef000b']]);
  assert.deepEqual([...cur.maps.fip4_snat!], [['11 . 10.0.0.5', '198.51.100.7']]);
  assert.deepEqual([...cur.maps.fip6_dnat!], [['2001:db8:f1::7', '2001:db8:a::5']]);
  assert.equal(cur.maps.fip4_dnat, undefined, "another table's map is not ours");
  assert.deepEqual(cur.chains, { snat_tenants: [], nat_post: ['efn:v1:not-tenant', ''] });
  assert.deepEqual(parseSnatComment('efn:snat:11:198.51.100.200:20000-29999'), [{ zone: 11, address: '198.51.100.200', portRange: { min: 20000, max: 29999 } }]);
  assert.deepEqual(parseSnatComment('efn:snat:11:198.51.100.200:20000-29999:l4'), []);
});

test('validate: every bad input names its code, field and value', () => {
  const cases: Array<[(d: NatDesired) => void, string, string, unknown]> = [
    [(d) => { d.fips[0]!.fip = '224.0.0.7'; }, 'NAT_INVALID_FIP', 'fips[0].fip', '224.0.0.7'],
    [(d) => { d.fips[0]!.fip = '198.51.100.256'; }, 'NAT_INVALID_FIP', 'fips[0].fip', '198.51.100.256'],
    [(d) => { d.fips[1]!.fixedIp = '10.0.1.5'; }, 'NAT_FIXED_IP_OUTSIDE_SUBNET', 'fips[1].fixedIp', '10.0.1.5'],
    [(d) => { d.fips[1]!.fip = '198.51.100.7'; }, 'NAT_FIP_CONFLICT', 'fips[1].fip', '198.51.100.7'],
    [(d) => { d.fips.push({ fip: '198.51.100.9', tenant: 'a', fixedIp: '10.0.0.5' }); }, 'NAT_FIXED_IP_CONFLICT', 'fips[3].fixedIp', '10.0.0.5'],
    [(d) => { d.fips[1]!.fip = '198.51.100.201'; }, 'NAT_FIP_CONFLICT', 'fips[1].fip', '198.51.100.201'],
    [(d) => { d.fips[2]!.fixedIp = '10.0.0.5'; }, 'NAT_FAMILY_MISMATCH', 'fips[2].fixedIp', '10.0.0.5'],
    [(d) => { d.fips[0]!.tenant = 'zz'; }, 'NAT_UNKNOWN_TENANT', 'fips[0].tenant', 'zz'],
    [(d) => { d.tenants[1]!.zone = 11; }, 'NAT_ZONE_CONFLICT', 'tenants[1].zone', 11],
    [(d) => { d.tenants[1]!.zone = 0; }, 'NAT_INVALID_ZONE', 'tenants[1].zone', 0],
    [(d) => { d.tenants[1]!.id = 'a'; }, 'NAT_TENANT_CONFLICT', 'tenants[1].id', 'a'],
    [(d) => { d.tenants[1]!.id = 'b"; flush ruleset'; }, 'NAT_INVALID_TENANT_ID', 'tenants[1].id', 'b"; flush ruleset'],
    [(d) => { d.tenants[1]!.ifaces = ['tapa1']; }, 'NAT_IFACE_CONFLICT', 'tenants[1].ifaces[0]', 'tapa1'],
    [(d) => { d.tenants[1]!.ifaces = ['eth0']; }, 'NAT_IFACE_CONFLICT', 'tenants[1].ifaces[0]', 'eth0'],
    [(d) => { d.tenants[1]!.ifaces = ['tap" } ; flush']; }, 'NAT_INVALID_IFACE', 'tenants[1].ifaces[0]', 'tap" } ; flush'],
    [(d) => { d.tenants[0]!.subnets = ['10.0.0.1/24']; }, 'NAT_INVALID_SUBNET', 'tenants[0].subnets[0]', '10.0.0.1/24'],
    [(d) => { d.tenants[0]!.snat = { address: '2001:db8::1' }; }, 'NAT_INVALID_ADDRESS', 'tenants[0].snat.address', '2001:db8::1'],
    [(d) => { d.tenants[0]!.snat!.portRange = { min: 30000, max: 20000 }; }, 'NAT_INVALID_PORT_RANGE', 'tenants[0].snat.portRange', { min: 30000, max: 20000 }],
    [(d) => { d.tenants[1]!.snat = { address: '198.51.100.200', portRange: { min: 29999, max: 39999 } }; }, 'NAT_PORT_RANGE_OVERLAP', 'tenants[1].snat.portRange', { min: 29999, max: 39999 }],
    [(d) => { d.ports[0]!.iface = 'tapb1'; }, 'NAT_IFACE_NOT_IN_TENANT', 'ports[0].iface', 'tapb1'],
    [(d) => { d.ports[0]!.fixedIp = '10.1.0.5'; }, 'NAT_FIXED_IP_OUTSIDE_SUBNET', 'ports[0].fixedIp', '10.1.0.5'],
  ];
  for (const [mutate, code, field, value] of cases) {
    const d = clone(SAMPLE);
    mutate(d);
    assert.throws(() => validateDesired(d, CONFIG), (e: unknown) => {
      assert.ok(e instanceof NatError, String(e));
      assert.deepEqual([e.code, e.field, e.value], [code, field, value]);
      assert.ok(e.message.includes(JSON.stringify(value)), e.message);
      return true;
    }, code);
  }
  assert.doesNotThrow(() => validateDesired(SAMPLE, CONFIG));
});

test('errors: one catalogue, every code used in nat/ is in it', () => {
  const used = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      if (f.isDirectory() && f.name !== 'testdata') walk(`${dir}${f.name}/`);
      else if (f.name.endsWith('.ts') && !f.name.endsWith('.test.ts')) for (const m of readFileSync(`${dir}${f.name}`, 'utf8').matchAll(/'(NAT_[A-Z_]+)'/g)) used.add(m[1]!);
    }
  };
  walk(SRC);
  for (const c of used) assert.ok(c in NAT_ERRORS, `${c} is not in NAT_ERRORS`);
  assert.equal(new Set(Object.values(NAT_ERRORS)).size, Object.keys(NAT_ERRORS).length, 'messages are distinct');
});

test('plumbing: tenant rules and port routes, proxies in L2 mode; read back from ip -json', () => {
  const v = validateDesired(SAMPLE, CONFIG);
  const l3 = diffPlumb(buildPlumb(v, CONFIG), emptyPlumb(), CONFIG);
  assert.deepEqual(l3.make, [
    'rule add fwmark 0xef000b lookup 10011 pref 1000 proto 188',
    '-6 rule add fwmark 0xef000b lookup 10011 pref 1000 proto 188',
    'rule add fwmark 0xef000c lookup 10012 pref 1000 proto 188',
    '-6 rule add fwmark 0xef000c lookup 10012 pref 1000 proto 188',
    'route replace 10.0.0.5/32 dev tapa1 table 10011 proto 188',
  ]);
  assert.deepEqual(l3.brk, []);
  const l2cfg: NatConfig = { ...CONFIG, mode: 'l2' };
  const l2 = diffPlumb(buildPlumb(v, l2cfg), emptyPlumb(), l2cfg);
  assert.ok(l2.make.includes('route replace 198.51.100.7/32 dev lo table 254 proto 188'));
  assert.ok(l2.make.includes('neigh replace proxy 198.51.100.7 dev eth0'));
  assert.ok(l2.make.includes('neigh replace proxy 2001:db8:f1::7 dev eth0'));
  assert.ok(l2.make.includes('neigh replace proxy 198.51.100.201 dev eth0'), 'SNAT addresses are answered for too');
  // Read back what iproute2 printed on this machine, then diff: nothing left to do.
  const cur = emptyPlumb();
  parseRoutes('[{"dst":"10.0.0.5","dev":"tapa1","table":"10011","scope":"link","flags":[]},{"dst":"10.9.0.9","dev":"tapa1","table":"10011","scope":"link","flags":[]}]', cur.routes);
  parseRules('[{"priority":0,"src":"all","table":"local"},{"priority":1000,"src":"all","fwmark":"0xef000b","table":"10011","protocol":"188"},{"priority":1000,"src":"all","fwmark":"0xef000c","table":"10012","protocol":"188"},{"priority":1000,"src":"all","fwmark":"0x1","table":"7","protocol":"186"}]', 4, cur.rules, CONFIG);
  parseRules('[{"priority":1000,"src":"all","fwmark":"0xef000b","table":"10011","protocol":"188"},{"priority":1000,"src":"all","fwmark":"0xef000c","table":"10012","protocol":"188"}]', 6, cur.rules, CONFIG);
  parseProxies('[{"dst":"192.0.2.99","dev":"eth0","proxy":null}]', cur.routes, cur.proxies);
  assert.equal(cur.proxies.size, 0, 'a proxy entry without our lo route is not ours');
  const again = diffPlumb(buildPlumb(v, CONFIG), cur, CONFIG);
  assert.deepEqual(again, { make: [], brk: ['route del 10.9.0.9/32 table 10011 proto 188'] });
});

test('(root) the golden texts are accepted by nft in a throw-away namespace', { skip: process.getuid?.() === 0 ? false : 'needs root for unshare --net' }, () => {
  const check = spawnSync('unshare', ['--net', 'nft', '-c', '-f', `${SRC}testdata/render.golden.nft`], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const apply = spawnSync('unshare', ['--net', 'sh', '-c', 'nft -f - && nft -j list table inet edgeflow'], { input: golden('install.golden.nft'), encoding: 'utf8' });
  assert.equal(apply.status, 0, apply.stderr);
  const want = buildNft(validateDesired(SAMPLE, CONFIG), 'eth0');
  assert.equal(diffNft(want, parseNftJson(apply.stdout, 'edgeflow'), 'edgeflow').batch, '', 'read back equals desired');
});
