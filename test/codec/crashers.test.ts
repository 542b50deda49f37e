// Replays every kept crasher (test/vectors/crashers/*.hex) under each session context:
// decoding returns a result (never throws, never an internal error), and a clean decode
// re-encodes to the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, DEFAULT_CONTEXT, type CodecContext, type Family } from '../../bgp/codec/index.js';

const dir = join(process.cwd(), 'test/vectors/crashers');
const files = readdirSync(dir).filter((f) => f.endsWith('.hex'));
const contexts: CodecContext[] = [
  DEFAULT_CONTEXT,
  { as4: false, addPath: new Set(), extendedMessage: false },
  { as4: true, addPath: new Set<Family>(['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'ipv6-vpn', 'l2vpn-evpn', 'ipv4-labeled-unicast']), extendedMessage: true },
];

test('kept crashers are present', () => assert.ok(files.length > 0));

for (const f of files) {
  test(`crasher ${f} decodes safely`, () => {
    const bytes = Buffer.from(readFileSync(join(dir, f), 'utf8').trim(), 'hex');
    for (const ctx of contexts) {
      const d = decodeMessage(bytes, ctx);
      if (!d.ok) assert.ok(!d.error.message.startsWith('internal'), d.error.message);
      else if (!d.error) assert.equal(encodeMessage(d.message, ctx).toString('hex'), bytes.toString('hex'));
    }
  });
}

test('ROUTE-REFRESH with a body other than 4 octets is 7/1 with the message as data (RFC 7313 §5)', () => {
  const bytes = Buffer.from(readFileSync(join(dir, 'route-refresh-trailing-octet.hex'), 'utf8').trim(), 'hex');
  const d = decodeMessage(bytes);
  assert.ok(!d.ok);
  assert.equal(d.error.code, 7);
  assert.equal(d.error.subcode, 1);
  assert.equal(Buffer.from(d.error.data).toString('hex'), bytes.toString('hex'));
});
