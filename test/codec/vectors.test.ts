// Golden vectors captured from real FRR 8.4, BIRD 2.0.12 and GoBGP 3.10 (test/vectors,
// see its README): every message decodes without error under the context the two OPENs
// of that session negotiate, re-encodes to the identical bytes, and agrees with tshark's
// own decode of the same bytes on type, length, attribute codes, prefixes, AS numbers,
// communities (all three kinds), EVPN route types and MACs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeMessage, encodeMessage, openCapabilities, ATTR_BY_TYPE, parseCommunity,
  type CodecContext, type Family, type Message, type OpenMessage, type UpdateMessage, type Nlri,
} from '../../bgp/codec/index.js';

const dir = join(process.cwd(), 'test/vectors');
const PAIRS: Array<[string, string]> = [
  ['frr/to-bird', 'bird/to-frr'],
  ['frr/to-bird-ipv6-session', 'bird/to-frr-ipv6-session'],
  ['gobgp/to-frr', 'frr/to-gobgp'],
  ['frr/ibgp-tor-to-leaf', 'frr/ibgp-leaf-to-tor'],
  ['gobgp/to-bird', 'bird/to-gobgp'],
];

const lines = (name: string) => readFileSync(join(dir, `${name}.hex`), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
const firstOpen = (name: string): OpenMessage => {
  for (const l of lines(name)) {
    const d = decodeMessage(Buffer.from(l, 'hex'));
    if (d.ok && d.message.type === 'OPEN') return d.message;
  }
  throw new Error(`${name}: no OPEN`);
};

/** What the sender may put on the wire to the receiver (RFC 6793, 7911, 8654). */
function contextFor(sender: OpenMessage, receiver: OpenMessage): CodecContext {
  const s = openCapabilities(sender);
  const r = openCapabilities(receiver);
  const has = (caps: typeof s, t: string) => caps.some((c) => c.type === t);
  const addPath = new Set<Family>();
  for (const c of s) {
    if (c.type !== 'add-path') continue;
    for (const e of c.entries) {
      if (e.mode === 'receive') continue;
      const peer = r.flatMap((x) => (x.type === 'add-path' ? x.entries : [])).find((x) => x.family === e.family);
      if (peer && peer.mode !== 'send') addPath.add(e.family);
    }
  }
  return { as4: has(s, '4-octet-as') && has(r, '4-octet-as'), addPath, extendedMessage: has(s, 'extended-message') && has(r, 'extended-message') };
}

/** Every value found under `key` anywhere in a tshark JSON tree, in document order. */
function collect(node: unknown, key: string, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) collect(x, key, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) {
        if (Array.isArray(v)) out.push(...v.map(String));
        else if (typeof v !== 'object') out.push(String(v));
        else collect(v, key, out);
      } else collect(v, key, out);
    }
  }
  return out;
}

const addrOf = (n: Nlri) => ('prefix' in n && typeof n.prefix === 'string' ? n.prefix.split('/')[0]! : undefined);
const upd = (m: Message) => m as UpdateMessage;
const mp = (m: UpdateMessage) => m.attributes.flatMap((a) => (a.type === 'MP_REACH_NLRI' ? [a] : []));
const mpu = (m: UpdateMessage) => m.attributes.flatMap((a) => (a.type === 'MP_UNREACH_NLRI' ? [a] : []));

function crossCheck(m: Message, bytes: Buffer, ts: Record<string, unknown>, where: string, ctx: CodecContext): void {
  const types: Record<Message['type'], string> = { OPEN: '1', UPDATE: '2', NOTIFICATION: '3', KEEPALIVE: '4', 'ROUTE-REFRESH': '5' };
  assert.equal(collect(ts, 'bgp.type')[0], types[m.type], `${where}: type`);
  assert.equal(Number(collect(ts, 'bgp.length')[0]), bytes.length, `${where}: length`);
  if (m.type === 'OPEN') {
    assert.equal(Number(collect(ts, 'bgp.open.myas')[0]), m.myAs, `${where}: my AS`);
    assert.equal(Number(collect(ts, 'bgp.open.holdtime')[0]), m.holdTime, `${where}: hold time`);
    assert.equal(collect(ts, 'bgp.open.identifier')[0], m.bgpIdentifier, `${where}: identifier`);
    assert.deepEqual(collect(ts, 'bgp.cap.type').map(Number), openCapabilities(m).map((c) => (c.type === 'unknown' ? c.code : capCode(c.type))), `${where}: capability codes`);
    return;
  }
  if (m.type !== 'UPDATE') return;
  const u = upd(m);
  const codes = u.attributes.map((a) => (a.type === 'UNKNOWN' ? a.code : ATTR_BY_TYPE.get(a.type)!.code));
  assert.deepEqual(collect(ts, 'bgp.update.path_attribute.type_code').map(Number), codes, `${where}: attribute codes`);
  assert.deepEqual(collect(ts, 'bgp.nlri_prefix'), u.nlri.map(addrOf), `${where}: NLRI prefixes`);
  assert.deepEqual(collect(ts, 'bgp.withdrawn_prefix'), u.withdrawn.map(addrOf), `${where}: withdrawn prefixes`);
  // tshark 4.0 lists IPv4 unicast and VPN-IPv4 prefixes (not with add-path) and IPv6 unicast ones
  const isV4 = (f: string) => f === 'ipv4-unicast' || (f === 'ipv4-vpn' && !ctx.addPath.has('ipv4-vpn'));
  const isV6 = (f: string) => f === 'ipv6-unicast';
  const reach = mp(u);
  assert.deepEqual(
    [...collect(ts, 'bgp.mp_reach_nlri_ipv4_prefix'), ...collect(ts, 'bgp.mp_reach_nlri_ipv6_prefix')],
    [...reach.filter((a) => isV4(a.family)), ...reach.filter((a) => isV6(a.family))].flatMap((a) => a.nlri.map(addrOf)),
    `${where}: MP_REACH prefixes (${reach.map((a) => a.family).join()})`,
  );
  const unreach = mpu(u);
  assert.deepEqual(
    [...collect(ts, 'bgp.mp_unreach_nlri_ipv4_prefix'), ...collect(ts, 'bgp.mp_unreach_nlri_ipv6_prefix')],
    [...unreach.filter((a) => isV4(a.family)), ...unreach.filter((a) => isV6(a.family))].flatMap((a) => a.withdrawn.map(addrOf)),
    `${where}: MP_UNREACH prefixes`,
  );
  const asns = u.attributes.flatMap((a) => (a.type === 'AS_PATH' || a.type === 'AS4_PATH' ? a.segments.flatMap((s) => s.asns) : []));
  assert.deepEqual([...collect(ts, 'bgp.update.path_attribute.as_path_segment.as4'), ...collect(ts, 'bgp.update.path_attribute.as_path_segment.as2')].map(Number).sort(), asns.slice().sort(), `${where}: AS numbers`);
  const comms = u.attributes.flatMap((a) => (a.type === 'COMMUNITIES' ? a.values : [])).map((c) => parseCommunity(c)).filter((v) => v < 0xffff0000);
  const tsAs = collect(ts, 'bgp.update.path_attribute.community_as').map(Number);
  const tsVal = collect(ts, 'bgp.update.path_attribute.community_value').map(Number);
  assert.deepEqual(tsAs.map((a, i) => a * 65536 + tsVal[i]!), comms, `${where}: communities`);
  const large = u.attributes.flatMap((a) => (a.type === 'LARGE_COMMUNITIES' ? a.values : []));
  const ga = collect(ts, 'bgp.large_communities.ga');
  const l1 = collect(ts, 'bgp.large_communities.ldp1');
  const l2 = collect(ts, 'bgp.large_communities.ldp2');
  assert.deepEqual(ga.map((g, i) => `${g}:${l1[i]}:${l2[i]}`), large, `${where}: large communities`);
  const evpn = [...mp(u), ...mpu(u)].filter((a) => a.family === 'l2vpn-evpn').flatMap((a) => (a.type === 'MP_REACH_NLRI' ? a.nlri : a.withdrawn)) as Array<{ routeType: number; mac?: string }>;
  assert.deepEqual(collect(ts, 'bgp.evpn.nlri.rt').map(Number), evpn.map((n) => n.routeType), `${where}: EVPN route types`);
  assert.deepEqual(collect(ts, 'bgp.evpn.nlri.mac_addr'), evpn.flatMap((n) => (n.mac ? [n.mac] : [])), `${where}: EVPN MACs`);
}

function capCode(t: string): number {
  return ({ multiprotocol: 1, 'route-refresh': 2, 'extended-next-hop': 5, 'extended-message': 6, role: 9, 'graceful-restart': 64, '4-octet-as': 65, 'add-path': 69, 'enhanced-route-refresh': 70, 'long-lived-graceful-restart': 71, fqdn: 73, 'route-refresh-cisco': 128 } as Record<string, number>)[t]!;
}

test('golden vectors are present', () => {
  for (const [a, b] of PAIRS) {
    assert.ok(existsSync(join(dir, `${a}.hex`)), a);
    assert.ok(existsSync(join(dir, `${b}.hex`)), b);
  }
  const all = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.hex') && !String(f).startsWith('crashers'));
  assert.equal(all.length, PAIRS.length * 2, 'every captured file is checked by a pair here');
});

const seenFamilies = new Set<string>();
const seenAttrs = new Set<string>();
for (const [a, b] of PAIRS) {
  for (const [from, to] of [[a, b], [b, a]] as const) {
    test(`vectors ${from}: decode, re-encode identical, agree with tshark`, () => {
      const ctx = contextFor(firstOpen(from), firstOpen(to));
      const tsharkFile = join(dir, `${from}.tshark.json`);
      const ts = JSON.parse(readFileSync(tsharkFile, 'utf8')) as Array<Record<string, unknown>>;
      const hex = lines(from);
      assert.equal(ts.length, hex.length, 'one tshark decode per message');
      hex.forEach((h, i) => {
        const bytes = Buffer.from(h, 'hex');
        const d = decodeMessage(bytes, ctx);
        const where = `${from}:${i + 1}`;
        assert.ok(d.ok, `${where}: ${d.ok ? '' : d.error.message}`);
        assert.equal(d.error, undefined, `${where}: ${d.error?.message}`);
        assert.equal(encodeMessage(d.message, ctx).toString('hex'), h, `${where}: re-encode`);
        const mirror = decodeMessage(encodeMessage(JSON.parse(JSON.stringify(d.message)), ctx), ctx);
        assert.ok(mirror.ok && encodeMessage(mirror.message, ctx).toString('hex') === h, `${where}: mirror through JSON`);
        crossCheck(d.message, bytes, ts[i]!, where, ctx);
        if (d.message.type === 'UPDATE') {
          for (const at of d.message.attributes) {
            seenAttrs.add(at.type);
            if (at.type === 'MP_REACH_NLRI' || at.type === 'MP_UNREACH_NLRI') seenFamilies.add(at.family);
          }
          if (d.message.nlri.length) seenFamilies.add('ipv4-unicast');
        }
      });
    });
  }
}

test('the vectors cover the families and attributes the codec promises', () => {
  for (const f of ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'ipv6-vpn', 'l2vpn-evpn']) assert.ok(seenFamilies.has(f), `family ${f}`);
  for (const t of ['COMMUNITIES', 'EXTENDED_COMMUNITIES', 'LARGE_COMMUNITIES', 'AGGREGATOR', 'ATOMIC_AGGREGATE', 'MULTI_EXIT_DISC', 'LOCAL_PREF', 'PMSI_TUNNEL']) assert.ok(seenAttrs.has(t), `attribute ${t}`);
});
