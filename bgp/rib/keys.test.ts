// Route keys: IPv4 unicast/multicast keys are numbers (a /32 an int32, other lengths
// (len + 1) · 2^32 + address); text keys elsewhere. The text form round-trips, decoded
// prefixes (no text made) give the same key as the text, and every length is distinct.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Prefix4 } from '../codec/index.js';
import { compositeKey, ipv4Key, keyOf, keyText, routeKey, splitComposite } from './keys.js';
import { nlriSize, writeNlri } from './pack.js';
import { Writer } from '../codec/writer.js';

test('IPv4 keys: /32 is an int32 (small integer), other lengths are not; text round-trips', () => {
  assert.equal(ipv4Key('198.51.100.7/32'), (0xc6336407 | 0));
  assert.ok(Number.isInteger(ipv4Key('10.0.0.1/32')) && (ipv4Key('10.0.0.1/32') as number) < 2 ** 31);
  assert.ok((ipv4Key('0.0.0.0/0') as number) >= 2 ** 32, '0.0.0.0/0 is not 0.0.0.0/32');
  assert.notEqual(ipv4Key('0.0.0.0/0'), ipv4Key('0.0.0.0/32'));
  for (const t of ['0.0.0.0/0', '255.255.255.255/32', '128.0.0.0/1', '198.51.100.0/24', '203.0.113.128/25', '10.0.0.0/8']) {
    assert.equal(keyText(ipv4Key(t)), t, t);
  }
});

test('IPv4 keys: text that is not a prefix stays text (no silent collisions)', () => {
  for (const t of ['198.51.100.7', '198.51.100.7/33', '1.2.3/24', '1.2.3.4.5/32', '256.0.0.0/8', 'x/32', '1.2.3.4/', '1111.2.3.4/32']) {
    assert.equal(ipv4Key(t), t, t);
  }
});

test('IPv4 keys: decoded prefix (numbers) and its text give the same key, for every length', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, len) => {
    const addr = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
    const p = new Prefix4(addr, len);
    const k = routeKey('ipv4-unicast', p);
    assert.equal(k, routeKey('ipv4-unicast', { prefix: p.prefix }));
    assert.equal(keyText(k), p.prefix);
    assert.equal(keyOf('ipv4-unicast', p.prefix), k);
    // the packer writes the same octets from the key as the codec's own encoding of the text
    const w = new Writer(16);
    writeNlri(w, 'ipv4-unicast', k, undefined, undefined);
    const fromKey = w.take();
    w.reset();
    writeNlri(w, 'ipv4-unicast', p.prefix, undefined, undefined);
    assert.deepEqual(fromKey, w.take());
    assert.equal(nlriSize('ipv4-unicast', k, undefined, false), fromKey.length);
  }), { numRuns: 500 });
});

test('keys of other families stay text; add-path composite keys split back into the key and path ID', () => {
  assert.equal(routeKey('ipv6-unicast', { prefix: '2001:db8::/32' }), '2001:db8::/32');
  assert.equal(keyOf('ipv6-unicast', '2001:db8::/32'), '2001:db8::/32');
  const k4 = ipv4Key('198.51.100.7/32');
  assert.deepEqual(splitComposite('ipv4-unicast', compositeKey(k4, 7)), { key: k4, id: 7 });
  const k24 = ipv4Key('198.51.100.0/24');
  assert.deepEqual(splitComposite('ipv4-unicast', compositeKey(k24, 0xffffffff)), { key: k24, id: 0xffffffff });
  assert.deepEqual(splitComposite('ipv6-unicast', compositeKey('2001:db8::/32', 2)), { key: '2001:db8::/32', id: 2 });
});
