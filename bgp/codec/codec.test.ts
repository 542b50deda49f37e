// Golden tests: expected bytes from the naive builder (testing/bytes.ts), each checked
// three ways — decode gives the expected value, encode gives the bytes, and the mirror
// (decode of encode) is stable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, attr, message, updateBody, simpleUpdate } from './testing/bytes.js';
import { decodeMessage, encodeMessage, DEFAULT_CONTEXT, type CodecContext, type Message, type Family } from './index.js';

const ctxAddPath = (...f: Family[]): CodecContext => ({ ...DEFAULT_CONTEXT, addPath: new Set(f) });

function golden(name: string, bytes: Buffer, expected: Message, ctx: CodecContext = DEFAULT_CONTEXT): void {
  test(`golden ${name}: decode`, () => {
    const d = decodeMessage(bytes, ctx);
    assert.ok(d.ok, d.ok ? '' : d.error.message);
    assert.equal(d.error, undefined);
    assert.deepEqual(JSON.parse(JSON.stringify(d.message)), expected);
  });
  test(`golden ${name}: encode`, () => {
    assert.equal(encodeMessage(expected, ctx).toString('hex'), bytes.toString('hex'));
  });
  test(`golden ${name}: mirror`, () => {
    const d = decodeMessage(encodeMessage(expected, ctx), ctx);
    assert.ok(d.ok);
    assert.equal(encodeMessage(d.message, ctx).toString('hex'), bytes.toString('hex'));
  });
}

golden('KEEPALIVE', message(4, new Bytes()), { type: 'KEEPALIVE' });

golden(
  'OPEN with capabilities in one parameter',
  message(1, new Bytes()
    .u8(4).u16(23456).u16(90).ip4('192.0.2.1') // version, AS_TRANS, hold time, BGP id
    .u8(36) // optional parameters length
    .u8(2, 34) // parameter: capabilities, length
    .u8(1, 4).u16(1).u8(0, 1) // multiprotocol ipv4-unicast
    .u8(1, 4).u16(25).u8(0, 70) // multiprotocol l2vpn-evpn
    .u8(2, 0) // route refresh
    .u8(65, 4).u32(4200000001) // 4-octet AS
    .u8(64, 6).u16(0x8000 | 120).u16(1).u8(1, 0x80) // graceful restart: R bit, 120 s, ipv4-unicast with F
    .u8(69, 4).u16(1).u8(1, 3)), // add-path ipv4-unicast both
  {
    type: 'OPEN', version: 4, myAs: 23456, holdTime: 90, bgpIdentifier: '192.0.2.1',
    parameters: [{
      type: 'capabilities', capabilities: [
        { type: 'multiprotocol', family: 'ipv4-unicast' },
        { type: 'multiprotocol', family: 'l2vpn-evpn' },
        { type: 'route-refresh' },
        { type: '4-octet-as', asn: 4200000001 },
        { type: 'graceful-restart', restarting: true, notification: false, restartTime: 120, families: [{ family: 'ipv4-unicast', forwarding: true }] },
        { type: 'add-path', entries: [{ family: 'ipv4-unicast', mode: 'both' }] },
      ],
    }],
  },
);

golden(
  'OPEN with one capability per parameter, role, FQDN, LLGR, extended next hop, unknown',
  message(1, new Bytes()
    .u8(4).u16(65001).u16(180).ip4('198.51.100.1')
    .u8(48)
    .u8(2, 3).u8(9, 1, 3) // role: customer
    .u8(2, 13).u8(73, 11).u8(2).hex('6331').u8(7).hex('6578616d706c65') // fqdn c1 / example
    .u8(2, 9).u8(71, 7).u16(1).u8(1, 0x80).u24(3600) // LLGR ipv4-unicast F, 3600 s
    .u8(2, 8).u8(5, 6).u16(1).u16(1).u16(2) // extended next hop: ipv4-unicast over IPv6
    .u8(2, 5).u8(200, 3).hex('abcdef')), // unknown capability 200
  {
    type: 'OPEN', version: 4, myAs: 65001, holdTime: 180, bgpIdentifier: '198.51.100.1',
    parameters: [
      { type: 'capabilities', capabilities: [{ type: 'role', role: 'customer' }] },
      { type: 'capabilities', capabilities: [{ type: 'fqdn', hostname: 'c1', domainName: 'example' }] },
      { type: 'capabilities', capabilities: [{ type: 'long-lived-graceful-restart', families: [{ family: 'ipv4-unicast', forwarding: true, staleTime: 3600 }] }] },
      { type: 'capabilities', capabilities: [{ type: 'extended-next-hop', entries: [{ family: 'ipv4-unicast', nextHopAfi: 2 }] }] },
      { type: 'capabilities', capabilities: [{ type: 'unknown', code: 200, value: 'abcdef' }] },
    ],
  },
);

golden(
  'OPEN in the RFC 9072 extended parameters form',
  message(1, new Bytes()
    .u8(4).u16(65001).u16(90).ip4('192.0.2.9')
    .u8(255, 255).u16(9) // non-extended length 255, type 255, extended length
    .u8(2).u16(6).u8(1, 4).u16(2).u8(0, 1)), // capabilities parameter with 2-octet length
  {
    type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpIdentifier: '192.0.2.9', extendedParameters: true,
    parameters: [{ type: 'capabilities', capabilities: [{ type: 'multiprotocol', family: 'ipv6-unicast' }] }],
  },
);

golden(
  'NOTIFICATION with an RFC 8203 shutdown communication',
  message(3, new Bytes().u8(6, 2).u8(11).hex(Buffer.from('maintenance').toString('hex'))),
  { type: 'NOTIFICATION', code: 6, subcode: 2, data: '0b6d61696e74656e616e6365', shutdownMessage: 'maintenance', reason: 'Cease/Administrative Shutdown' },
);

golden('ROUTE-REFRESH (RFC 7313 BoRR)', message(5, new Bytes().u16(2).u8(1).u8(1)), { type: 'ROUTE-REFRESH', family: 'ipv6-unicast', subtype: 1 });

golden(
  'UPDATE IPv4 with communities of three kinds, MED, LOCAL_PREF, aggregator',
  message(2, updateBody(
    new Bytes().u8(24).u8(203, 0, 113), // withdrawn 203.0.113.0/24
    new Bytes()
      .add(attr(0x40, 1, new Bytes().u8(2))) // ORIGIN INCOMPLETE
      .add(attr(0x40, 2, new Bytes().u8(2, 2).u32(65001).u32(4200000000).u8(1, 2).u32(1).u32(2))) // SEQ [65001 4200000000] SET {1 2}
      .add(attr(0x40, 3, new Bytes().ip4('192.0.2.1'))) // NEXT_HOP
      .add(attr(0x80, 4, new Bytes().u32(4294967295))) // MED max (unsigned)
      .add(attr(0x40, 5, new Bytes().u32(200))) // LOCAL_PREF
      .add(attr(0x40, 6, new Bytes())) // ATOMIC_AGGREGATE
      .add(attr(0xc0, 7, new Bytes().u32(65001).ip4('192.0.2.1'))) // AGGREGATOR (4-octet)
      .add(attr(0xc0, 8, new Bytes().u16(65000).u16(100).u32(0xffffff01))) // COMMUNITIES 65000:100 NO_EXPORT
      .add(attr(0xc0, 16, new Bytes()
        .u8(0x00, 0x02).u16(65000).u32(10) // RT 65000:10
        .u8(0x01, 0x02).ip4('192.0.2.1').u16(7) // RT 192.0.2.1:7
        .u8(0x02, 0x02).u32(4200000000).u16(5) // RT 4200000000:5
        .u8(0x02, 0x03).u32(65000).u16(6) // RO 65000L:6 (4-octet form of a small AS)
        .u8(0x80, 0x06).hex('000000000000'))) // unknown: kept raw
      .add(attr(0xc0, 32, new Bytes().u32(65020).u32(1).u32(1))) // LARGE 65020:1:1
      .add(attr(0xe0, 99, new Bytes().hex('0102'))), // unknown optional transitive with Partial
    new Bytes().u8(32).u8(198, 51, 100, 7).u8(25).u8(198, 51, 100, 128).u8(0))), // NLRI /32, /25, /0
  {
    type: 'UPDATE',
    withdrawn: [{ prefix: '203.0.113.0/24' }],
    attributes: [
      { type: 'ORIGIN', value: 'INCOMPLETE' },
      { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001, 4200000000] }, { type: 'AS_SET', asns: [1, 2] }] },
      { type: 'NEXT_HOP', value: '192.0.2.1' },
      { type: 'MULTI_EXIT_DISC', value: 4294967295 },
      { type: 'LOCAL_PREF', value: 200 },
      { type: 'ATOMIC_AGGREGATE' },
      { type: 'AGGREGATOR', asn: 65001, address: '192.0.2.1' },
      { type: 'COMMUNITIES', values: ['65000:100', 'NO_EXPORT'] },
      { type: 'EXTENDED_COMMUNITIES', values: [
        { type: 'route-target', value: '65000:10' },
        { type: 'route-target', value: '192.0.2.1:7' },
        { type: 'route-target', value: '4200000000:5' },
        { type: 'route-origin', value: '65000L:6' },
        { type: 'raw', value: '8006000000000000' },
      ] },
      { type: 'LARGE_COMMUNITIES', values: ['65020:1:1'] },
      { type: 'UNKNOWN', code: 99, flags: 0xe0, value: '0102' },
    ],
    nlri: [{ prefix: '198.51.100.7/32' }, { prefix: '198.51.100.128/25' }, { prefix: '0.0.0.0/0' }],
  },
);

golden(
  'UPDATE with a 2-octet AS_PATH, AS4_PATH and AS4_AGGREGATOR (peer without 4-octet AS)',
  message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x40, 1, new Bytes().u8(0)))
    .add(attr(0x40, 2, new Bytes().u8(2, 2).u16(23456).u16(65001)))
    .add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')))
    .add(attr(0xc0, 7, new Bytes().u16(23456).ip4('192.0.2.1')))
    .add(attr(0xc0, 17, new Bytes().u8(2, 2).u32(4200000000).u32(65001)))
    .add(attr(0xc0, 18, new Bytes().u32(4200000000).ip4('192.0.2.1'))),
  new Bytes().u8(32).u8(198, 51, 100, 1))),
  {
    type: 'UPDATE', withdrawn: [], nlri: [{ prefix: '198.51.100.1/32' }],
    attributes: [
      { type: 'ORIGIN', value: 'IGP' },
      { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [23456, 65001] }] },
      { type: 'NEXT_HOP', value: '192.0.2.1' },
      { type: 'AGGREGATOR', asn: 23456, address: '192.0.2.1' },
      { type: 'AS4_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [4200000000, 65001] }] },
      { type: 'AS4_AGGREGATOR', asn: 4200000000, address: '192.0.2.1' },
    ],
  },
  { ...DEFAULT_CONTEXT, as4: false },
);

golden(
  'UPDATE IPv4 with add-path path IDs',
  message(2, updateBody(new Bytes().u32(7).u8(32).u8(198, 51, 100, 9), new Bytes()
    .add(attr(0x40, 1, new Bytes().u8(0)))
    .add(attr(0x40, 2, new Bytes()))
    .add(attr(0x40, 3, new Bytes().ip4('192.0.2.1'))),
  new Bytes().u32(1).u8(32).u8(198, 51, 100, 7).u32(4294967295).u8(32).u8(198, 51, 100, 7))),
  {
    type: 'UPDATE', withdrawn: [{ prefix: '198.51.100.9/32', pathId: 7 }],
    attributes: [{ type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments: [] }, { type: 'NEXT_HOP', value: '192.0.2.1' }],
    nlri: [{ prefix: '198.51.100.7/32', pathId: 1 }, { prefix: '198.51.100.7/32', pathId: 4294967295 }],
  },
  ctxAddPath('ipv4-unicast'),
);

golden(
  'UPDATE IPv6 unicast with global and link-local next hop',
  message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x80, 14, new Bytes().u16(2).u8(1).u8(32)
      .hex('20010db8000000000000000000000001').hex('fe800000000000000000000000000001').u8(0)
      .u8(48).hex('20010db80001').u8(128).hex('20010db8000000000000000000000007')))
    .add(attr(0x40, 1, new Bytes().u8(0)))
    .add(attr(0x40, 2, new Bytes().u8(2, 1).u32(65001))),
  new Bytes())),
  {
    type: 'UPDATE', withdrawn: [], nlri: [],
    attributes: [
      { type: 'MP_REACH_NLRI', family: 'ipv6-unicast', nextHop: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:1::/48' }, { prefix: '2001:db8::7/128' }] },
      { type: 'ORIGIN', value: 'IGP' },
      { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001] }] },
    ],
  },
);

golden(
  'UPDATE IPv4 unicast with an RFC 8950 IPv6 next hop',
  message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x80, 14, new Bytes().u16(1).u8(1).u8(16).hex('20010db8000000000000000000000001').u8(0).u8(32).u8(198, 51, 100, 7)))
    .add(attr(0x40, 1, new Bytes().u8(0)))
    .add(attr(0x40, 2, new Bytes())),
  new Bytes())),
  {
    type: 'UPDATE', withdrawn: [], nlri: [],
    attributes: [
      { type: 'MP_REACH_NLRI', family: 'ipv4-unicast', nextHop: ['2001:db8::1'], nlri: [{ prefix: '198.51.100.7/32' }] },
      { type: 'ORIGIN', value: 'IGP' },
      { type: 'AS_PATH', segments: [] },
    ],
  },
);

golden(
  'UPDATE VPNv4 (RD types 0, 1, 2) and labeled unicast',
  message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x80, 14, new Bytes().u16(1).u8(128).u8(12).hex('0000000000000000').ip4('192.0.2.20').u8(0)
      .u8(24 + 64 + 32).u24((100 << 4) | 1).u16(0).u16(65020).u32(10).u8(198, 51, 100, 8) // RD 0
      .u8(24 + 64 + 24).u24((101 << 4) | 1).u16(1).ip4('192.0.2.20').u16(3).u8(198, 51, 100) // RD 1, /24
      .u8(48 + 64 + 32).u24(200 << 4).u24((201 << 4) | 1).u16(2).u32(4200000000).u16(9).u8(198, 51, 100, 10))) // RD 2, 2 labels
    .add(attr(0x40, 1, new Bytes().u8(0)))
    .add(attr(0x40, 2, new Bytes()))
    .add(attr(0xc0, 16, new Bytes().u8(0, 2).u16(65000).u32(10))),
  new Bytes())),
  {
    type: 'UPDATE', withdrawn: [], nlri: [],
    attributes: [
      { type: 'MP_REACH_NLRI', family: 'ipv4-vpn', nextHop: ['192.0.2.20'], nlri: [
        { rd: '65020:10', prefix: '198.51.100.8/32', labels: [100] },
        { rd: '192.0.2.20:3', prefix: '198.51.100.0/24', labels: [101] },
        { rd: '4200000000:9', prefix: '198.51.100.10/32', labels: [200, 201] },
      ] },
      { type: 'ORIGIN', value: 'IGP' },
      { type: 'AS_PATH', segments: [] },
      { type: 'EXTENDED_COMMUNITIES', values: [{ type: 'route-target', value: '65000:10' }] },
    ],
  },
);

golden(
  'UPDATE VPNv4 withdrawal with the RFC 8277 0x800000 label',
  message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x80, 15, new Bytes().u16(1).u8(128).u8(24 + 64 + 32).u24(0x800000).u16(0).u16(65020).u32(10).u8(198, 51, 100, 8))),
  new Bytes())),
  {
    type: 'UPDATE', withdrawn: [], nlri: [],
    attributes: [{ type: 'MP_UNREACH_NLRI', family: 'ipv4-vpn', withdrawn: [{ rd: '65020:10', prefix: '198.51.100.8/32', labelStack: [0x800000] }] }],
  },
);

const rd = (asn: number, n: number) => new Bytes().u16(0).u16(asn).u32(n);
const esi0 = new Bytes().hex('00000000000000000000');
golden(
  'UPDATE EVPN route types 1-5 with router MAC, encapsulation, MAC mobility, PMSI',
  message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x90, 14, new Bytes().u16(25).u8(70).u8(4).ip4('192.0.2.20').u8(0)
      .u8(1, 25).add(rd(65020, 1)).hex('0011223344556677889a').u32(0xffffffff).u24(0) // type 1
      .u8(2, 33 + 4).add(rd(65020, 2)).add(esi0).u32(0).u8(48).hex('020000000001').u8(32).ip4('10.0.0.5').u24(5020) // type 2
      .u8(2, 33 + 16 + 3).add(rd(65020, 2)).add(esi0).u32(0).u8(48).hex('020000000002').u8(128).hex('20010db8000000000000000000000005').u24(5020).u24(5030)
      .u8(3, 17).add(rd(65020, 3)).u32(0).u8(32).ip4('192.0.2.20') // type 3
      .u8(4, 23).add(rd(65020, 4)).hex('0011223344556677889a').u8(32).ip4('192.0.2.20') // type 4
      .u8(5, 34).add(rd(65020, 20)).add(esi0).u32(0).u8(32).ip4('198.51.100.9').ip4('0.0.0.0').u24(5020) // type 5 IPv4
      .u8(5, 58).add(rd(65020, 20)).add(esi0).u32(0).u8(64).hex('20010db8000100000000000000000000').hex('00000000000000000000000000000000').u24(5020)
      .u8(9, 3).hex('010203'))) // unknown route type, kept raw
    .add(attr(0x40, 1, new Bytes().u8(0)))
    .add(attr(0x40, 2, new Bytes()))
    .add(attr(0xc0, 16, new Bytes()
      .u8(0x03, 0x0c).u32(0).u16(8) // encapsulation VXLAN
      .u8(0x06, 0x03).hex('020000000001') // router MAC
      .u8(0x06, 0x00).u8(1, 0).u32(7))) // MAC mobility sticky seq 7
    .add(attr(0xc0, 22, new Bytes().u8(0, 6).u24(5020).ip4('192.0.2.20'))), // PMSI ingress replication
  new Bytes())),
  {
    type: 'UPDATE', withdrawn: [], nlri: [],
    attributes: [
      { type: 'MP_REACH_NLRI', family: 'l2vpn-evpn', nextHop: ['192.0.2.20'], nlri: [
        { routeType: 1, rd: '65020:1', esi: '00:11:22:33:44:55:66:77:88:9a', ethernetTag: 4294967295, label: 0 },
        { routeType: 2, rd: '65020:2', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, mac: '02:00:00:00:00:01', ip: '10.0.0.5', labels: [5020] },
        { routeType: 2, rd: '65020:2', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, mac: '02:00:00:00:00:02', ip: '2001:db8::5', labels: [5020, 5030] },
        { routeType: 3, rd: '65020:3', ethernetTag: 0, originatorIp: '192.0.2.20' },
        { routeType: 4, rd: '65020:4', esi: '00:11:22:33:44:55:66:77:88:9a', originatorIp: '192.0.2.20' },
        { routeType: 5, rd: '65020:20', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, prefix: '198.51.100.9/32', gateway: '0.0.0.0', label: 5020 },
        { routeType: 5, rd: '65020:20', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, prefix: '2001:db8:1::/64', gateway: '::', label: 5020 },
        { routeType: 9, value: '010203' },
      ] },
      { type: 'ORIGIN', value: 'IGP' },
      { type: 'AS_PATH', segments: [] },
      { type: 'EXTENDED_COMMUNITIES', values: [
        { type: 'encapsulation', tunnelType: 8 },
        { type: 'router-mac', mac: '02:00:00:00:00:01' },
        { type: 'mac-mobility', sticky: true, sequence: 7 },
      ] },
      { type: 'PMSI_TUNNEL', pmsiFlags: 0, tunnelType: 6, label: 5020, tunnelId: '192.0.2.20' },
    ],
  },
);

golden(
  'End-of-RIB for IPv4 (empty UPDATE) and for EVPN (empty MP_UNREACH)',
  message(2, updateBody(new Bytes(), new Bytes().add(attr(0x80, 15, new Bytes().u16(25).u8(70))), new Bytes())),
  { type: 'UPDATE', withdrawn: [], nlri: [], attributes: [{ type: 'MP_UNREACH_NLRI', family: 'l2vpn-evpn', withdrawn: [] }] },
);
golden('End-of-RIB IPv4', message(2, updateBody(new Bytes(), new Bytes(), new Bytes())), { type: 'UPDATE', withdrawn: [], attributes: [], nlri: [] });

golden(
  'UPDATE with an unknown family kept raw',
  message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x80, 14, new Bytes().u16(1).u8(133).u8(0).u8(0).hex('0501180a0000')))
    .add(attr(0x40, 1, new Bytes().u8(0)))
    .add(attr(0x40, 2, new Bytes())),
  new Bytes())),
  {
    type: 'UPDATE', withdrawn: [], nlri: [],
    attributes: [
      { type: 'MP_REACH_NLRI', family: '1/133', nextHop: [], nextHopRaw: '', nlri: [], nlriRaw: '0501180a0000' },
      { type: 'ORIGIN', value: 'IGP' },
      { type: 'AS_PATH', segments: [] },
    ],
  },
);

test('a message longer than 4096 octets needs extended messages (RFC 8654)', () => {
  const prefixes = Array.from({ length: 1100 }, (_, i) => `10.${i >> 8}.${i & 255}.1/32`);
  const bytes = simpleUpdate(65001, '192.0.2.1', prefixes);
  assert.ok(bytes.length > 4096);
  const plain = decodeMessage(bytes);
  assert.ok(!plain.ok);
  assert.equal(plain.error.code, 1);
  assert.equal(plain.error.subcode, 2);
  const ext = decodeMessage(bytes, { ...DEFAULT_CONTEXT, extendedMessage: true });
  assert.ok(ext.ok);
  assert.equal((ext.message as { nlri: unknown[] }).nlri.length, 1100);
  assert.throws(() => encodeMessage(ext.message), /exceed the 4096-octet maximum/);
  assert.deepEqual(encodeMessage(ext.message, { ...DEFAULT_CONTEXT, extendedMessage: true }), bytes);
});

test('IPv6 text forms follow RFC 5952', async () => {
  const { formatIPv6, parseIPv6 } = await import('./addr.js');
  const cases: Array<[string, string]> = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'],
    ['20010db8000000010001000100010000', '2001:db8:0:1:1:1:1:0'],
  ];
  for (const [hex, text] of cases) {
    assert.equal(formatIPv6(Buffer.from(hex, 'hex')), text);
    assert.equal(Buffer.from(parseIPv6(text)).toString('hex'), hex);
  }
});
