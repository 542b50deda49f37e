// The framer must give the same messages however the TCP stream is cut: every vector
// is split at every byte offset, and many messages come in one chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framer } from './framer.js';
import { Bytes, message, simpleUpdate } from './testing/bytes.js';
import { DEFAULT_CONTEXT } from './types.js';

const vectors = [
  message(4, new Bytes()),
  simpleUpdate(65001, '192.0.2.1', ['198.51.100.7/32', '198.51.100.8/32', '10.0.0.0/8']),
  message(3, new Bytes().u8(6, 2).u8(3).hex('627965')),
  message(1, new Bytes().u8(4).u16(65001).u16(90).ip4('192.0.2.1').u8(0)),
];
const stream = Buffer.concat(vectors);

function collect(chunks: Buffer[]): string[] {
  const f = new Framer();
  const out: string[] = [];
  for (const c of chunks) {
    const err = f.push(c, (m) => out.push(m.toString('hex')));
    assert.equal(err, undefined);
  }
  assert.equal(f.buffered, 0);
  return out;
}

test('framer: every split point of the stream gives the same messages', () => {
  const want = vectors.map((v) => v.toString('hex'));
  for (let i = 0; i <= stream.length; i++) {
    assert.deepEqual(collect([stream.subarray(0, i), stream.subarray(i)]), want, `split at ${i}`);
  }
});

test('framer: every pair of split points (three chunks)', () => {
  const want = vectors.map((v) => v.toString('hex'));
  for (let i = 0; i <= stream.length; i += 3) {
    for (let j = i; j <= stream.length; j += 5) {
      assert.deepEqual(collect([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]), want);
    }
  }
});

test('framer: one byte at a time', () => {
  const chunks = Array.from(stream, (b) => Buffer.from([b]));
  assert.deepEqual(collect(chunks), vectors.map((v) => v.toString('hex')));
});

test('framer: a bad marker stops framing with 1/1 and later chunks are refused', () => {
  const f = new Framer();
  const bad = Buffer.from(stream);
  bad[vectors[0]!.length + 3] = 0;
  const seen: Buffer[] = [];
  const err = f.push(bad, (m) => seen.push(m));
  assert.equal(seen.length, 1);
  assert.equal(err?.code, 1);
  assert.equal(err?.subcode, 1);
  assert.equal(f.push(vectors[0]!, () => assert.fail('framer must stay stopped')), err);
});

test('framer: an UPDATE longer than 4096 needs extended messages', () => {
  const big = simpleUpdate(65001, '192.0.2.1', Array.from({ length: 1100 }, (_, i) => `10.${i >> 8}.${i & 255}.1/32`));
  const f = new Framer();
  assert.equal(f.push(big, () => undefined)?.subcode, 2);
  const g = new Framer({ ...DEFAULT_CONTEXT, extendedMessage: true });
  let n = 0;
  assert.equal(g.push(big, () => n++), undefined);
  assert.equal(n, 1);
});
