// Golden BGP vectors from real peers: runs FRR, BIRD and GoBGP in network namespaces, makes
// them exchange OPEN / UPDATE / KEEPALIVE / ROUTE-REFRESH / NOTIFICATION messages (RFC 4271,
// 2918, 7313, 4760, 4364, 4659, 7432, 9136, 1997, 4360, 8092, 7911, 8950, 4724, 8203), records
// the wire with tshark, and writes one message per line as hex plus tshark's own decode.
//
// Not part of `npm test`: the committed files are the vectors. Regenerate (as root) with
//   npx tsc -p . && node dist/test/vectors/capture.js [scenario...]
// Output, per sending speaker S and session: test/vectors/S/NAME.hex, NAME.tshark.json; the
// peers' configs beside them; the pcaps and action logs in test/vectors/pcap/; INDEX.md lists
// every message with a one-line summary.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, run, waitFor } from '../harness/netns.js';
import { frrBgpConfig, startFrr, type FrrHandle } from '../harness/frr.js';
import { startBird, type BirdHandle } from '../harness/bird.js';
import { gobgpConfig, startGobgp, type GobgpHandle } from '../harness/gobgp.js';
import { summarize } from './summary.js';

const here = dirname(fileURLToPath(import.meta.url));
/** test/vectors in the source tree (this file runs from dist/test/vectors). */
const OUT = resolve(here, '../../../test/vectors');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- capture and extraction -------------------------------------------------------------

interface Capture {
  pcap: string;
  stop(): Promise<void>;
}

/** Starts tshark on `iface` inside `ns`, writing BGP traffic (tcp port 179) to `pcap`. */
async function startCapture(lab: Lab, ns: string, iface: string, pcap: string): Promise<Capture> {
  const child = lab.spawn(ns, 'tshark', ['-i', iface, '-f', 'tcp port 179', '-F', 'pcap', '-w', pcap]);
  let err = '';
  child.stderr?.on('data', (b) => (err += String(b)));
  await waitFor(`tshark capturing on ${ns}/${iface}`, () => {
    if (child.exitCode !== null) throw new Error(`tshark exited: ${err}`);
    return err.includes('Capturing on');
  }, 15000, 50);
  return {
    pcap,
    async stop() {
      await sleep(300); // let the last segments reach the ring
      child.kill('SIGINT');
      await waitFor('tshark to exit', () => child.exitCode !== null || child.signalCode !== null, 10000, 50);
    },
  };
}

interface Segment { stream: number; src: string; dst: string; seq: number; payload: Buffer }

/** TCP payload segments of a pcap, in frame order. */
async function segments(pcap: string): Promise<Segment[]> {
  const out = await run('tshark', ['-r', pcap, '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=|',
    '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.seq_raw', '-e', 'tcp.payload']);
  return out.split('\n').filter(Boolean).map((l) => {
    const [stream, s4, s6, d4, d6, seq, hex] = l.split('|');
    return { stream: Number(stream), src: s4 || s6 || '', dst: d4 || d6 || '', seq: Number(seq), payload: Buffer.from((hex ?? '').replace(/:/g, ''), 'hex') };
  });
}

/** Reassembles each (stream, sender) byte stream by sequence number (retransmits dropped). */
function reassemble(segs: Segment[]): Map<string, { stream: number; src: string; dst: string; bytes: Buffer }> {
  const flows = new Map<string, { stream: number; src: string; dst: string; first: number; parts: Array<{ off: number; b: Buffer }> }>();
  for (const s of segs) {
    const key = `${s.stream}|${s.src}`;
    let f = flows.get(key);
    if (!f) flows.set(key, (f = { stream: s.stream, src: s.src, dst: s.dst, first: s.seq, parts: [] }));
    f.parts.push({ off: (s.seq - f.first + 2 ** 32) % 2 ** 32, b: s.payload });
  }
  const res = new Map<string, { stream: number; src: string; dst: string; bytes: Buffer }>();
  for (const [key, f] of flows) {
    f.parts.sort((a, b) => a.off - b.off);
    const chunks: Buffer[] = [];
    let next = 0;
    for (const p of f.parts) {
      if (p.off > next) throw new Error(`gap in TCP stream ${key} at ${next}`);
      const skip = next - p.off;
      if (skip < p.b.length) {
        chunks.push(p.b.subarray(skip));
        next += p.b.length - skip;
      }
    }
    res.set(key, { stream: f.stream, src: f.src, dst: f.dst, bytes: Buffer.concat(chunks) });
  }
  return res;
}

/** Splits a byte stream into whole BGP messages by the header's length (RFC 4271 §4.1). */
export function splitMessages(bytes: Buffer): Buffer[] {
  const msgs: Buffer[] = [];
  let off = 0;
  while (off + 19 <= bytes.length) {
    for (let i = 0; i < 16; i++) if (bytes[off + i] !== 0xff) throw new Error(`bad marker at offset ${off}`);
    const len = bytes.readUInt16BE(off + 16);
    if (len < 19 || off + len > bytes.length) break;
    msgs.push(bytes.subarray(off, off + len));
    off += len;
  }
  if (off !== bytes.length) console.warn(`  ${bytes.length - off} trailing bytes left (connection cut mid-message)`);
  return msgs;
}

/** tshark's decode of the BGP PDUs of one (stream, sender), in order, trimmed to the bgp layer. */
async function tsharkDecode(pcap: string, stream: number, src: string): Promise<unknown[]> {
  const srcField = src.includes(':') ? 'ipv6.src' : 'ip.src';
  const out = await run('tshark', ['-r', pcap, '-T', 'json', '--no-duplicate-keys', '-Y', `bgp && tcp.stream == ${stream} && ${srcField} == ${src}`, '-J', 'bgp']);
  const frames = JSON.parse(out) as Array<{ _source: { layers: { bgp?: unknown } } }>;
  const res: unknown[] = [];
  for (const f of frames) {
    const b = f._source.layers.bgp;
    if (Array.isArray(b)) res.push(...b);
    else if (b !== undefined) res.push(b);
  }
  return res;
}

interface Endpoint { speaker: 'frr' | 'bird' | 'gobgp'; addrs: string[]; label?: string }
interface Written { file: string; messages: Buffer[]; streams: number[]; from: string; to: string; note: string }
const written: Written[] = [];

/**
 * Writes the messages each endpoint sent on the captured link: S/NAME.hex and S/NAME.tshark.json,
 * where `name(sender, receiver, transport)` picks NAME; streams of one name are joined in order.
 */
async function extract(pcap: string, ends: Endpoint[], name: (from: Endpoint, to: Endpoint, v6transport: boolean) => string, note: string): Promise<void> {
  const flows = [...reassemble(await segments(pcap)).values()].sort((a, b) => a.stream - b.stream);
  const groups = new Map<string, { from: Endpoint; to: Endpoint; msgs: Buffer[]; streams: number[]; json: unknown[] }>();
  for (const f of flows) {
    const from = ends.find((e) => e.addrs.includes(f.src));
    const to = ends.find((e) => e.addrs.includes(f.dst));
    if (!from || !to) throw new Error(`unknown endpoint ${f.src} → ${f.dst}`);
    const file = `${from.speaker}/${name(from, to, f.src.includes(':'))}`;
    let g = groups.get(file);
    if (!g) groups.set(file, (g = { from, to, msgs: [], streams: [], json: [] }));
    const msgs = splitMessages(f.bytes);
    const json = await tsharkDecode(pcap, f.stream, f.src);
    if (json.length !== msgs.length) console.warn(`  ${file}: stream ${f.stream} has ${msgs.length} messages but tshark decoded ${json.length}`);
    g.msgs.push(...msgs);
    g.streams.push(...msgs.map(() => f.stream));
    g.json.push(...json);
  }
  for (const [file, g] of groups) {
    mkdirSync(dirname(join(OUT, file)), { recursive: true });
    writeFileSync(join(OUT, `${file}.hex`), g.msgs.map((m) => m.toString('hex')).join('\n') + '\n');
    // One message per line, so line N+1 of the JSON file is message N of the hex file.
    writeFileSync(join(OUT, `${file}.tshark.json`), '[\n' + g.json.map((j) => JSON.stringify(j)).join(',\n') + '\n]\n');
    written.push({ file, messages: g.msgs, streams: g.streams, from: g.from.speaker, to: g.to.speaker, note });
    console.log(`  ${file}: ${g.msgs.length} messages`);
  }
}

/** Saves a config used in a scenario next to the vectors it produced. */
function saveConfig(speaker: string, file: string, text: string): void {
  mkdirSync(join(OUT, speaker), { recursive: true });
  writeFileSync(join(OUT, speaker, file), text);
}

/** An action log per scenario, so the README can say what was done in what order. */
class Steps {
  readonly lines: string[] = [];
  constructor(readonly scenario: string) {}
  async frr(h: FrrHandle, cmds: string[]): Promise<string> {
    this.lines.push(`vtysh -N ${h.name} ${cmds.map((c) => `-c '${c}'`).join(' ')}`);
    return h.vtysh(cmds);
  }
  async bird(h: BirdHandle, cmd: string): Promise<string> {
    this.lines.push(`birdc (${h.ns}) ${cmd}`);
    return h.birdc(cmd.match(/"[^"]*"|\S+/g) ?? []);
  }
  async gobgp(h: GobgpHandle, args: string[]): Promise<string> {
    this.lines.push(`gobgp (${h.ns}) ${args.join(' ')}`);
    return h.gobgp(args);
  }
  note(s: string): void {
    this.lines.push(`# ${s}`);
  }
  save(): void {
    mkdirSync(join(OUT, 'pcap'), { recursive: true });
    writeFileSync(join(OUT, 'pcap', `${this.scenario}.steps.txt`), this.lines.join('\n') + '\n');
  }
}

async function frrEstablished(h: FrrHandle, addr: string): Promise<boolean> {
  const s = await h.vtyshJson(`show bgp neighbors ${addr} json`);
  return s[addr]?.bgpState === 'Established';
}

/** Waits until the FRR neighbor's received-prefix count for `afiSafi` (as `show bgp summary json` keys it) is at least n. */
async function frrPfx(h: FrrHandle, addr: string, afiSafi: string, n: number): Promise<void> {
  await waitFor(`${h.name}: ${n} ${afiSafi} prefixes from ${addr}`, async () => {
    const s = await h.vtyshJson('show bgp summary json');
    return (s[afiSafi]?.peers?.[addr]?.pfxRcd ?? 0) >= n;
  }, 30000, 200);
}

// ---- scenario 1: FRR ↔ BIRD, IPv4/IPv6 unicast, communities, aggregates, refresh, shutdown ----

async function scenarioFrrBird(): Promise<void> {
  const lab = new Lab();
  const steps = new Steps('frr-bird');
  const tmp = mkdtempSync(join(tmpdir(), 'efv-vec-'));
  try {
    const [F, B] = ['efv-v1-frr', 'efv-v1-bird'];
    await lab.ns(F);
    await lab.ns(B);
    await lab.link(F, 'to-bird', ['192.0.2.1/24', '2001:db8:1::1/64'], B, 'to-frr', ['192.0.2.2/24', '2001:db8:1::2/64']);
    const cap = await startCapture(lab, B, 'to-frr', join(tmp, 'frr-bird.pcap'));

    // FRR 65000: 300 IPv4 /32s (100.65.0.0-1.43), 40 IPv6 /128s, some with communities of all
    // three kinds, MED, prepends; two aggregates (as-set, and atomic-aggregate); add-path tx.
    const nets4: string[] = [];
    for (let i = 0; i < 300; i++) nets4.push(`network 100.65.${i >> 8}.${i & 255}/32${i >= 256 ? ' route-map efv-tagged' : ''}`);
    const nets6: string[] = [];
    for (let i = 1; i <= 40; i++) nets6.push(`network 2001:db8:200::${i.toString(16)}/128${i > 30 ? ' route-map efv-tagged6' : ''}`);
    const frrConf = frrBgpConfig({
      asn: 65000, routerId: '192.0.2.1', hostname: 'efv-frr',
      before: [
        'route-map efv-tagged permit 10',
        ' set community 65000:100 65000:200 65535:0',
        ' set large-community 65000:1:2 65000:3:4',
        ' set extcommunity rt 65000:100 65000:4294967',
        ' set extcommunity soo 65000:7',
        ' set metric 20',
        ' set as-path prepend 65000 65000',
        'exit',
        'route-map efv-tagged6 permit 10',
        ' set community 65000:600',
        ' set large-community 65000:6:6',
        ' set metric 60',
        'exit',
      ],
      bgp: ['bgp graceful-restart', 'bgp log-neighbor-changes'],
      neighbors: [
        { address: '192.0.2.2', remoteAs: 65001, options: ['timers connect 1', 'timers 3 9'], families: ['ipv4 unicast', 'ipv6 unicast'],
          familyOptions: { 'ipv4 unicast': ['addpath-tx-all-paths'] } },
        { address: '2001:db8:1::2', remoteAs: 65001, options: ['timers connect 1', 'timers 3 9', 'capability extended-nexthop'], families: ['ipv4 unicast'] },
      ],
      families: {
        'ipv4 unicast': [...nets4, 'aggregate-address 100.64.0.0/16 as-set', 'aggregate-address 100.65.0.0/16'],
        'ipv6 unicast': nets6,
      },
    });
    saveConfig('frr', 'to-bird.frr.conf', frrConf);

    // BIRD 65001: 300 IPv4 /32s (100.64.0.0-1.43; the last 44 tagged), 40 IPv6 /128s, four
    // prefixes from two static protocols (two paths each, sent with add-path), graceful
    // restart, extended messages, extended next hop on the IPv6 session.
    const birdConf = [
      'router id 192.0.2.2;',
      'protocol device {}',
      'protocol static s4 { ipv4;',
      ...Array.from({ length: 300 }, (_, i) => `  route 100.64.${i >> 8}.${i & 255}/32 blackhole;`),
      '}',
      'protocol static s4b { ipv4 { preference 100; };',
      ...Array.from({ length: 4 }, (_, i) => `  route 100.64.0.${i}/32 blackhole { bgp_community.add((65001,999)); };`),
      '}',
      'protocol static s6 { ipv6;',
      ...Array.from({ length: 40 }, (_, i) => `  route 2001:db8:100::${(i + 1).toString(16)}/128 blackhole;`),
      '}',
      'filter efv_out {',
      '  if net ~ [ 100.64.1.0/24{32,32} ] then {',
      '    bgp_community.add((65001,100)); bgp_community.add((65535,65281));',
      '    bgp_ext_community.add((rt,65001,100)); bgp_ext_community.add((ro,65001,7)); bgp_ext_community.add((rt,4200000001,5));',
      '    bgp_large_community.add((65001,1,2)); bgp_large_community.add((4200000001,7,8));',
      '    bgp_med = 50; bgp_path.prepend(65001); bgp_path.prepend(65001);',
      '  }',
      '  if net ~ [ 2001:db8:100::20/124{128,128} ] then {',
      '    bgp_community.add((65001,600)); bgp_large_community.add((65001,6,6)); bgp_med = 70;',
      '  }',
      '  accept;',
      '}',
      'protocol bgp tor4 {',
      '  local 192.0.2.2 as 65001; neighbor 192.0.2.1 as 65000;',
      '  hold time 9; keepalive time 3; connect retry time 1; graceful restart on; enable extended messages on;',
      '  ipv4 { import all; export filter efv_out; add paths on; };',
      '  ipv6 { import all; export filter efv_out; next hop address 2001:db8:1::2; };',
      '}',
      'protocol bgp tor6 {',
      '  local 2001:db8:1::2 as 65001; neighbor 2001:db8:1::1 as 65000;',
      '  hold time 9; keepalive time 3; connect retry time 1; graceful restart on;',
      '  ipv4 { import all; export filter efv_out; extended next hop on; };',
      '}',
      '',
    ].join('\n');
    saveConfig('bird', 'to-frr.bird.conf', birdConf);

    const frr = await startFrr(lab, F, { config: frrConf, noKernel: true });
    const bird = await startBird(lab, B, birdConf);
    steps.note('FRR (zebra + bgpd -n) and BIRD started with the configs beside the vectors; capture on the BIRD side of the veth');
    await waitFor(`FRR–BIRD v4 Established\n${frr.log()}${bird.log()}`, () => frrEstablished(frr, '192.0.2.2'), 30000);
    await waitFor('FRR–BIRD v6 Established', () => frrEstablished(frr, '2001:db8:1::2'), 30000);
    await frrPfx(frr, '192.0.2.2', 'ipv4Unicast', 300);
    await frrPfx(frr, '192.0.2.2', 'ipv6Unicast', 40);
    await frrPfx(frr, '2001:db8:1::2', 'ipv4Unicast', 300);
    steps.note('both sessions Established, full tables exchanged (incl. End-of-RIB); waiting for keepalives');
    await sleep(4000);

    // ROUTE-REFRESH both ways (FRR replies to BIRD's with enhanced refresh BoRR/EoRR, RFC 7313).
    await steps.frr(frr, ['clear bgp ipv4 unicast 192.0.2.2 soft in']);
    await steps.frr(frr, ['clear bgp ipv6 unicast 192.0.2.2 soft in']);
    await sleep(1500);
    await steps.bird(bird, 'reload in tor4');
    await sleep(1500);

    // Withdrawals: FRR withdraws 10 /32s and 5 /128s; BIRD disables its second static protocol
    // (add-path withdraws of path ids) and withdraws IPv6 routes (MP_UNREACH_NLRI).
    await steps.frr(frr, ['configure terminal', 'router bgp 65000', 'address-family ipv4 unicast',
      ...Array.from({ length: 10 }, (_, i) => `no network 100.65.0.${i}/32`), 'exit-address-family',
      'address-family ipv6 unicast', ...Array.from({ length: 5 }, (_, i) => `no network 2001:db8:200::${(i + 1).toString(16)}/128`)]);
    await steps.bird(bird, 'disable s4b');
    await steps.bird(bird, 'disable s6');
    await sleep(2000);
    // Re-announce (BIRD) so a second UPDATE burst of IPv6 follows its withdraw.
    await steps.bird(bird, 'enable s6');
    await sleep(2000);

    // NOTIFICATION Cease / Administrative Shutdown with a message (RFC 8203 / 9003), both ways.
    await steps.frr(frr, ['configure terminal', 'router bgp 65000', 'neighbor 2001:db8:1::2 shutdown message efv: maintenance window 42']);
    await sleep(1000);
    await steps.bird(bird, 'disable tor4 "efv: BIRD going down"');
    await sleep(1500);
    await cap.stop();
    steps.save();
    savePcap(cap.pcap, 'frr-bird.pcap');

    const ends: Endpoint[] = [
      { speaker: 'frr', addrs: ['192.0.2.1', '2001:db8:1::1'] },
      { speaker: 'bird', addrs: ['192.0.2.2', '2001:db8:1::2'] },
    ];
    await extract(cap.pcap, ends, (_f, to, v6) => `to-${to.speaker}${v6 ? '-ipv6-session' : ''}`,
      'FRR 8.4 ↔ BIRD 2.0.12, eBGP 65000↔65001; scenario frr-bird (see pcap/frr-bird.steps.txt)');
  } finally {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Keeps the raw capture beside the vectors (world-readable; tshark writes it 0600). */
function savePcap(from: string, name: string): void {
  mkdirSync(join(OUT, 'pcap'), { recursive: true });
  copyFileSync(from, join(OUT, 'pcap', name));
  chmodSync(join(OUT, 'pcap', name), 0o644);
}

// ---- scenario 2: GoBGP ↔ FRR (eBGP) ↔ FRR (iBGP): VPNv4/v6, EVPN 1–5, add-path ------------

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

async function scenarioGobgpFrr(): Promise<void> {
  const lab = new Lab();
  const steps = new Steps('gobgp-frr');
  const tmp = mkdtempSync(join(tmpdir(), 'efv-vec-'));
  try {
    const [G, T, L] = ['efv-v2-gobgp', 'efv-v2-tor', 'efv-v2-leaf'];
    for (const n of [G, T, L]) await lab.ns(n);
    await lab.link(G, 'to-tor', ['198.51.100.2/24', '2001:db8:2::2/64'], T, 'to-gobgp', ['198.51.100.1/24', '2001:db8:2::1/64']);
    await lab.link(T, 'to-leaf', ['203.0.113.1/24', '2001:db8:3::1/64'], L, 'to-tor', ['203.0.113.2/24', '2001:db8:3::2/64']);
    // The leaf is a VTEP: VNI 100 on vxlan100 in bridge br100, one host MAC/IP behind it, fixed MACs.
    const ipL = (...a: string[]): Promise<string> => run('ip', ['-n', L, ...a]);
    await ipL('addr', 'add', '10.255.0.2/32', 'dev', 'lo');
    await ipL('link', 'add', 'br100', 'address', '02:00:00:00:01:00', 'type', 'bridge');
    await ipL('link', 'add', 'vxlan100', 'address', '02:00:00:00:01:01', 'type', 'vxlan', 'id', '100', 'local', '10.255.0.2', 'dstport', '4789', 'nolearning');
    await ipL('link', 'set', 'vxlan100', 'master', 'br100');
    await ipL('link', 'add', 'host1', 'address', '02:00:00:00:01:02', 'type', 'veth', 'peer', 'name', 'host1p', 'address', '02:00:00:00:01:03');
    await ipL('link', 'set', 'host1', 'master', 'br100');
    for (const i of ['br100', 'vxlan100', 'host1', 'host1p']) await ipL('link', 'set', i, 'up');
    await ipL('addr', 'add', '10.0.0.1/24', 'dev', 'br100');
    await run('ip', ['netns', 'exec', L, 'bridge', 'fdb', 'add', 'aa:bb:cc:00:00:01', 'dev', 'host1', 'master', 'static']);
    await ipL('neigh', 'add', '10.0.0.5', 'lladdr', 'aa:bb:cc:00:00:01', 'dev', 'br100', 'nud', 'permanent');

    const capG = await startCapture(lab, G, 'to-tor', join(tmp, 'gobgp-frr.pcap'));
    const capL = await startCapture(lab, L, 'to-tor', join(tmp, 'frr-ibgp.pcap'));

    // GoBGP 65002: all five families, add-path rx/tx on ipv4-unicast, graceful restart.
    const fams = ['ipv4-unicast', 'ipv6-unicast', 'l3vpn-ipv4-unicast', 'l3vpn-ipv6-unicast', 'l2vpn-evpn'];
    const gConf = gobgpConfig({ asn: 65002, routerId: '198.51.100.2', neighbors: [
      { address: '198.51.100.1', peerAs: 65000, families: fams, addPath: ['ipv4-unicast'], gracefulRestart: true },
    ] });
    saveConfig('gobgp', 'to-frr.gobgpd.toml', gConf);
    const g = await startGobgp(lab, G, gConf);
    const gAdd: string[][] = [];
    for (let i = 0; i < 200; i++) gAdd.push(['global', 'rib', 'add', '-a', 'ipv4', `100.66.${i >> 8}.${i & 255}/32`, 'nexthop', '198.51.100.2']);
    gAdd.push(
      ['global', 'rib', 'add', '-a', 'ipv4', '100.66.10.0/24', 'identifier', '1', 'nexthop', '198.51.100.2', 'med', '10'],
      ['global', 'rib', 'add', '-a', 'ipv4', '100.66.10.0/24', 'identifier', '2', 'nexthop', '198.51.100.3', 'med', '20'],
      ['global', 'rib', 'add', '-a', 'ipv4', '100.66.11.0/24', 'origin', 'incomplete', 'aspath', '65010,{65011,65012}', 'nexthop', '198.51.100.2',
        'aggregator', '65010:192.0.2.10', 'community', '65002:7,no-export,65535:0', 'large-community', '65002:1:2,4200000002:3:4', 'med', '0'],
      ['global', 'rib', 'add', '-a', 'ipv4', '100.66.12.0/22', 'origin', 'egp', 'aspath', '4200000010', 'nexthop', '198.51.100.2', 'aigp', 'metric', '300'],
    );
    for (let i = 1; i <= 20; i++) gAdd.push(['global', 'rib', 'add', '-a', 'ipv6', `2001:db8:300::${i.toString(16)}/128`, 'nexthop', '2001:db8:2::2']);
    gAdd.push(['global', 'rib', 'add', '-a', 'ipv6', '2001:db8:301::/48', 'nexthop', '2001:db8:2::2', 'community', '65002:6', 'large-community', '65002:6:6']);
    for (let i = 0; i < 5; i++) gAdd.push(['global', 'rib', 'add', '-a', 'vpnv4', `10.1.${i}.0/24`, 'label', String(100 + i), 'rd', '65002:1', 'rt', '65002:1', 'nexthop', '198.51.100.2']);
    gAdd.push(
      ['global', 'rib', 'add', '-a', 'vpnv4', '10.2.0.0/16', 'label', '200', 'rd', '198.51.100.2:5', 'rt', '65002:2', 'nexthop', '198.51.100.2', 'community', '65002:9'],
      ['global', 'rib', 'add', '-a', 'vpnv4', '10.3.0.0/16', 'label', '300', 'rd', '4200000002:7', 'rt', '4200000002:7', 'nexthop', '198.51.100.2'],
      ['global', 'rib', 'add', '-a', 'vpnv6', '2001:db8:a::/64', 'label', '400', 'rd', '65002:1', 'rt', '65002:1', 'nexthop', '2001:db8:2::2'],
      ['global', 'rib', 'add', '-a', 'vpnv6', '2001:db8:b::/64', 'label', '401', 'rd', '65002:1', 'rt', '65002:1', 'nexthop', '2001:db8:2::2'],
      // EVPN: type 1 (Ethernet A-D), 2 (MAC/IP), 3 (IMET with PMSI), 4 (Ethernet segment), 5 (IP prefix).
      ['global', 'rib', 'add', '-a', 'evpn', 'a-d', 'esi', 'LACP', '02:00:00:00:00:aa', '1', 'etag', '0', 'label', '1000', 'rd', '65002:100', 'rt', '65002:100', 'encap', 'vxlan', 'esi-label', '2000'], // GoBGP 3.10's CLI rejects the documented trailing 'all-active'
      ['global', 'rib', 'add', '-a', 'evpn', 'macadv', 'aa:bb:cc:00:00:02', '0.0.0.0', 'etag', '0', 'label', '100', 'rd', '65002:100', 'rt', '65002:100', 'encap', 'vxlan'],
      ['global', 'rib', 'add', '-a', 'evpn', 'macadv', 'aa:bb:cc:00:00:03', '10.0.0.7', 'etag', '0', 'label', '100', 'rd', '65002:100', 'rt', '65002:100', 'encap', 'vxlan', 'router-mac', '02:00:00:00:00:ff'],
      ['global', 'rib', 'add', '-a', 'evpn', 'macadv', 'aa:bb:cc:00:00:04', '2001:db8:c::7', 'etag', '0', 'label', '100', 'rd', '65002:100', 'rt', '65002:100', 'encap', 'vxlan'],
      ['global', 'rib', 'add', '-a', 'evpn', 'multicast', '198.51.100.2', 'etag', '0', 'rd', '65002:100', 'rt', '65002:100', 'encap', 'vxlan', 'pmsi', 'ingress-repl', '100', '198.51.100.2'],
      ['global', 'rib', 'add', '-a', 'evpn', 'esi', '198.51.100.2', 'esi', 'LACP', '02:00:00:00:00:aa', '1', 'rd', '65002:100', 'rt', '65002:100', 'encap', 'vxlan'],
      ['global', 'rib', 'add', '-a', 'evpn', 'prefix', '10.4.0.0/24', 'gw', '0.0.0.0', 'etag', '0', 'label', '5000', 'rd', '65002:5000', 'rt', '65002:5000', 'encap', 'vxlan', 'router-mac', '02:00:00:00:00:ff'],
      ['global', 'rib', 'add', '-a', 'evpn', 'prefix', '2001:db8:d::/64', 'gw', '::', 'etag', '0', 'label', '5000', 'rd', '65002:5000', 'rt', '65002:5000', 'encap', 'vxlan', 'router-mac', '02:00:00:00:00:ff'],
    );
    steps.note(`gobgpd started; ${gAdd.length} routes added with gobgp global rib add (200 /32s 100.66.0.0–0.199, then:)`);
    for (const a of gAdd.slice(200)) steps.lines.push(`gobgp (${G}) ${a.join(' ')}`);
    await pool(gAdd.slice(0, 200), 8, (a) => g.gobgp(a));
    for (const a of gAdd.slice(200)) await g.gobgp(a).catch((e) => { throw new Error(`${a.join(' ')}: ${e}`); });

    // FRR "tor" 65000: eBGP to GoBGP, iBGP to the leaf; all five families; add-path tx both ways.
    const allF: Array<'ipv4 unicast' | 'ipv6 unicast' | 'ipv4 vpn' | 'ipv6 vpn' | 'l2vpn evpn'> = ['ipv4 unicast', 'ipv6 unicast', 'ipv4 vpn', 'ipv6 vpn', 'l2vpn evpn'];
    const torConf = frrBgpConfig({
      asn: 65000, routerId: '198.51.100.1', hostname: 'efv-tor',
      bgp: ['bgp graceful-restart'],
      neighbors: [
        { address: '198.51.100.2', remoteAs: 65002, options: ['timers connect 1', 'timers 3 9'], families: allF, familyOptions: { 'ipv4 unicast': ['addpath-tx-all-paths'] } },
        { address: '203.0.113.2', remoteAs: 'internal', options: ['timers connect 1', 'timers 3 9', 'update-source 203.0.113.1'], families: allF,
          familyOptions: { 'ipv4 unicast': ['addpath-tx-all-paths', 'next-hop-self'], 'ipv6 unicast': ['next-hop-self'] } },
      ],
      families: { 'ipv4 unicast': ['network 100.67.0.0/24'] },
    });
    saveConfig('frr', 'tor.frr.conf', torConf);
    // FRR "leaf" 65000: iBGP; EVPN VTEP (advertise-all-vni → type 2/3); unicast with LOCAL_PREF and
    // communities. (A BGP VRF exported to VPN stays invalid here — the kernel has no VRF — so FRR's
    // VPN encoding comes from the routes it relays.)
    const leafConf = frrBgpConfig({
      asn: 65000, routerId: '203.0.113.2', hostname: 'efv-leaf',
      before: ['route-map efv-lp permit 10', ' set local-preference 250', ' set community 65000:250', ' set extcommunity rt 65000:250', ' set large-community 65000:250:1', 'exit'],
      bgp: ['bgp graceful-restart'],
      neighbors: [{ address: '203.0.113.1', remoteAs: 'internal', options: ['timers connect 1', 'timers 3 9'], families: allF }],
      families: {
        'ipv4 unicast': ['network 100.68.0.0/24', 'network 100.68.1.0/24 route-map efv-lp', 'network 10.255.0.2/32'],
        'ipv6 unicast': ['network 2001:db8:400::/48 route-map efv-lp'],
        'l2vpn evpn': ['advertise-all-vni', 'advertise-svi-ip'],
      },
    });
    saveConfig('frr', 'leaf.frr.conf', leafConf);
    const tor = await startFrr(lab, T, { config: torConf, noKernel: true });
    const leaf = await startFrr(lab, L, { config: leafConf, noKernel: true });
    steps.note('FRR tor and leaf started (zebra + bgpd -n); captures on GoBGP↔tor and tor↔leaf');
    await waitFor(`tor–GoBGP Established\n${tor.log()}${g.log()}`, () => frrEstablished(tor, '198.51.100.2'), 30000);
    await waitFor(`tor–leaf Established\n${tor.log()}${leaf.log()}`, () => frrEstablished(tor, '203.0.113.2'), 30000);
    await frrPfx(tor, '198.51.100.2', 'ipv4Unicast', 203);
    await frrPfx(tor, '198.51.100.2', 'l2VpnEvpn', 7);
    await sleep(4000);
    steps.note(`tor's view: ${JSON.stringify(Object.fromEntries(Object.entries(await tor.vtyshJson('show bgp summary json')).map(([k, v]: [string, any]) => [k, Object.fromEntries(Object.entries(v.peers ?? {}).map(([p, x]: [string, any]) => [p, x.pfxRcd]))])))}`);

    // ROUTE-REFRESH both ways.
    await steps.frr(tor, ['clear bgp 198.51.100.2 soft in']);
    await sleep(1500);
    await steps.gobgp(g, ['neighbor', '198.51.100.1', 'softresetin', '-a', 'evpn']);
    await steps.gobgp(g, ['neighbor', '198.51.100.1', 'softresetin', '-a', 'vpnv4']);
    await sleep(1500);
    // Withdrawals: GoBGP (unicast, add-path id, VPN, EVPN), leaf (type-2 MAC, VRF prefix → VPN).
    for (const a of [
      ['global', 'rib', 'del', '-a', 'ipv4', '100.66.0.7/32'],
      ['global', 'rib', 'del', '-a', 'ipv4', '100.66.10.0/24', 'identifier', '2'],
      ['global', 'rib', 'del', '-a', 'ipv6', '2001:db8:300::1/128'],
      ['global', 'rib', 'del', '-a', 'vpnv4', '10.1.0.0/24', 'label', '100', 'rd', '65002:1'],
      ['global', 'rib', 'del', '-a', 'vpnv6', '2001:db8:a::/64', 'label', '400', 'rd', '65002:1'],
      ['global', 'rib', 'del', '-a', 'evpn', 'macadv', 'aa:bb:cc:00:00:02', '0.0.0.0', 'etag', '0', 'label', '100', 'rd', '65002:100'],
      ['global', 'rib', 'del', '-a', 'evpn', 'prefix', '10.4.0.0/24', 'etag', '0', 'rd', '65002:5000'],
    ]) await steps.gobgp(g, a).catch((e) => steps.note(`failed: ${String(e).slice(0, 200)}`));
    steps.lines.push(`ip -n ${L} neigh del 10.0.0.5 dev br100; bridge fdb del aa:bb:cc:00:00:01 dev host1 master`);
    await ipL('neigh', 'del', '10.0.0.5', 'dev', 'br100');
    await run('ip', ['netns', 'exec', L, 'bridge', 'fdb', 'del', 'aa:bb:cc:00:00:01', 'dev', 'host1', 'master']);
    await steps.frr(leaf, ['configure terminal', 'router bgp 65000', 'address-family ipv4 unicast', 'no network 100.68.0.0/24']);
    await sleep(3000);
    // NOTIFICATIONs: GoBGP shuts its session down with a message; tor shuts down the iBGP one.
    // GoBGP 3.10: only the deprecated `shutdown --reason` puts the RFC 8203 text in the Cease;
    // `disable --reason` sends Cease/Admin Shutdown without it, and unknown flags are ignored.
    await steps.gobgp(g, ['neighbor', '198.51.100.1', 'shutdown', '--reason', 'efv: gobgp maintenance']);
    await steps.frr(tor, ['configure terminal', 'router bgp 65000', 'neighbor 203.0.113.2 shutdown message efv: tor maintenance']);
    await sleep(1500);
    await capG.stop();
    await capL.stop();
    steps.save();
    savePcap(capG.pcap, 'gobgp-frr.pcap');
    savePcap(capL.pcap, 'frr-ibgp.pcap');
    await extract(capG.pcap, [
      { speaker: 'gobgp', addrs: ['198.51.100.2', '2001:db8:2::2'] },
      { speaker: 'frr', addrs: ['198.51.100.1', '2001:db8:2::1'] },
    ], (_f, to) => `to-${to.speaker}`, 'GoBGP 3.10 ↔ FRR 8.4 "tor", eBGP 65002↔65000; scenario gobgp-frr (see pcap/gobgp-frr.steps.txt)');
    await extract(capL.pcap, [
      { speaker: 'frr', label: 'tor', addrs: ['203.0.113.1', '2001:db8:3::1'] },
      { speaker: 'frr', label: 'leaf', addrs: ['203.0.113.2', '2001:db8:3::2'] },
    ], (f, to) => `ibgp-${f.label}-to-${to.label}`, 'FRR 8.4 "tor" ↔ FRR 8.4 "leaf", iBGP 65000; scenario gobgp-frr (see pcap/gobgp-frr.steps.txt)');
  } finally {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- scenario 3: GoBGP ↔ BIRD, IPv4/IPv6 unicast with add-path, admin reset ------------------

async function scenarioGobgpBird(): Promise<void> {
  const lab = new Lab();
  const steps = new Steps('gobgp-bird');
  const tmp = mkdtempSync(join(tmpdir(), 'efv-vec-'));
  try {
    const [G, B] = ['efv-v3-gobgp', 'efv-v3-bird'];
    await lab.ns(G);
    await lab.ns(B);
    await lab.link(G, 'to-bird', ['192.0.2.102/24', '2001:db8:5::2/64'], B, 'to-gobgp', ['192.0.2.101/24', '2001:db8:5::1/64']);
    const cap = await startCapture(lab, B, 'to-gobgp', join(tmp, 'gobgp-bird.pcap'));
    const birdConf = [
      'router id 192.0.2.101;',
      'protocol device {}',
      'protocol static s4 { ipv4;',
      ...Array.from({ length: 50 }, (_, i) => `  route 100.70.0.${i}/32 blackhole;`),
      '  route 100.70.1.0/24 blackhole { bgp_large_community.add((65001,70,1)); };',
      '}',
      'protocol static s4b { ipv4;',
      '  route 100.70.1.0/24 blackhole { bgp_community.add((65001,71)); };',
      '}',
      'protocol static s6 { ipv6;',
      ...Array.from({ length: 10 }, (_, i) => `  route 2001:db8:700::${(i + 1).toString(16)}/128 blackhole;`),
      '}',
      'protocol bgp gobgp {',
      '  local 192.0.2.101 as 65001; neighbor 192.0.2.102 as 65002;',
      '  hold time 9; keepalive time 3; connect retry time 1; graceful restart on;',
      '  ipv4 { import all; export all; add paths on; };',
      '  ipv6 { import all; export all; next hop address 2001:db8:5::1; };',
      '}',
      '',
    ].join('\n');
    saveConfig('bird', 'to-gobgp.bird.conf', birdConf);
    const gConf = gobgpConfig({ asn: 65002, routerId: '192.0.2.102', neighbors: [
      { address: '192.0.2.101', peerAs: 65001, families: ['ipv4-unicast', 'ipv6-unicast'], addPath: ['ipv4-unicast'], gracefulRestart: true },
    ] });
    saveConfig('gobgp', 'to-bird.gobgpd.toml', gConf);
    const g = await startGobgp(lab, G, gConf);
    const adds: string[][] = Array.from({ length: 50 }, (_, i) => ['global', 'rib', 'add', '-a', 'ipv4', `100.71.0.${i}/32`, 'nexthop', '192.0.2.102']);
    adds.push(
      ['global', 'rib', 'add', '-a', 'ipv4', '100.71.1.0/24', 'identifier', '1', 'nexthop', '192.0.2.102', 'community', '65002:1'],
      ['global', 'rib', 'add', '-a', 'ipv4', '100.71.1.0/24', 'identifier', '2', 'nexthop', '192.0.2.103', 'community', '65002:2'],
      ['global', 'rib', 'add', '-a', 'ipv6', '2001:db8:710::/48', 'nexthop', '2001:db8:5::2', 'large-community', '65002:7:1'],
    );
    await pool(adds, 8, (a) => g.gobgp(a));
    steps.note('gobgpd started; 50 /32s 100.71.0.0–49 added, then:');
    for (const a of adds.slice(50)) steps.lines.push(`gobgp (${G}) ${a.join(' ')}`);
    const bird = await startBird(lab, B, birdConf);
    steps.note('BIRD started; capture on the BIRD side');
    await waitFor(`GoBGP–BIRD Established\n${g.log()}${bird.log()}`, async () => {
      const n = await g.gobgpJson(['neighbor', '192.0.2.101']);
      return n?.state?.session_state === 6 || /ESTABLISHED/i.test(JSON.stringify(n?.state?.session_state ?? ''));
    }, 30000, 200);
    await waitFor('BIRD has GoBGP routes', async () => /100\.71\.1\.0\/24/.test(await bird.birdc('show route protocol gobgp')), 20000, 200);
    await sleep(4000);
    await steps.bird(bird, 'reload in gobgp');
    await sleep(1000);
    await steps.gobgp(g, ['neighbor', '192.0.2.101', 'softresetin', '-a', 'ipv4']);
    await sleep(1000);
    await steps.gobgp(g, ['global', 'rib', 'del', '-a', 'ipv4', '100.71.1.0/24', 'identifier', '2']);
    await steps.bird(bird, 'disable s4b');
    await steps.bird(bird, 'disable s6');
    await sleep(2000);
    await steps.gobgp(g, ['neighbor', '192.0.2.101', 'reset', '--reason', 'efv: gobgp admin reset']);
    await sleep(2500);
    await cap.stop();
    steps.save();
    savePcap(cap.pcap, 'gobgp-bird.pcap');
    await extract(cap.pcap, [
      { speaker: 'gobgp', addrs: ['192.0.2.102', '2001:db8:5::2'] },
      { speaker: 'bird', addrs: ['192.0.2.101', '2001:db8:5::1'] },
    ], (_f, to) => `to-${to.speaker}`, 'GoBGP 3.10 ↔ BIRD 2.0.12, eBGP 65002↔65001; scenario gobgp-bird (see pcap/gobgp-bird.steps.txt)');
  } finally {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- main -------------------------------------------------------------------------------

const scenarios: Record<string, () => Promise<void>> = {
  'frr-bird': scenarioFrrBird,
  'gobgp-frr': scenarioGobgpFrr,
  'gobgp-bird': scenarioGobgpBird,
};

async function main(): Promise<void> {
  const want = process.argv.slice(2);
  for (const [name, fn] of Object.entries(scenarios)) {
    if (want.length && !want.includes(name)) continue;
    console.log(`scenario ${name}`);
    await fn();
  }
  writeIndex();
}

/** INDEX.md: every vector file, its provenance note and a one-line summary per message. */
function writeIndex(): void {
  const path = join(OUT, 'INDEX.md');
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const sections = new Map<string, string>();
  for (const m of old.matchAll(/^## (\S+)\n[\s\S]*?(?=^## |\s*$(?![\s\S]))/gm)) sections.set(m[1]!, m[0].trimEnd());
  for (const w of written) {
    const multi = new Set(w.streams).size > 1;
    const lines = [`## ${w.file}.hex`, '', `${w.note}. Sent by ${w.from} to ${w.to}; ${w.messages.length} messages (line: ${multi ? '[TCP connection] ' : ''}summary).`, '', '```'];
    const conn = [...new Set(w.streams)];
    w.messages.forEach((m, i) => lines.push(`${String(i + 1).padStart(4)}: ${multi ? `[c${conn.indexOf(w.streams[i]!) + 1}] ` : ''}${summarize(m)}`));
    lines.push('```');
    sections.set(`${w.file}.hex`, lines.join('\n'));
  }
  const body = [...sections.keys()].sort().map((k) => sections.get(k)).join('\n\n');
  writeFileSync(path, `# Vector index (generated by capture.ts; do not edit)\n\n${body}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
