// MRT TABLE_DUMP_V2 import: a file written by peerlab's mkmrt.py (python3) and a
// hand-built one (naive, field-commented builder below) with IPv4, IPv6 (abbreviated
// MP_REACH), RIB_GENERIC VPNv4, add-path entries, a non-TABLE_DUMP_V2 record, and a
// truncated record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rib } from '../rib/index.js';
import { loadMrt, readTableDump, MrtError, type MrtRoute } from './index.js';

const MKMRT = '/work/shared/peerlab/mkmrt.py';
const hasPython = (() => {
  try {
    execFileSync('python3', ['--version']);
    return existsSync(MKMRT);
  } catch {
    return false;
  }
})();

test('a file from peerlab mkmrt.py (python3) loads as local routes', { skip: hasPython ? false : `needs python3 and ${MKMRT}` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rib-mrt-'));
  try {
    const file = join(dir, 't.mrt');
    execFileSync('python3', [MKMRT, '1000', '192.0.2.1', '65001', file]);
    const rib = new Rib({ asn: 65020, routerId: '192.0.2.20' });
    const { routes, table, stats } = loadMrt(rib, readFileSync(file));
    assert.equal(routes, 1000);
    assert.equal(stats.ribEntries, 1000);
    assert.deepEqual(table?.peers, [{ index: 0, bgpId: '192.0.2.1', address: '192.0.2.1', asn: 65001 }]);
    assert.equal(rib.size('ipv4-unicast'), 1000);
    const best = rib.best('ipv4-unicast', '100.64.3.231/32')!;
    assert.equal(best.source.id, 'local');
    assert.deepEqual(best.attrs.nextHop, ['192.0.2.1']);
    assert.deepEqual(best.attrs.segments, [{ type: 'AS_SEQUENCE', asns: [65001] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- naive builder: every field written by hand, big-endian
const u16 = (v: number) => [v >> 8, v & 255];
const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const ip4 = (s: string) => s.split('.').map(Number);
function record(type: number, subtype: number, body: number[]): number[] {
  return [...u32(1700000000), ...u16(type), ...u16(subtype), ...u32(body.length), ...body];
}
const ORIGIN_IGP = [0x40, 1, 1, 0];
const asPath4 = (...asns: number[]) => [0x40, 2, 2 + 4 * asns.length, 2, asns.length, ...asns.flatMap(u32)];
const nextHop = (s: string) => [0x40, 3, 4, ...ip4(s)];
const communities = (...c: Array<[number, number]>) => [0xc0, 8, 4 * c.length, ...c.flatMap(([a, b]) => [...u16(a), ...u16(b)])];
// 2001:db8::1 as 16 octets
const V6_NH = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
function entry(peer: number, attrs: number[], pathId?: number): number[] {
  return [...u16(peer), ...u32(1700000000), ...(pathId !== undefined ? u32(pathId) : []), ...u16(attrs.length), ...attrs];
}

function handBuilt(): Buffer {
  const peerIndex = [
    ...ip4('192.0.2.254'), // collector BGP ID
    ...u16(4), ...[...'test'].map((c) => c.charCodeAt(0)), // view name
    ...u16(2), // peer count
    0x00, ...ip4('192.0.2.1'), ...ip4('192.0.2.1'), ...u16(65001), // IPv4, 2-octet AS
    0x03, ...ip4('192.0.2.2'), ...V6_NH, ...u32(4200000002), // IPv6 address, 4-octet AS
  ];
  const v4 = [
    ...u32(0), 24, 198, 51, 100, // sequence, 198.51.100.0/24
    ...u16(2),
    ...entry(0, [...ORIGIN_IGP, ...asPath4(65001), ...nextHop('192.0.2.1'), ...communities([65001, 7])]),
    ...entry(1, [...ORIGIN_IGP, ...asPath4(4200000002, 65003), ...nextHop('192.0.2.2')]),
  ];
  const v6 = [
    ...u32(1), 48, 0x20, 0x01, 0x0d, 0xb8, 0, 7, // 2001:db8:7::/48
    ...u16(1),
    ...entry(1, [...ORIGIN_IGP, ...asPath4(4200000002), 0x80, 14, 17, 16, ...V6_NH]), // abbreviated MP_REACH: nh length + nh
  ];
  const vpn = [
    ...u32(2), ...u16(1), 128, // RIB_GENERIC, AFI 1 SAFI 128
    24 + 64 + 32, 0x00, 0x06, 0x41, // prefix bits, label 100 with bottom of stack
    0, 0, ...u16(65020), ...u32(10), // RD 65020:10
    198, 51, 100, 8, // 198.51.100.8/32
    ...u16(1),
    ...entry(0, [...ORIGIN_IGP, ...asPath4(65001), 0x80, 14, 13, 12, 0, 0, 0, 0, 0, 0, 0, 0, ...ip4('192.0.2.1')]),
  ];
  const addPath = [
    ...u32(3), 32, 203, 0, 113, 9, // 203.0.113.9/32
    ...u16(2),
    ...entry(0, [...ORIGIN_IGP, ...asPath4(65001, 65009), ...nextHop('192.0.2.1')], 11),
    ...entry(0, [...ORIGIN_IGP, ...asPath4(65001), ...nextHop('192.0.2.1')], 12),
  ];
  return Buffer.from([
    ...record(13, 1, peerIndex),
    ...record(16, 4, [1, 2, 3]), // BGP4MP: not ours, skipped
    ...record(13, 2, v4),
    ...record(13, 4, v6),
    ...record(13, 6, vpn),
    ...record(13, 8, addPath),
  ]);
}

test('hand-built file: peer table, IPv4, IPv6 with abbreviated MP_REACH, RIB_GENERIC VPNv4, add-path entries', () => {
  const routes: MrtRoute[] = [];
  const { table, stats } = readTableDump(handBuilt(), (r) => routes.push(r));
  assert.deepEqual(table, {
    collectorId: '192.0.2.254', viewName: 'test',
    peers: [{ index: 0, bgpId: '192.0.2.1', address: '192.0.2.1', asn: 65001 }, { index: 1, bgpId: '192.0.2.2', address: '2001:db8::1', asn: 4200000002 }],
  });
  assert.deepEqual(stats, { records: 6, ribEntries: 6, skippedRecords: 1, badEntries: 0 });
  const summary = routes.map((r) => [r.family, JSON.stringify(r.nlri), r.nextHop.join(','), r.peer?.asn, r.entry, r.pathId]);
  assert.deepEqual(summary, [
    ['ipv4-unicast', '{"prefix":"198.51.100.0/24"}', '192.0.2.1', 65001, 0, undefined],
    ['ipv4-unicast', '{"prefix":"198.51.100.0/24"}', '192.0.2.2', 4200000002, 1, undefined],
    ['ipv6-unicast', '{"prefix":"2001:db8:7::/48"}', '2001:db8::1', 4200000002, 0, undefined],
    ['ipv4-vpn', '{"rd":"65020:10","prefix":"198.51.100.8/32","labels":[100]}', '192.0.2.1', 65001, 0, undefined],
    ['ipv4-unicast', '{"prefix":"203.0.113.9/32"}', '192.0.2.1', 65001, 0, 11],
    ['ipv4-unicast', '{"prefix":"203.0.113.9/32"}', '192.0.2.1', 65001, 1, 12],
  ]);
  assert.deepEqual(routes[0]!.attrs, [
    { type: 'ORIGIN', value: 'IGP' },
    { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001] }] },
    { type: 'COMMUNITIES', values: ['65001:7'] },
  ]);
  assert.deepEqual(routes[1]!.attrs[1], { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [4200000002, 65003] }] }, '4-octet ASNs (RFC 6396 §4.3.4)');

  const rib = new Rib({ asn: 65020, routerId: '192.0.2.20' });
  assert.equal(loadMrt(rib, handBuilt()).routes, 4, 'first entry per prefix');
  assert.deepEqual(rib.best('ipv4-unicast', '198.51.100.0/24')?.attrs.nextHop, ['192.0.2.1']);
  assert.ok(rib.best('ipv4-vpn', '65020:10|198.51.100.8/32'));
  const all = new Rib({ asn: 65020, routerId: '192.0.2.20' });
  assert.equal(loadMrt(all, handBuilt(), { entries: 'all', nextHop: '192.0.2.20' }).routes, 6);
  assert.equal(all.paths('ipv4-unicast', '203.0.113.9/32').length, 2);
  assert.equal(all.explain('ipv4-unicast', '203.0.113.9/32')?.reason, 'as-path-length');
  assert.deepEqual(all.best('ipv4-unicast', '203.0.113.9/32')?.attrs.nextHop, ['192.0.2.20']);
});

test('malformed files: truncated header, record overrunning the file, entry overrunning its record', () => {
  const good = handBuilt();
  assert.throws(() => readTableDump(good.subarray(0, 5), () => {}), MrtError);
  assert.throws(() => readTableDump(good.subarray(0, good.length - 1), () => {}), /overruns the file/);
  const bad = Buffer.from(record(13, 2, [...u32(0), 32, 1, 2, 3, 4, ...u16(1), ...u16(0), ...u32(0), ...u16(50), 0x40, 1, 1, 0]));
  assert.throws(() => readTableDump(bad, () => {}), /attributes overruns the record/);
  // Undecodable attributes are counted, not fatal.
  const junk = Buffer.from(record(13, 2, [...u32(0), 32, 1, 2, 3, 4, ...u16(1), ...entry(0, [0x40, 1, 5, 0, 0, 0, 0, 0])]));
  const routes: MrtRoute[] = [];
  assert.equal(readTableDump(junk, (r) => routes.push(r)).stats.badEntries, 1);
  assert.equal(routes.length, 0);
});
