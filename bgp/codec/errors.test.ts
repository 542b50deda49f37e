// Error handling: each malformed input gives the NOTIFICATION code/subcode RFC 4271 §6
// prescribes and the RFC 7606 action; recoverable UPDATE errors keep the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, attr, message, updateBody, simpleUpdate } from './testing/bytes.js';
import { decodeMessage, DEFAULT_CONTEXT, type ErrorAction, type UpdateMessage } from './index.js';

const base = () => new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(0)))
  .add(attr(0x40, 2, new Bytes().u8(2, 1).u32(65001)))
  .add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')));
const nlri = () => new Bytes().u8(32).u8(198, 51, 100, 7);
const upd = (attrs: Bytes, n = nlri(), withdrawn = new Bytes()) => message(2, updateBody(withdrawn, attrs, n));

function expectFatal(name: string, bytes: Buffer, code: number, subcode: number) {
  test(`fatal: ${name} → ${code}/${subcode} session reset`, () => {
    const d = decodeMessage(bytes);
    assert.equal(d.ok, false, 'expected a fatal error');
    if (d.ok) return;
    assert.equal(d.error.code, code, d.error.message);
    assert.equal(d.error.subcode, subcode, d.error.message);
    assert.equal(d.error.action, 'session-reset');
  });
}

function expectRecoverable(name: string, bytes: Buffer, subcode: number, action: ErrorAction, check?: (m: UpdateMessage) => void) {
  test(`recoverable: ${name} → 3/${subcode} ${action}`, () => {
    const d = decodeMessage(bytes);
    assert.ok(d.ok, d.ok ? '' : d.error.message);
    assert.ok(d.error, 'expected an RFC 7606 error');
    assert.equal(d.error.code, 3);
    assert.equal(d.error.subcode, subcode, d.error.message);
    assert.equal(d.error.action, action);
    check?.(d.message as UpdateMessage);
  });
}

// ---- header (RFC 4271 §6.1)
const ka = message(4, new Bytes());
expectFatal('marker not all ones', Buffer.concat([Buffer.from([0xfe]), ka.subarray(1)]), 1, 1);
expectFatal('length below the minimum', Buffer.from('ffffffffffffffffffffffffffffffff001204', 'hex'), 1, 2);
expectFatal('KEEPALIVE with a body', message(4, new Bytes().u8(0)), 1, 2);
expectFatal('unknown message type', message(9, new Bytes()), 1, 3);
expectFatal('length field disagrees with the bytes given', Buffer.concat([ka, Buffer.from([0])]), 1, 2);
expectFatal('fewer than 19 octets', Buffer.from('ffff', 'hex'), 1, 2);
test('bad message type carries the type as data; bad length carries the length', () => {
  const t = decodeMessage(message(9, new Bytes()));
  assert.ok(!t.ok);
  assert.equal(Buffer.from(t.error.data).toString('hex'), '09');
  const l = decodeMessage(message(4, new Bytes().u8(0)));
  assert.ok(!l.ok);
  assert.equal(Buffer.from(l.error.data).toString('hex'), '0014');
});

// ---- OPEN (RFC 4271 §6.2)
const open = (version: number, hold: number, id: string, params = new Bytes()) =>
  message(1, new Bytes().u8(version).u16(65001).u16(hold).ip4(id).u8(params.length).add(params));
expectFatal('OPEN version 3', open(3, 90, '192.0.2.1'), 2, 1);
expectFatal('OPEN hold time 2', open(4, 2, '192.0.2.1'), 2, 6);
expectFatal('OPEN BGP identifier 0.0.0.0', open(4, 90, '0.0.0.0'), 2, 3);
expectFatal('OPEN parameter overruns', open(4, 90, '192.0.2.1', new Bytes().u8(2, 9).u8(1, 4)), 2, 4);
test('OPEN version error data is the highest version we speak (RFC 4271 §6.2)', () => {
  const d = decodeMessage(open(3, 90, '192.0.2.1'));
  assert.ok(!d.ok);
  assert.equal(Buffer.from(d.error.data).toString('hex'), '0004');
});
test('a truncated capability is kept raw, not fatal', () => {
  const d = decodeMessage(open(4, 90, '192.0.2.1', new Bytes().u8(2, 4).u8(65, 2).u16(1)));
  assert.ok(d.ok);
  assert.deepEqual((d.message as { parameters: unknown }).parameters, [{ type: 'capabilities', capabilities: [{ type: 'unknown', code: 65, value: '0001' }] }]);
});

// ---- UPDATE fatal (RFC 7606 §3, §5.3)
expectFatal('withdrawn length exceeds the message', message(2, new Bytes().u16(50).u16(0)), 3, 1);
expectFatal('total attribute length exceeds the message', message(2, new Bytes().u16(0).u16(40)), 3, 1);
expectFatal('NLRI prefix length 33', upd(base(), new Bytes().u8(33).u8(1, 2, 3, 4, 5)), 3, 10);
expectFatal('NLRI prefix overruns', upd(base(), new Bytes().u8(32).u8(1, 2)), 3, 10);
expectFatal('withdrawn prefix overruns', upd(new Bytes(), new Bytes(), new Bytes().u8(24).u8(10)), 3, 10);
expectFatal('MP_REACH_NLRI twice', upd(base()
  .add(attr(0x80, 14, new Bytes().u16(2).u8(1).u8(16).hex('20010db8000000000000000000000001').u8(0)))
  .add(attr(0x80, 14, new Bytes().u16(2).u8(1).u8(16).hex('20010db8000000000000000000000001').u8(0)))), 3, 1);
expectFatal('unrecognized well-known attribute', upd(base().add(attr(0x40, 99, new Bytes().u8(1)))), 3, 2);
test('MP_REACH with a malformed NLRI disables the family (RFC 7606 §7.11)', () => {
  const d = decodeMessage(upd(base().add(attr(0x80, 14, new Bytes().u16(2).u8(1).u8(16).hex('20010db8000000000000000000000001').u8(0).u8(129).hex('20')))));
  assert.ok(!d.ok);
  assert.equal(d.error.action, 'afi-safi-disable');
  assert.equal(d.error.subcode, 9);
});

// ---- UPDATE recoverable (RFC 7606 §7)
expectRecoverable('ORIGIN value 3', upd(new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(3))).add(attr(0x40, 2, new Bytes())).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')))), 6, 'treat-as-withdraw',
(m) => assert.equal(m.nlri.length, 1, 'NLRI are kept for the session to withdraw'));
expectRecoverable('ORIGIN length 2', upd(new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(0, 0))).add(attr(0x40, 2, new Bytes())).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')))), 5, 'treat-as-withdraw');
expectRecoverable('AS_PATH segment of length zero', upd(new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes().u8(2, 0))).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')))), 11, 'treat-as-withdraw');
expectRecoverable('AS_PATH unknown segment type', upd(new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes().u8(7, 1).u32(1))).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')))), 11, 'treat-as-withdraw');
expectRecoverable('AS_PATH with a lone trailing octet', upd(new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes().u8(2, 1).u32(1).u8(2))).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')))), 11, 'treat-as-withdraw');
expectRecoverable('NEXT_HOP of 3 octets', upd(new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes())).add(attr(0x40, 3, new Bytes().u8(1, 2, 3)))), 5, 'treat-as-withdraw');
expectRecoverable('MED of 2 octets', upd(base().add(attr(0x80, 4, new Bytes().u16(1)))), 5, 'treat-as-withdraw');
expectRecoverable('ORIGIN flagged optional (flags conflict)', upd(new Bytes()
  .add(attr(0xc0, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes())).add(attr(0x40, 3, new Bytes().ip4('192.0.2.1')))), 4, 'treat-as-withdraw');
expectRecoverable('ATOMIC_AGGREGATE with a value', upd(base().add(attr(0x40, 6, new Bytes().u8(1)))), 5, 'attribute-discard',
  (m) => assert.ok(!m.attributes.some((a) => a.type === 'ATOMIC_AGGREGATE'), 'discarded'));
expectRecoverable('AGGREGATOR of 7 octets', upd(base().add(attr(0xc0, 7, new Bytes().u8(1, 2, 3, 4, 5, 6, 7)))), 5, 'attribute-discard');
expectRecoverable('COMMUNITIES of 5 octets', upd(base().add(attr(0xc0, 8, new Bytes().u8(1, 2, 3, 4, 5)))), 5, 'treat-as-withdraw');
expectRecoverable('EXTENDED_COMMUNITIES of 4 octets', upd(base().add(attr(0xc0, 16, new Bytes().u32(1)))), 5, 'treat-as-withdraw');
expectRecoverable('LARGE_COMMUNITIES of 8 octets', upd(base().add(attr(0xc0, 32, new Bytes().u32(1).u32(2)))), 5, 'treat-as-withdraw');
expectRecoverable('AS4_PATH malformed', upd(base().add(attr(0xc0, 17, new Bytes().u8(2, 2).u32(1)))), 9, 'attribute-discard');
expectRecoverable('COMMUNITIES of length zero', upd(base().add(attr(0xc0, 8, new Bytes()))), 5, 'treat-as-withdraw');
expectRecoverable('missing NEXT_HOP with NLRI', upd(new Bytes()
  .add(attr(0x40, 1, new Bytes().u8(0))).add(attr(0x40, 2, new Bytes()))), 3, 'treat-as-withdraw');
expectRecoverable('attribute length overruns the attribute list', upd(base().add(new Bytes().u8(0xc0, 8, 200).u32(1))), 5, 'treat-as-withdraw',
  (m) => assert.equal(m.nlri.length, 1, 'the NLRI field is still located by the total attribute length'));
expectRecoverable('a lone octet after the last attribute', upd(base().u8(0x40)), 1, 'treat-as-withdraw');
expectRecoverable('a repeated LOCAL_PREF is discarded', upd(base().add(attr(0x40, 5, new Bytes().u32(100))).add(attr(0x40, 5, new Bytes().u32(200)))), 1, 'attribute-discard',
  (m) => assert.deepEqual(m.attributes.filter((a) => a.type === 'LOCAL_PREF'), [{ type: 'LOCAL_PREF', value: 100 }]));
test('treat-as-withdraw wins over attribute-discard (strongest action kept)', () => {
  const d = decodeMessage(upd(base().add(attr(0x40, 6, new Bytes().u8(1))).add(attr(0xc0, 8, new Bytes().u8(1)))));
  assert.ok(d.ok);
  assert.equal(d.error?.action, 'treat-as-withdraw');
});
test('a withdrawal-only UPDATE needs no attributes', () => {
  const d = decodeMessage(upd(new Bytes(), new Bytes(), nlri()));
  assert.ok(d.ok);
  assert.equal(d.error, undefined);
});
test('the erroneous attribute is the NOTIFICATION data (RFC 4271 §6.3)', () => {
  const d = decodeMessage(upd(base().add(attr(0x80, 4, new Bytes().u16(1)))));
  assert.ok(d.ok && d.error);
  assert.equal(Buffer.from(d.error.data).toString('hex'), '8004020001');
});
test('JSON of an error names code, subcode, action and a human message', () => {
  const d = decodeMessage(simpleUpdate(65001, '192.0.2.1', ['198.51.100.7/32']).subarray(0, 30), DEFAULT_CONTEXT);
  assert.ok(!d.ok);
  const j = JSON.parse(JSON.stringify(d.error));
  assert.deepEqual(Object.keys(j).sort(), ['action', 'code', 'data', 'message', 'subcode']);
  assert.match(j.message, /^Message Header Error\/Bad Message Length/);
});
