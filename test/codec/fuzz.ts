// Fuzz the decoder: mutate seed messages (golden shapes and the captured vectors) and
// decode each under several session contexts. A crash is any exception escaping
// decodeMessage, an "internal" error (a bug of ours caught by the safety net), or a
// decode slower than 100 ms. Crashers are written to test/vectors/crashers/ and replayed
// by crashers.test.ts. Run: node dist/test/codec/fuzz.js [N=1000000] [seed]
import { readFileSync, readdirSync, statSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { decodeMessage, encodeMessage, DEFAULT_CONTEXT, type CodecContext, type Family, type Message } from '../../bgp/codec/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
let seed = Number(process.argv[3] ?? Date.now() % 1e9);
const startSeed = seed;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const ri = (n: number) => Math.floor(rand() * n);

const root = process.cwd();
function hexFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? hexFiles(p) : p.endsWith('.hex') ? [p] : [];
  });
}
const seeds: Uint8Array[] = [];
for (const f of hexFiles(join(root, 'test/vectors'))) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const h = line.trim().replace(/^0x/i, '').replace(/[\s:]/g, '');
    if (h && /^([0-9a-f]{2})+$/i.test(h)) seeds.push(Buffer.from(h, 'hex'));
  }
}
const all: Family[] = ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'ipv6-vpn', 'l2vpn-evpn', 'ipv4-labeled-unicast'];
const built: Message[] = [
  { type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpIdentifier: '192.0.2.1', parameters: [{ type: 'capabilities', capabilities: [
    { type: 'multiprotocol', family: 'l2vpn-evpn' }, { type: '4-octet-as', asn: 65001 }, { type: 'add-path', entries: [{ family: 'ipv4-unicast', mode: 'both' }] },
    { type: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ family: 'ipv4-unicast', forwarding: true }] }, { type: 'fqdn', hostname: 'h', domainName: 'd' }] }] },
  { type: 'UPDATE', withdrawn: [{ prefix: '203.0.113.0/24' }], nlri: [{ prefix: '198.51.100.7/32' }], attributes: [
    { type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001, 65002] }] }, { type: 'NEXT_HOP', value: '192.0.2.1' },
    { type: 'COMMUNITIES', values: ['65000:1'] }, { type: 'LARGE_COMMUNITIES', values: ['1:2:3'] }, { type: 'EXTENDED_COMMUNITIES', values: [{ type: 'route-target', value: '65000:1' }] }] },
  { type: 'UPDATE', withdrawn: [], nlri: [], attributes: [
    { type: 'MP_REACH_NLRI', family: 'l2vpn-evpn', nextHop: ['192.0.2.1'], nlri: [
      { routeType: 5, rd: '65000:1', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, prefix: '198.51.100.9/32', gateway: '0.0.0.0', label: 5020 },
      { routeType: 2, rd: '65000:1', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, mac: '02:00:00:00:00:01', ip: '10.0.0.1', labels: [1] }] },
    { type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments: [] }, { type: 'PMSI_TUNNEL', pmsiFlags: 0, tunnelType: 6, label: 1, tunnelId: '192.0.2.1' }] },
  { type: 'UPDATE', withdrawn: [], nlri: [], attributes: [
    { type: 'MP_REACH_NLRI', family: 'ipv4-vpn', nextHop: ['192.0.2.1'], nlri: [{ rd: '65000:1', prefix: '198.51.100.8/32', labels: [100] }] },
    { type: 'MP_UNREACH_NLRI', family: 'ipv6-unicast', withdrawn: [{ prefix: '2001:db8::/32' }] },
    { type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments: [] }] },
  { type: 'NOTIFICATION', code: 6, subcode: 2, data: '', shutdownMessage: 'bye' },
  { type: 'ROUTE-REFRESH', family: 'ipv4-unicast', subtype: 0 },
];
for (const m of built) seeds.push(encodeMessage(m));

const contexts: CodecContext[] = [
  DEFAULT_CONTEXT,
  { as4: false, addPath: new Set(), extendedMessage: false },
  { as4: true, addPath: new Set(all), extendedMessage: true },
];

function mutate(src: Uint8Array): Uint8Array {
  let b = Buffer.from(src);
  const ops = 1 + ri(4);
  for (let k = 0; k < ops; k++) {
    const at = 19 + ri(Math.max(1, b.length - 19));
    switch (ri(7)) {
      case 0: b[at] = ri(256); break; // replace
      case 1: b[at] = b[at]! ^ (1 << ri(8)); break; // flip a bit
      case 2: b = b.subarray(0, at); break; // truncate
      case 3: b = Buffer.concat([b.subarray(0, at), Buffer.from([ri(256)]), b.subarray(at)]); break; // insert
      case 4: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + ri(8))]); break; // delete
      case 5: b[at] = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20][ri(7)]!; break; // interesting values
      default: { const other = seeds[ri(seeds.length)]!; const from = 19 + ri(Math.max(1, other.length - 19)); b = Buffer.concat([b.subarray(0, at), other.subarray(from)]); }
    }
  }
  if (b.length >= 19 && ri(10) < 8) b.writeUInt16BE(Math.min(b.length, 0xffff), 16); // keep the header length honest most of the time
  return b;
}

const crashDir = join(root, 'test/vectors/crashers');
let crashes = 0;
let errors = 0;
let slowest = 0;
const t0 = Date.now();
for (let i = 0; i < N; i++) {
  const input = mutate(seeds[ri(seeds.length)]!);
  const ctx = contexts[i % contexts.length]!;
  const t = process.hrtime.bigint();
  let bad: string | undefined;
  try {
    const d = decodeMessage(input, ctx);
    if (!d.ok) {
      errors++;
      if (d.error.message.startsWith('internal')) bad = d.error.message;
    } else if (!d.error) {
      // a clean decode must encode back to the same bytes
      const again = encodeMessage(d.message, ctx);
      if (!again.equals(input)) bad = 'decode/encode round trip differs';
    }
  } catch (err) {
    bad = `exception: ${(err as Error).stack}`;
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  slowest = Math.max(slowest, ms);
  if (ms > 100) bad = `decode took ${ms.toFixed(0)} ms`;
  if (bad) {
    crashes++;
    mkdirSync(crashDir, { recursive: true });
    const hex = Buffer.from(input).toString('hex');
    const name = createHash('sha1').update(hex).digest('hex').slice(0, 12);
    writeFileSync(join(crashDir, `${name}.hex`), `${hex}\n`);
    if (crashes <= 5) console.error(`crash ${name} (ctx ${i % contexts.length}): ${bad.split('\n').slice(0, 3).join(' | ')}`);
  }
}
console.log(`fuzz: ${N} inputs from ${seeds.length} seeds (seed ${startSeed}) in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
  `decode errors ${errors}; slowest ${slowest.toFixed(2)} ms; crashes = ${crashes}`);
process.exitCode = crashes ? 1 : 0;
