// Benchmark: moving N IPv4 /32 routes over one eBGP session, `edgeflow speaker` side by
// side with BIRD 2, GoBGP 3 and FRR 8.4 in the same run (efp-bench- namespaces). Prints a
// table (and writes bench/bgp/RESULTS.md with --write); never asserts.
//
//   node dist/bench/bgp/run.js [--n 100000,1000000] [--pairs edgeflow>frr,bird>frr,...] [--gobgp-max 100000] [--write]
//
// Each pair: the receiver starts first (passive, exports nothing back), its RSS is read;
// then the sender process starts already holding the N routes (edgeflow: `mrt:` file in
// its config, written like peerlab's mkmrt.py; BIRD: N static routes in its config;
// GoBGP: `gobgp mrt inject`, checked and repeated until gobgpd holds all N, before it
// connects). Measured: process start → Established, Established → receiver holds all N
// (polled through the receiver's own CLI/API every 25 ms, so each time is late by up to
// one poll plus one query), bytes the receiver's TCP socket took per route (`ss -ti`
// bytes_received: UPDATEs plus a few OPEN/KEEPALIVE bytes), the receiver's peak RSS
// (VmHWM) and its growth per route. FRR runs bgpd with -n (no kernel install).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, nsRun, run, waitFor } from '../../test/harness/netns.js';
import { frrBgpConfig, startFrr, type FrrHandle } from '../../test/harness/frr.js';
import { startBird, type BirdHandle } from '../../test/harness/bird.js';
import { gobgpConfig, startGobgp, type GobgpHandle } from '../../test/harness/gobgp.js';
import { startSpeaker, type SpeakerProc } from '../../test/speaker/driver.js';

/** `bird`: a sender with its N routes in the config from the start; `birdA`: BIRD announcing on an empty session (static protocol enabled once Established). */
type Kind = 'edgeflow' | 'bird' | 'birdA' | 'gobgp' | 'frr';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const SIZES = (arg('n') ?? '100000,1000000').split(',').map(Number);
const PAIRS = (arg('pairs') ?? 'edgeflow>frr,bird>frr,birdA>frr,gobgp>frr,edgeflow>bird,bird>bird,birdA>edgeflow,birdA>bird,birdA>gobgp')
  .split(',').map((p) => p.split('>') as [Kind, Kind]);
const GOBGP_MAX = Number(arg('gobgp-max') ?? 100000);
const WRITE = args.includes('--write');
const POLL_MS = 25;
const TIMEOUT_MS = Number(arg('timeout') ?? 180000);

const TX_NS = 'efp-bench-tx';
const RX_NS = 'efp-bench-rx';
const TX = '192.0.2.1';
const RX = '192.0.2.2';
const TX_AS = 65000;
const RX_AS = 65001;
const ORIGIN_AS = 65100; // first AS in the MRT paths (peerlab's mkmrt.py takes it as an argument)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ route sets

/** The i-th route: 100.64.0.0/32 upward, as peerlab's mkmrt.py and lab.sh number them. */
const routeIp = (i: number): string => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

/** An MRT TABLE_DUMP_V2 file (RFC 6396) of N /32 routes: PEER_INDEX_TABLE, then one RIB_IPV4_UNICAST record per route (mkmrt.py's layout). */
export function mrtFile(n: number, nextHop: string, asn: number): Buffer {
  const ip = (s: string) => Buffer.from(s.split('.').map(Number));
  const rec = (subtype: number, body: Buffer): Buffer => {
    const h = Buffer.alloc(12);
    h.writeUInt32BE(0, 0); // timestamp
    h.writeUInt16BE(13, 4); // TABLE_DUMP_V2
    h.writeUInt16BE(subtype, 6);
    h.writeUInt32BE(body.length, 8);
    return Buffer.concat([h, body]);
  };
  // PEER_INDEX_TABLE: collector ID, empty view name, 1 peer (type 2: 4-octet AS, IPv4)
  const peerIndex = Buffer.concat([ip(nextHop), Buffer.from([0, 0, 0, 1, 2]), ip(nextHop), ip(nextHop), u32(asn)]);
  // ORIGIN IGP, AS_PATH [asn] (4-octet), NEXT_HOP
  const attrs = Buffer.concat([Buffer.from([0x40, 1, 1, 0, 0x40, 2, 6, 2, 1]), u32(asn), Buffer.from([0x40, 3, 4]), ip(nextHop)]);
  const parts: Buffer[] = [rec(1, peerIndex)];
  for (let i = 0; i < n; i++) {
    const body = Buffer.alloc(4 + 1 + 4 + 2 + 2 + 4 + 2 + attrs.length);
    let o = body.writeUInt32BE(i, 0); // sequence
    o = body.writeUInt8(32, o);
    o = body.writeUInt8(100, o);
    o = body.writeUInt8(64 + (i >> 16), o);
    o = body.writeUInt8((i >> 8) & 255, o);
    o = body.writeUInt8(i & 255, o);
    o = body.writeUInt16BE(1, o); // entry count
    o = body.writeUInt16BE(0, o); // peer index
    o = body.writeUInt32BE(0, o); // originated time
    o = body.writeUInt16BE(attrs.length, o);
    attrs.copy(body, o);
    parts.push(rec(2, body));
  }
  return Buffer.concat(parts);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function birdStatic(n: number, disabled: boolean): string {
  // disabled: enabled by `birdc enable s1` once the session is up (announce on an empty session)
  const L: string[] = [`protocol static s1 { ipv4;${disabled ? ' disabled;' : ''}`];
  for (let i = 0; i < n; i++) L.push(`  route ${routeIp(i)}/32 blackhole;`);
  L.push('}');
  return L.join('\n');
}

// ------------------------------------------------------------------ processes

interface Proc {
  pid(): number | undefined;
  /** Session state is Established; `since` is when it got there (epoch ms) when the daemon says so precisely. */
  state(): Promise<{ up: boolean; since?: number }>;
  /** Routes held from the other side (receivers). */
  held(): Promise<number>;
  stop(): Promise<void>;
}

function vm(pid: number | undefined): { hwm: number; rss: number } {
  if (!pid) return { hwm: NaN, rss: NaN };
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return { hwm: NaN, rss: NaN };
  }
}

function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function startFrrSide(lab: Lab, ns: string, self: string, peer: string, asn: number, peerAs: number, role: 'rx'): Promise<Proc & { h: FrrHandle }> {
  void role;
  const h = await startFrr(lab, ns, {
    noKernel: true,
    config: frrBgpConfig({
      asn, routerId: self, hostname: ns,
      before: ['route-map NONE deny 10', 'exit'],
      neighbors: [{ address: peer, remoteAs: peerAs, options: ['passive'], familyOptions: { 'ipv4 unicast': ['route-map NONE out'] } }],
    }),
  });
  const summary = async () => (await h.vtyshJson('show bgp ipv4 unicast summary json')).peers?.[peer];
  return {
    h,
    pid: () => h.pids.bgpd,
    async state() {
      const p = await summary();
      return p?.state === 'Established' ? { up: true, since: Date.now() - Number(p.peerUptimeMsec) } : { up: false };
    },
    async held() {
      return Number((await summary())?.pfxRcd ?? 0);
    },
    stop: () => h.stop(),
  };
}

function birdConf(self: string, peer: string, asn: number, peerAs: number, o: { routes?: number; passive?: boolean; announceLater?: boolean }): string {
  return [
    `router id ${self};`,
    'timeformat protocol iso long ms;',
    'protocol device {}',
    o.routes ? birdStatic(o.routes, !!o.announceLater) : '',
    `protocol bgp peer { local ${self} as ${asn}; neighbor ${peer} as ${peerAs};${o.passive ? ' passive on;' : ' connect delay time 0;'}`,
    `  ipv4 { import ${o.routes ? 'none' : 'all'}; export ${o.routes ? 'where proto = "s1"' : 'none'}; }; }`,
    '',
  ].join('\n');
}

async function startBirdSide(lab: Lab, ns: string, conf: string): Promise<Proc & { h: BirdHandle }> {
  const h = await startBird(lab, ns, conf);
  return {
    h,
    pid: () => h.pid,
    async state() {
      const out = await h.birdc(['show', 'protocols', 'peer']);
      const line = out.split('\n').find((l) => l.startsWith('peer '));
      if (!line?.includes('Established')) return { up: false };
      const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})/.exec(line);
      return { up: true, since: m ? new Date(m[1]!.replace(' ', 'T')).getTime() : undefined };
    },
    async held() {
      const out = await h.birdc(['show', 'protocols', 'all', 'peer']);
      return Number(/Routes:\s+(\d+) imported/.exec(out)?.[1] ?? 0);
    },
    stop: () => h.stop(),
  };
}

async function startGobgpSide(lab: Lab, ns: string, self: string, peer: string, asn: number, peerAs: number, passive: boolean): Promise<Proc & { h: GobgpHandle }> {
  const h = await startGobgp(lab, ns, gobgpConfig({ asn, routerId: self, neighbors: [{ address: peer, peerAs, passive }] }));
  return {
    h,
    pid: () => h.pid,
    async state() {
      const j = await h.gobgpJson(['neighbor', peer]);
      return j?.state?.session_state === 6 ? { up: true } : { up: false };
    },
    async held() {
      const j = await h.gobgpJson(['neighbor', peer]);
      const afs = (j?.afi_safis ?? []) as Array<{ state?: { received?: number; accepted?: number } }>;
      return afs.reduce((s, a) => s + Number(a.state?.accepted ?? a.state?.received ?? 0), 0);
    },
    stop: () => h.stop(),
  };
}

async function startEdgeflowSide(lab: Lab, ns: string, self: string, peer: string, asn: number, peerAs: number, o: { mrt?: string; passive?: boolean }): Promise<Proc & { h: SpeakerProc }> {
  const h = await startSpeaker(lab, ns, {
    asn, routerId: self,
    listen: { address: '0.0.0.0', port: 179 },
    neighbors: [{ address: peer, asn: peerAs, holdTime: 90, connectRetry: 1, idleHoldTime: 1, passive: !!o.passive, gracefulRestart: 0 }],
    ...(o.mrt ? { mrt: o.mrt } : {}),
  });
  return {
    h,
    pid: () => h.pid(),
    async state() {
      const n = await h.neighbor(peer);
      return n.state === 'Established' ? { up: true, since: n.lastChange ? Date.parse(n.lastChange) : undefined } : { up: false };
    },
    async held() {
      return (await h.neighbor(peer)).prefixes.accepted;
    },
    async stop() {
      await h.stop('SIGTERM');
    },
  };
}

/**
 * Loads N routes into a running gobgpd with `gobgp mrt inject global FILE [COUNT [SKIP]]`. The
 * client exits before the end of its stream is sent (the last few hundred routes are lost:
 * peerlab's note), so the rest is injected again from what gobgpd holds, until all N are there.
 */
async function gobgpLoad(h: GobgpHandle, file: string, n: number): Promise<number> {
  const count = async () => Number(/Destination:\s+(\d+)/.exec(await h.gobgp(['global', 'rib', 'summary', '-a', 'ipv4']))?.[1] ?? 0);
  let tries = 0;
  let have = await count();
  for (; have < n && tries < 20; have = await count()) {
    await h.gobgp(['mrt', 'inject', 'global', file, String(n), String(have)]).catch(() => '');
    tries++;
  }
  // the last few can stay lost however often they are injected: add them one by one (same attributes)
  for (let i = have; i < n; i++) await h.gobgp(['global', 'rib', 'add', `${routeIp(i)}/32`, 'nexthop', TX, 'aspath', String(ORIGIN_AS), 'origin', 'igp', '-a', 'ipv4']);
  return tries;
}

// ------------------------------------------------------------------ one measurement

interface Row {
  pair: string;
  n: number;
  startToEst: number;
  estToHeld: number;
  startToHeld: number;
  /** From the first UPDATE on the wire (receiver side) to all held: the receiver's own time. */
  firstToHeld: number;
  bytesPerRoute: number;
  rxPeakRss: number;
  rxRssPerRoute: number;
  rxCpu: number;
  note: string;
}

/**
 * Time (epoch ms) of the first UPDATE the receiver gets: tshark in the receiver's namespace,
 * one packet, BPF on the BGP type octet of a segment that starts with a message from the sender.
 */
function captureFirstUpdate(lab: Lab): { ready: Promise<void>; time(): Promise<number> } {
  const bpf = `src host ${TX} and tcp src port 179 or src host ${TX} and tcp dst port 179`;
  // type UPDATE and longer than an IPv4 End-of-RIB (23 bytes), which BIRD sends at once on an empty session
  const filter = `(${bpf}) and tcp[((tcp[12:1] & 0xf0) >> 2) + 18] = 2 and tcp[((tcp[12:1] & 0xf0) >> 2) + 16 : 2] > 23`;
  const c = lab.spawn(RX_NS, 'tshark', ['-i', 'to-tx', '-c', '1', '-f', filter, '-T', 'fields', '-e', 'frame.time_epoch', '-l', '-q']);
  let out = '';
  let err = '';
  c.stdout?.on('data', (b) => (out += String(b)));
  const ready = new Promise<void>((resolve) => {
    c.stderr?.on('data', (b) => {
      err += String(b);
      if (err.includes('Capturing on')) resolve();
    });
    setTimeout(resolve, 5000);
  });
  const time = async (): Promise<number> => {
    for (let i = 0; i < 20 && !out.trim(); i++) await sleep(50);
    if (c.exitCode === null) c.kill('SIGTERM');
    return out.trim() ? Math.round(Number(out.trim().split('\n')[0]) * 1000) : NaN;
  };
  return { ready, time };
}

async function bytesReceived(ns: string, peer: string): Promise<number> {
  const out = await nsRun(ns, 'ss', ['-tniH', 'state', 'established', 'dst', peer]);
  const all = [...out.matchAll(/bytes_received:(\d+)/g)].map((m) => Number(m[1]));
  return all.reduce((a, b) => a + b, 0);
}

async function measure(lab: Lab, sender: Kind, receiver: Kind, n: number, files: { mrt: string }): Promise<Row> {
  const note: string[] = [];
  // receiver first
  let rx: Proc;
  switch (receiver) {
    case 'frr': rx = await startFrrSide(lab, RX_NS, RX, TX, RX_AS, TX_AS, 'rx'); break;
    case 'bird': case 'birdA': rx = await startBirdSide(lab, RX_NS, birdConf(RX, TX, RX_AS, TX_AS, { passive: true })); break;
    case 'gobgp': rx = await startGobgpSide(lab, RX_NS, RX, TX, RX_AS, TX_AS, true); break;
    case 'edgeflow': rx = await startEdgeflowSide(lab, RX_NS, RX, TX, RX_AS, TX_AS, { passive: true }); break;
  }
  await sleep(300);
  const base = vm(rx.pid()).rss;
  const cpu0 = cpuSeconds(rx.pid());

  const firstUpdate = captureFirstUpdate(lab);
  await firstUpdate.ready;
  let t0 = Date.now();
  // The receiver is polled while the sender starts: `edgeflow speaker` sends its dump before
  // its REST API answers, and startSpeaker resolves only on /healthz, so awaiting the start
  // first charged the API's build (0.5-1 s) to the sender's "→ all held" times (until 2026-11-25).
  const txP = (async (): Promise<Proc> => {
    switch (sender) {
      case 'edgeflow': return startEdgeflowSide(lab, TX_NS, TX, RX, TX_AS, RX_AS, { mrt: files.mrt });
      case 'bird': return startBirdSide(lab, TX_NS, birdConf(TX, RX, TX_AS, RX_AS, { routes: n }));
      case 'birdA': return startBirdSide(lab, TX_NS, birdConf(TX, RX, TX_AS, RX_AS, { routes: n, announceLater: true }));
      case 'gobgp': {
        // gobgpd waits several seconds before it first connects: the routes are in before that
        const g = await startGobgpSide(lab, TX_NS, TX, RX, TX_AS, RX_AS, false);
        const tries = await gobgpLoad(g.h, files.mrt, n);
        note.push(`mrt inject ×${tries}`);
        return g;
      }
      case 'frr': throw new Error('FRR is only a receiver here');
    }
  })();
  let txFailed: Error | undefined;
  txP.catch((err: Error) => (txFailed = err));
  let est: number | undefined;
  let announced: number | undefined;
  let held = 0;
  const deadline = t0 + TIMEOUT_MS;
  let tHeld = NaN;
  while (Date.now() < deadline) {
    if (txFailed) throw txFailed;
    if (est === undefined) {
      const s = await rx.state().catch(() => ({ up: false, since: undefined }));
      if (s.up) est = s.since ?? Date.now();
      if (s.up && sender === 'birdA') {
        // BIRD: session up empty, then announce (the method; with the routes present at
        // start BIRD holds its last few routes back for ~3 s after the first burst)
        const bird = (await txP) as Proc & { h: BirdHandle };
        await sleep(200);
        announced = Date.now();
        await bird.h.birdc(['enable', 's1']);
      }
    }
    if (est !== undefined) {
      held = await rx.held().catch(() => held);
      if (held >= n) {
        tHeld = Date.now();
        break;
      }
    }
    await sleep(POLL_MS);
  }
  const tx = await txP;
  if (Number.isNaN(tHeld)) note.push(`timeout: ${held} of ${n} held`);
  const bytes = await bytesReceived(RX_NS, TX).catch(() => NaN);
  const tFirst = await firstUpdate.time();
  const peak = vm(rx.pid()).hwm;
  const cpu = cpuSeconds(rx.pid()) - cpu0;
  if (sender === 'edgeflow' && t0 !== undefined) {
    // startSpeaker spawns the API proxy first: take the speaker's own start
    t0 = Math.max(t0, (tx as Proc & { h: SpeakerProc }).h.startedAt());
  }
  await tx.stop();
  await rx.stop();
  await sleep(300);
  if (announced !== undefined) note.push('announced 0.2 s after Established');
  return {
    pair: `${label(sender)} → ${label(receiver)}`,
    n,
    startToEst: est !== undefined ? (est - t0) / 1000 : NaN,
    estToHeld: est !== undefined ? (tHeld - (announced ?? est)) / 1000 : NaN,
    startToHeld: announced !== undefined ? NaN : (tHeld - t0) / 1000,
    firstToHeld: (tHeld - tFirst) / 1000,
    bytesPerRoute: bytes / n,
    rxPeakRss: peak,
    rxRssPerRoute: (peak - base) / n,
    rxCpu: cpu,
    note: note.join('; '),
  };
}

// ------------------------------------------------------------------ main

const label = (k: Kind): string => (k === 'birdA' ? 'bird (announce)' : k);

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const mb = (x: number) => (Number.isFinite(x) ? `${(x / 1048576).toFixed(0)} MB` : '–');

function table(rows: Row[]): string {
  const head = '| pair | N | start → Established (s) | Established → all held (s) | start → all held (s) | first UPDATE → all held (s) | bytes/route on the wire | receiver peak RSS | receiver RSS growth/route (B) | receiver CPU (s) | note |';
  const sep = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  const lines = rows.map((r) => `| ${r.pair} | ${r.n.toLocaleString('en-US')} | ${fmt(r.startToEst)} | ${fmt(r.estToHeld)} | ${fmt(r.startToHeld)} | ${fmt(r.firstToHeld)} | ${fmt(r.bytesPerRoute)} | ${mb(r.rxPeakRss)} | ${fmt(r.rxRssPerRoute, 0)} | ${fmt(r.rxCpu)} | ${r.note} |`);
  return [head, sep, ...lines].join('\n');
}

async function main(): Promise<void> {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'efp-bench-'));
  const stopAll = async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  const rows: Row[] = [];
  const load0 = loadavg();
  try {
    await lab.ns(TX_NS);
    await lab.ns(RX_NS);
    await lab.link(TX_NS, 'to-rx', `${TX}/24`, RX_NS, 'to-tx', `${RX}/24`);
    for (const n of SIZES) {
      const mrt = join(dir, `routes-${n}.mrt`);
      writeFileSync(mrt, mrtFile(n, TX, ORIGIN_AS));
      for (const [s, r] of PAIRS) {
        if ((s === 'gobgp' || r === 'gobgp') && n > GOBGP_MAX) {
          rows.push({ pair: `${label(s)} → ${label(r)}`, n, startToEst: NaN, estToHeld: NaN, startToHeld: NaN, firstToHeld: NaN, bytesPerRoute: NaN, rxPeakRss: NaN, rxRssPerRoute: NaN, rxCpu: NaN, note: `skipped: GoBGP capped at ${GOBGP_MAX.toLocaleString('en-US')}` });
          continue;
        }
        process.stderr.write(`# ${s} → ${r}, N=${n} (load ${loadavg()[0]!.toFixed(1)})\n`);
        const row = await measure(lab, s, r, n, { mrt }).catch((err) => ({
          pair: `${label(s)} → ${label(r)}`, n, startToEst: NaN, estToHeld: NaN, startToHeld: NaN, firstToHeld: NaN, bytesPerRoute: NaN, rxPeakRss: NaN, rxRssPerRoute: NaN, rxCpu: NaN,
          note: `failed: ${String((err as Error).message).split('\n')[0]!.slice(0, 120)}`,
        } as Row));
        rows.push(row);
        process.stderr.write(`${table([row]).split('\n')[2]}\n`);
      }
    }
  } finally {
    await stopAll();
  }
  const load1 = loadavg();
  const out = table(rows);
  process.stdout.write(out + '\n');
  if (WRITE) {
    const file = fileURLToPath(new URL('../../../bench/bgp/RESULTS.md', import.meta.url));
    const meta = `Run ${new Date().toISOString()} on ${cpus().length} CPUs (shared with other engineers' builds and tests); load average (1 min) ${load0[0]!.toFixed(2)} at start, ${load1[0]!.toFixed(2)} at end.`;
    const prev = (() => { try { return readFileSync(file, 'utf8'); } catch { return ''; } })();
    const marker = '<!-- runs -->';
    const body = prev.includes(marker) ? prev.replace(marker, `${marker}\n\n${meta}\n\n${out}\n`) : `${prev}\n${marker}\n\n${meta}\n\n${out}\n`;
    writeFileSync(file, body);
  }
  void run;
  void waitFor;
}

await main();
