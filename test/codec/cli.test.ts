// The `edgeflow decode` / `edgeflow encode` contract: hex lines in, NDJSON out (errors as
// objects, exit 0), and decode | encode gives back the input bytes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Bytes, attr, message, updateBody, simpleUpdate } from '../../bgp/codec/testing/bytes.js';

const bin = join(process.cwd(), 'bin/edgeflow.js');
const run = (args: string[], input: string) => {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const valid = [
  message(4, new Bytes()).toString('hex'),
  simpleUpdate(65001, '192.0.2.1', ['198.51.100.7/32', '198.51.100.8/32']).toString('hex'),
  message(1, new Bytes().u8(4).u16(65001).u16(90).ip4('192.0.2.1').u8(8).u8(2, 6).u8(65, 4).u32(65001)).toString('hex'),
  message(3, new Bytes().u8(6, 2).u8(4).hex('62796521')).toString('hex'),
];

test('decode: one JSON object per line, malformed lines give an error object, exit 0', () => {
  const lines = [
    valid[0]!,
    `0x${valid[1]}`,
    valid[2]!.replace(/(..)/g, '$1 ').trim(), // spaces between octets
    valid[3]!.replace(/(..)(?=.)/g, '$1:'), // colons between octets
    'ffff', // too short
    'zz', // not hex
    `${valid[0]!.slice(0, 2)}fe${valid[0]!.slice(4)}`, // bad marker
  ];
  const r = run(['decode'], lines.join('\n') + '\n');
  assert.equal(r.code, 0, r.err);
  const out = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(out.length, lines.length);
  assert.deepEqual(out.slice(0, 4).map((o) => o.type), ['KEEPALIVE', 'UPDATE', 'OPEN', 'NOTIFICATION']);
  assert.equal(out[1].nlri[1].prefix, '198.51.100.8/32');
  assert.equal(out[3].shutdownMessage, 'bye!');
  for (const o of out.slice(4)) {
    assert.ok(o.error, JSON.stringify(o));
    for (const k of ['code', 'subcode', 'action', 'message']) assert.ok(k in o.error, `error has ${k}`);
  }
  assert.equal(out[6].error.code, 1);
  assert.equal(out[6].error.subcode, 1);
});

test('decode | encode reproduces the input bytes', () => {
  const d = run(['decode'], valid.join('\n') + '\n');
  const e = run(['encode'], d.out);
  assert.equal(e.code, 0, e.err + e.out);
  assert.deepEqual(e.out.trim().split('\n'), valid);
});

test('decode options: --as2, --add-path, --extended-message', () => {
  const as2 = message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x40, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes().u8(2, 2).u16(65001).u16(65002))).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1'))),
  new Bytes().u8(32).u8(198, 51, 100, 7))).toString('hex');
  const d = JSON.parse(run(['decode', '--as2'], as2).out);
  assert.deepEqual(d.attributes[1].segments[0].asns, [65001, 65002]);
  assert.equal(run(['encode', '--as2'], JSON.stringify(d)).out.trim(), as2);

  const ap = message(2, updateBody(new Bytes(), new Bytes()
    .add(attr(0x40, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes())).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1'))),
  new Bytes().u32(9).u8(32).u8(198, 51, 100, 7))).toString('hex');
  const a = JSON.parse(run(['decode', '--add-path', 'ipv4-unicast'], ap).out);
  assert.deepEqual(a.nlri, [{ prefix: '198.51.100.7/32', pathId: 9 }]);
  assert.ok(JSON.parse(run(['decode'], ap).out).error, 'without --add-path the same bytes are malformed');

  const big = simpleUpdate(65001, '192.0.2.1', Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}/32`)).toString('hex');
  assert.ok(JSON.parse(run(['decode'], big).out).error);
  assert.equal(JSON.parse(run(['decode', '--extended-message'], big).out).nlri.length, 1000);
});

test('encode: a bad object gives an error line naming the field and a non-zero exit', () => {
  const r = run(['encode'], JSON.stringify({ type: 'UPDATE', withdrawn: [], attributes: [{ type: 'NEXT_HOP', value: '300.1.1.1' }], nlri: [] }) + '\n');
  assert.notEqual(r.code, 0);
  assert.match(JSON.parse(r.out).error.message, /NEXT_HOP.*300\.1\.1\.1/);
});
