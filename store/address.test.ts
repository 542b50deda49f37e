import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bigToText, cidrContains, cidrLast, cidrOverlaps, parseCidr, parseIp } from './address.js';

const ip = (s: string) => {
  const p = parseIp(s);
  assert.ok(p.ok, s);
  return p.value;
};
const cidr = (s: string) => {
  const p = parseCidr(s);
  assert.ok(p.ok, s);
  return p.value;
};

test('parseIp accepts dotted quads and IPv6, canonical text (RFC 5952)', () => {
  assert.equal(ip('198.51.100.7').text, '198.51.100.7');
  assert.equal(ip('198.51.100.7').value, 0xc6336407n);
  assert.equal(ip('2001:DB8:0:0:0:0:0:1').text, '2001:db8::1');
  assert.equal(ip('2001:db8:0:0:1:0:0:1').text, '2001:db8::1:0:0:1');
  assert.equal(ip('::ffff:192.0.2.1').family, 6);
});

test('parseIp rejects shorthand, octal-looking, out-of-range and zoned addresses', () => {
  for (const bad of ['10.1', '010.0.0.1', '1.2.3.04', '256.1.1.1', '0x0a.0.0.1', 'fe80::1%eth0', '', 'x', '1.2.3.4/32']) {
    assert.equal(parseIp(bad).ok, false, bad);
  }
  assert.equal(parseIp(7).ok, false);
});

test('parseCidr wants the network address and says what was meant', () => {
  assert.equal(cidr('10.0.0.0/24').text, '10.0.0.0/24');
  assert.equal(cidr('2001:db8::/32').text, '2001:db8::/32');
  assert.equal(cidr('0.0.0.0/0').prefixLength, 0);
  const p = parseCidr('10.0.0.1/24');
  assert.ok(!p.ok && /host bits set \(did you mean 10\.0\.0\.0\/24\?\)/.test(p.message));
  assert.equal(parseCidr('10.0.0.0/33').ok, false);
  assert.equal(parseCidr('10.0.0.0').ok, false);
  assert.equal(parseCidr('2001:db8::/129').ok, false);
});

test('containment, overlap and last address', () => {
  assert.ok(cidrContains(cidr('10.0.0.0/24'), ip('10.0.0.255')));
  assert.ok(!cidrContains(cidr('10.0.0.0/24'), ip('10.0.1.0')));
  assert.ok(!cidrContains(cidr('10.0.0.0/8'), ip('::a00:1')));
  assert.ok(cidrOverlaps(cidr('10.0.0.0/8'), cidr('10.1.0.0/16')));
  assert.ok(!cidrOverlaps(cidr('10.0.0.0/24'), cidr('10.0.1.0/24')));
  assert.equal(bigToText(cidrLast(cidr('198.51.100.0/24')), 4), '198.51.100.255');
  assert.equal(bigToText(cidrLast(cidr('2001:db8::/64')), 6), '2001:db8::ffff:ffff:ffff:ffff');
});
