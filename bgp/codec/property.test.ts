// Property tests: random valid messages round-trip byte for byte; mutated and truncated
// messages only ever produce our typed error, never an exception or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, BgpError, DEFAULT_CONTEXT, type CodecContext, type Message, type PathAttribute, type Nlri, type Family } from './index.js';
import { formatIPv6 } from './addr.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));

/** A prefix whose bits beyond the length are zero except in the last octet present (the wire keeps those). */
const prefix4 = fc.integer({ min: 0, max: 32 }).chain((len) =>
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => {
    const n = (len + 7) >> 3;
    for (let i = n; i < 4; i++) b[i] = 0;
    return `${b.join('.')}/${len}`;
  }));
const prefix6 = fc.integer({ min: 0, max: 128 }).chain((len) =>
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
    const n = (len + 7) >> 3;
    for (let i = n; i < 16; i++) b[i] = 0;
    return `${formatIPv6(b)}/${len}`;
  }));
const rd = fc.oneof(
  fc.tuple(u16, u32).map(([a, n]) => `${a}:${n}`),
  fc.tuple(ipv4, u16).map(([a, n]) => `${a}:${n}`),
  fc.tuple(fc.integer({ min: 65536, max: 0xffffffff }), u16).map(([a, n]) => `${a}:${n}`),
  fc.tuple(u16, u16).map(([a, n]) => `${a}L:${n}`),
);
const community = fc.oneof(fc.tuple(u16, u16).map(([a, b]) => `${a}:${b}`), fc.constantFrom('NO_EXPORT', 'NO_ADVERTISE', 'BLACKHOLE', 'GRACEFUL_SHUTDOWN'));
const large = fc.tuple(u32, u32, u32).map((p) => p.join(':'));
// Labels 0-15 are reserved (RFC 3032); a stack entry of 0x000000 reads as RFC 8277's withdraw label.
const label = fc.integer({ min: 16, max: 0xfffff });
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const esi = fc.uint8Array({ minLength: 10, maxLength: 10 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const withPath = <T extends object>(arb: fc.Arbitrary<T>, addPath: boolean) => (addPath ? fc.tuple(arb, u32).map(([n, pathId]) => ({ ...n, pathId })) : arb);

const evpn = fc.oneof(
  fc.record({ routeType: fc.constant(2 as const), rd, esi, ethernetTag: u32, mac, ip: ipv4, labels: fc.array(fc.integer({ min: 0, max: 0xffffff }), { minLength: 1, maxLength: 2 }) }),
  fc.record({ routeType: fc.constant(3 as const), rd, ethernetTag: u32, originatorIp: fc.oneof(ipv4, ipv6) }),
  fc.record({ routeType: fc.constant(5 as const), rd, esi, ethernetTag: u32, prefix: prefix4.filter((p) => !p.endsWith('/0') || true), gateway: ipv4, label: fc.integer({ min: 0, max: 0xffffff }) }),
);

function mpFor(family: Family, addPath: boolean): fc.Arbitrary<PathAttribute> {
  const list = (a: fc.Arbitrary<Nlri>) => fc.array(withPath(a as fc.Arbitrary<object>, addPath) as fc.Arbitrary<Nlri>, { maxLength: 5 });
  switch (family) {
    case 'ipv6-unicast':
      return fc.record({ type: fc.constant('MP_REACH_NLRI' as const), family: fc.constant(family), nextHop: fc.array(ipv6, { minLength: 1, maxLength: 2 }), nlri: list(prefix6.map((prefix) => ({ prefix }))) });
    case 'ipv4-vpn':
      return fc.record({ type: fc.constant('MP_REACH_NLRI' as const), family: fc.constant(family), nextHop: fc.tuple(ipv4).map((x) => x), nlri: list(fc.record({ rd, prefix: prefix4.filter((p) => Number(p.split('/')[1]) <= 32), labels: fc.array(label, { minLength: 1, maxLength: 2 }) })) });
    default:
      return fc.record({ type: fc.constant('MP_REACH_NLRI' as const), family: fc.constant('l2vpn-evpn' as Family), nextHop: fc.tuple(ipv4).map((x) => x), nlri: list(evpn) });
  }
}

const asPath = fc.array(fc.record({ type: fc.constantFrom('AS_SEQUENCE' as const, 'AS_SET' as const), asns: fc.array(u32, { minLength: 1, maxLength: 8 }) }), { maxLength: 3 });

function updateArb(addPath: boolean): fc.Arbitrary<Message> {
  return fc.record({
    withdrawn: fc.array(withPath(prefix4.map((prefix) => ({ prefix })), addPath), { maxLength: 5 }),
    nlri: fc.array(withPath(prefix4.map((prefix) => ({ prefix })), addPath), { maxLength: 10 }),
    origin: fc.constantFrom('IGP' as const, 'EGP' as const, 'INCOMPLETE' as const),
    asPath,
    nextHop: ipv4,
    med: fc.option(u32),
    localPref: fc.option(u32),
    communities: fc.option(fc.array(community, { minLength: 1, maxLength: 4 })),
    large: fc.option(fc.array(large, { minLength: 1, maxLength: 3 })),
    rts: fc.option(fc.array(rd.map((value) => ({ type: 'route-target' as const, value })), { minLength: 1, maxLength: 3 })),
    mp: fc.option(fc.constantFrom<Family>('ipv6-unicast', 'ipv4-vpn', 'l2vpn-evpn').chain((f) => mpFor(f, addPath))),
  }).map((r) => {
    const attributes: PathAttribute[] = [];
    if (r.mp) attributes.push(r.mp);
    attributes.push({ type: 'ORIGIN', value: r.origin }, { type: 'AS_PATH', segments: r.asPath }, { type: 'NEXT_HOP', value: r.nextHop });
    if (r.med !== null) attributes.push({ type: 'MULTI_EXIT_DISC', value: r.med });
    if (r.localPref !== null) attributes.push({ type: 'LOCAL_PREF', value: r.localPref });
    if (r.communities) attributes.push({ type: 'COMMUNITIES', values: r.communities });
    if (r.rts) attributes.push({ type: 'EXTENDED_COMMUNITIES', values: r.rts });
    if (r.large) attributes.push({ type: 'LARGE_COMMUNITIES', values: r.large });
    return { type: 'UPDATE', withdrawn: r.withdrawn, attributes, nlri: r.nlri } as Message;
  });
}

const openArb: fc.Arbitrary<Message> = fc.record({
  myAs: u16, holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })), id: ipv4.filter((s) => s !== '0.0.0.0'),
  asn: u32, families: fc.subarray(['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'l2vpn-evpn'] as Family[]),
  restart: fc.integer({ min: 0, max: 4095 }),
}).map((r) => ({
  type: 'OPEN', version: 4, myAs: r.myAs, holdTime: r.holdTime, bgpIdentifier: r.id,
  parameters: [{ type: 'capabilities', capabilities: [
    ...r.families.map((family) => ({ type: 'multiprotocol' as const, family })),
    { type: '4-octet-as' as const, asn: r.asn },
    { type: 'graceful-restart' as const, restarting: false, notification: true, restartTime: r.restart, families: r.families.map((family) => ({ family, forwarding: true })) },
  ] }],
}));

const strip = (m: Message) => JSON.parse(JSON.stringify(m));

for (const addPath of [false, true]) {
  const ctx: CodecContext = { ...DEFAULT_CONTEXT, extendedMessage: true, addPath: addPath ? new Set<Family>(['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'l2vpn-evpn']) : new Set() };
  test(`property: random UPDATEs round-trip${addPath ? ' (add-path)' : ''}`, () => {
    fc.assert(fc.property(updateArb(addPath), (m) => {
      const bytes = encodeMessage(m, ctx);
      const d = decodeMessage(bytes, ctx);
      assert.ok(d.ok, d.ok ? '' : d.error.message);
      assert.equal(d.error, undefined, d.error?.message);
      assert.deepEqual(strip(d.message), strip(m));
      assert.ok(encodeMessage(d.message, ctx).equals(bytes));
    }), { numRuns: 300 });
  });
}

test('property: random OPENs round-trip', () => {
  fc.assert(fc.property(openArb, (m) => {
    const bytes = encodeMessage(m);
    const d = decodeMessage(bytes);
    assert.ok(d.ok);
    assert.deepEqual(strip(d.message), strip(m));
  }), { numRuns: 200 });
});

/** Decoding anything: a result, never an exception; errors are ours and never "internal". */
function decodesSafely(bytes: Uint8Array, ctx: CodecContext): void {
  const d = decodeMessage(bytes, ctx);
  if (!d.ok) {
    assert.ok(d.error instanceof BgpError);
    assert.ok(!d.error.message.startsWith('internal'), d.error.message);
    assert.ok(d.error.code >= 1 && d.error.code <= 7);
  } else {
    // whatever decoded without error must re-encode without throwing
    if (!d.error) encodeMessage(d.message, ctx);
  }
}

test('property: mutated and truncated messages give only typed errors', () => {
  const ctx: CodecContext = { ...DEFAULT_CONTEXT, extendedMessage: true };
  fc.assert(fc.property(
    fc.oneof(updateArb(false), openArb),
    fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
    fc.nat(),
    (m, flips, cut) => {
      const bytes = Uint8Array.from(encodeMessage(m, ctx));
      for (const [at, v] of flips) bytes[19 + (at % Math.max(1, bytes.length - 19))] = v;
      decodesSafely(bytes, ctx);
      // truncated at any point, with the length field fixed up so the body is what is cut
      const n = 19 + (cut % Math.max(1, bytes.length - 19));
      const t = bytes.slice(0, n);
      t[16] = n >> 8;
      t[17] = n & 0xff;
      decodesSafely(t, ctx);
    }), { numRuns: 2000 });
});
