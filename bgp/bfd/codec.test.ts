// Tests for the BFD control packet codec (RFC 5880 §4.1, §6.8.6): a golden packet
// captured from FRR 8.4 bfdd, a naive field-by-field builder as the oracle, every
// reception check, every single-byte mutation, and fast-check round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BFD_DROP_REASONS, BfdEncodeError, BfdState, decodeControl, encodeControl, type BfdControlPacket } from './codec.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// FRR 8.4 bfdd, session Down, captured with tshark on a veth (UDP 49152 → 3784, TTL 255).
const FRR_DOWN = hex(`
  20        # version 1, diag 0
  40        # state Down (01), no flags
  03        # detect mult 3
  18        # length 24
  b0266c04  # my discriminator
  00000000  # your discriminator (not yet known)
  000f4240  # desired min tx 1,000,000 us (slow start, RFC 5880 §6.8.3)
  000f4240  # required min rx 1,000,000 us
  0000c350  # required min echo rx 50,000 us
`.replace(/#.*$/gm, ''));

/** Naive builder: one line per field, independent of encodeControl. */
function build(f: {
  vers?: number; diag?: number; sta?: number; p?: number; f?: number; c?: number; a?: number; d?: number; m?: number;
  mult?: number; len?: number; my?: number; your?: number; tx?: number; rx?: number; echo?: number; tail?: number[];
}): Uint8Array {
  const tail = f.tail ?? [];
  const out = [
    ((f.vers ?? 1) << 5) | (f.diag ?? 0),
    ((f.sta ?? 1) << 6) | ((f.p ?? 0) << 5) | ((f.f ?? 0) << 4) | ((f.c ?? 0) << 3) | ((f.a ?? 0) << 2) | ((f.d ?? 0) << 1) | (f.m ?? 0),
    f.mult ?? 3,
    f.len ?? 24 + tail.length,
  ];
  for (const v of [f.my ?? 1, f.your ?? 0, f.tx ?? 1_000_000, f.rx ?? 1_000_000, f.echo ?? 0]) {
    out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  return Uint8Array.from([...out, ...tail]);
}

test('decodes the FRR golden packet field by field', () => {
  const r = decodeControl(FRR_DOWN);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, {
    diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, demand: false, detectMult: 3,
    myDiscr: 0xb0266c04, yourDiscr: 0, desiredMinTx: 1_000_000, requiredMinRx: 1_000_000, requiredMinEchoRx: 50_000,
  });
  assert.deepEqual(encodeControl(r.packet), FRR_DOWN, 'mirror: re-encodes to the same bytes');
});

test('encodes every flag and field where the naive builder puts it', () => {
  const p: BfdControlPacket = {
    diag: 7, state: BfdState.Up, poll: true, final: false, cpi: true, demand: true, detectMult: 255,
    myDiscr: 0xffffffff, yourDiscr: 0x80000001, desiredMinTx: 0xfffffffe, requiredMinRx: 100_000, requiredMinEchoRx: 1,
  };
  assert.deepEqual(encodeControl(p), build({ diag: 7, sta: 3, p: 1, c: 1, d: 1, mult: 255, my: 0xffffffff, your: 0x80000001, tx: 0xfffffffe, rx: 100_000, echo: 1 }));
  assert.deepEqual(encodeControl({ ...p, poll: false, final: true, cpi: false, demand: false }), build({ diag: 7, sta: 3, f: 1, mult: 255, my: 0xffffffff, your: 0x80000001, tx: 0xfffffffe, rx: 100_000, echo: 1 }));
});

test('keeps an authentication section as raw bytes and computes both lengths', () => {
  // Simple password (type 1): Auth Len 3 + password length, key id 5, password "abc".
  const bytes = build({ a: 1, sta: 3, your: 9, tail: [1, 7, 5, 0x61, 0x62, 0x63, 0] });
  const r = decodeControl(bytes);
  assert.ok(r.ok);
  assert.deepEqual(r.packet.auth, { type: 1, data: Uint8Array.from([5, 0x61, 0x62, 0x63, 0]) });
  assert.deepEqual(encodeControl(r.packet), bytes);
});

test('ignores bytes beyond Length (UDP payload longer than the packet)', () => {
  const r = decodeControl(Uint8Array.from([...FRR_DOWN, 0xde, 0xad]));
  assert.ok(r.ok);
  assert.equal(r.packet.myDiscr, 0xb0266c04);
});

// RFC 5880 §6.8.6, one case per check, plus our own bounds checks.
const reject: Array<[string, Uint8Array, string]> = [
  ['empty buffer', new Uint8Array(0), 'truncated'],
  ['23 bytes', FRR_DOWN.slice(0, 23), 'truncated'],
  ['version 0', build({ vers: 0 }), 'bad-version'],
  ['version 2', build({ vers: 2 }), 'bad-version'],
  ['version 7', build({ vers: 7 }), 'bad-version'],
  ['Length 23', build({ len: 23 }), 'bad-length'],
  ['Length 0', build({ len: 0 }), 'bad-length'],
  ['A bit with Length 24', build({ a: 1, len: 24, tail: [0, 0] }), 'bad-length'],
  ['Length 25 beyond a 24-byte payload', build({ len: 25 }), 'length-exceeds-payload'],
  ['Length 255 beyond payload', build({ len: 255 }), 'length-exceeds-payload'],
  ['A bit, Auth Len 1', build({ a: 1, tail: [1, 1] }), 'bad-auth-length'],
  ['A bit, Auth Len past Length', build({ a: 1, tail: [1, 9, 0, 0] }), 'bad-auth-length'],
  ['Detect Mult 0', build({ mult: 0 }), 'detect-mult-zero'],
  ['Multipoint bit', build({ m: 1 }), 'multipoint'],
  ['My Discriminator 0', build({ my: 0 }), 'my-discr-zero'],
  ['Your Discr 0 in Init', build({ sta: 2, your: 0 }), 'your-discr-zero-not-down'],
  ['Your Discr 0 in Up', build({ sta: 3, your: 0 }), 'your-discr-zero-not-down'],
];
for (const [name, bytes, reason] of reject) {
  test(`drops: ${name} → ${reason}`, () => {
    assert.deepEqual(decodeControl(bytes), { ok: false, reason });
  });
}

test('accepts Your Discriminator 0 in Down and AdminDown (§6.8.6)', () => {
  for (const sta of [0, 1]) assert.ok(decodeControl(build({ sta, your: 0 })).ok);
});

test('every truncation of a valid packet is dropped, never thrown', () => {
  for (let n = 0; n < FRR_DOWN.length; n++) assert.deepEqual(decodeControl(FRR_DOWN.slice(0, n)), { ok: false, reason: 'truncated' });
});

test('every single-byte mutation either drops with a known reason or mirrors exactly', () => {
  const valid = build({ sta: 3, your: 0x01020304, p: 1, rx: 100_000, tx: 100_000 });
  let ok = 0;
  for (let i = 0; i < valid.length; i++) {
    for (let v = 0; v < 256; v++) {
      const m = Uint8Array.from(valid);
      m[i] = v;
      const r = decodeControl(m);
      if (r.ok) {
        ok++;
        assert.deepEqual(encodeControl(r.packet), m, `offset ${i} value ${v}`);
      } else {
        assert.ok(BFD_DROP_REASONS.includes(r.reason), r.reason);
      }
    }
  }
  assert.ok(ok > 4000, `most mutations of field bytes are still valid packets (${ok})`);
});

test('a mutated P/F/C/D flag byte is decoded, a mutated M bit is dropped', () => {
  for (let flags = 0; flags < 64; flags++) {
    const b = build({ sta: 3, your: 1 });
    b[1] = (3 << 6) | flags;
    const r = decodeControl(b);
    // A bit with a 24-byte packet fails the Length check first (§6.8.6 order).
    if (flags & 0x04) assert.deepEqual(r, { ok: false, reason: 'bad-length' });
    else if (flags & 0x01) assert.deepEqual(r, { ok: false, reason: 'multipoint' });
    else assert.ok(r.ok && r.packet.poll === !!(flags & 0x20) && r.packet.final === !!(flags & 0x10));
  }
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const packetArb: fc.Arbitrary<BfdControlPacket> = fc
  .record({
    diag: fc.integer({ min: 0, max: 31 }),
    state: fc.constantFrom(BfdState.AdminDown, BfdState.Down, BfdState.Init, BfdState.Up),
    poll: fc.boolean(),
    final: fc.boolean(),
    cpi: fc.boolean(),
    demand: fc.boolean(),
    detectMult: fc.integer({ min: 1, max: 255 }),
    myDiscr: fc.integer({ min: 1, max: 0xffffffff }),
    yourDiscr: u32,
    desiredMinTx: u32,
    requiredMinRx: u32,
    requiredMinEchoRx: u32,
    auth: fc.option(fc.record({ type: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ minLength: 0, maxLength: 229 }) }), { nil: undefined }),
  })
  .map((p) => {
    const out: BfdControlPacket = { ...p };
    if (p.auth === undefined) delete out.auth;
    else out.auth = { type: p.auth.type, data: p.auth.data };
    // §6.8.6: Your Discriminator 0 is only valid in Down/AdminDown.
    if (out.yourDiscr === 0 && (out.state === BfdState.Init || out.state === BfdState.Up)) out.yourDiscr = 1;
    return out;
  });

test('property: decode(encode(p)) equals p for every valid packet', () => {
  fc.assert(
    fc.property(packetArb, (p) => {
      const r = decodeControl(encodeControl(p));
      assert.ok(r.ok);
      assert.deepEqual(r.packet, p);
    }),
    { numRuns: 3000 },
  );
});

test('property: random buffers never throw and valid ones mirror', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (buf) => {
      const r = decodeControl(buf);
      if (!r.ok) return BFD_DROP_REASONS.includes(r.reason);
      const len = buf[3] ?? 0;
      const again = encodeControl(r.packet);
      // A packet whose Length exceeds 24 + auth holds padding we do not keep; otherwise exact.
      return again.length > len || Buffer.from(again).equals(Buffer.from(buf.subarray(0, len))) || again.length < len;
    }),
    { numRuns: 20000 },
  );
  // Random buffers with a plausible header, so the deeper checks are reached too.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 24, maxLength: 60 }), fc.integer({ min: 0, max: 63 }), (buf, flags) => {
      buf[0] = 0x20 | ((buf[0] ?? 0) & 0x1f);
      buf[1] = ((buf[1] ?? 0) & 0xc0) | flags;
      buf[3] = Math.min(buf.length, 24 + ((buf[3] ?? 0) % 8));
      const r = decodeControl(buf);
      return r.ok || BFD_DROP_REASONS.includes(r.reason);
    }),
    { numRuns: 20000 },
  );
});

test('encode rejects values no packet can carry', () => {
  const base = decodeControl(FRR_DOWN);
  assert.ok(base.ok);
  for (const bad of [{ diag: 32 }, { detectMult: 256 }, { myDiscr: -1 }, { desiredMinTx: 2 ** 32 }, { requiredMinRx: 1.5 }]) {
    assert.throws(() => encodeControl({ ...base.packet, ...bad }), BfdEncodeError);
  }
  assert.throws(() => encodeControl({ ...base.packet, auth: { type: 1, data: new Uint8Array(230) } }), BfdEncodeError);
});
