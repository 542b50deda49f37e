// Codec benchmark (issue 2): 1,000,000 IPv4 /32 prefixes packed as a real speaker packs
// them (as many as fit one 4096-octet UPDATE with shared attributes), then decoded and
// re-encoded. Prints prefixes/s and heap per prefix. Run: node --expose-gc dist/bench/codec.js [N]
import { decodeMessage, encodeMessage, Writer, writeMessage, type Message, type UpdateMessage, type PrefixNlri } from '../bgp/codec/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const attributes = [
  { type: 'ORIGIN', value: 'IGP' },
  { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65020] }] },
  { type: 'NEXT_HOP', value: '192.0.2.20' },
  { type: 'COMMUNITIES', values: ['65000:100'] },
] as UpdateMessage['attributes'];

function pack(n: number): Buffer[] {
  const out: Buffer[] = [];
  const head = encodeMessage({ type: 'UPDATE', withdrawn: [], attributes, nlri: [] }).length;
  const perUpdate = Math.floor((4096 - head) / 5);
  const w = new Writer(4096);
  for (let i = 0; i < n; i += perUpdate) {
    const nlri: PrefixNlri[] = [];
    for (let j = i; j < Math.min(n, i + perUpdate); j++) nlri.push({ prefix: `${100 + (j >>> 24)}.${(j >>> 16) & 255}.${(j >>> 8) & 255}.${j & 255}/32` });
    w.reset();
    writeMessage(w, { type: 'UPDATE', withdrawn: [], attributes, nlri });
    out.push(w.take());
  }
  return out;
}

function time<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e9];
}

const updates = pack(N);
const wire = updates.reduce((s, b) => s + b.length, 0);

// warm up the JIT on a slice
for (let r = 0; r < 3; r++) for (const u of updates.slice(0, 200)) decodeMessage(u);

gc();
const heap0 = process.memoryUsage().heapUsed;
const [decoded, tDecode] = time(() => updates.map((u) => {
  const d = decodeMessage(u);
  if (!d.ok) throw d.error;
  return d.message;
}));
gc();
const heap1 = process.memoryUsage().heapUsed;
const count = decoded.reduce((s, m) => s + (m as UpdateMessage).nlri.length, 0);
if (count !== N) throw new Error(`decoded ${count} of ${N}`);

const w = new Writer(1 << 16);
const [, tEncode] = time(() => {
  for (const m of decoded) {
    w.reset();
    writeMessage(w, m as Message);
  }
});

// encode again from plain text objects ({ prefix: "100.0.0.1/32" }), as an API caller gives them
const textMessages = decoded.map((m) => JSON.parse(JSON.stringify(m)) as Message);
const [, tEncodeText] = time(() => {
  for (const m of textMessages) {
    w.reset();
    writeMessage(w, m);
  }
});

const rows = [
  ['UPDATEs', String(updates.length)],
  ['bytes on the wire per prefix', (wire / N).toFixed(2)],
  ['decode prefixes/s', Math.round(N / tDecode).toLocaleString('en-US')],
  ['encode prefixes/s (decoded values)', Math.round(N / tEncode).toLocaleString('en-US')],
  ['encode prefixes/s (text values)', Math.round(N / tEncodeText).toLocaleString('en-US')],
  ['decoded heap per prefix (bytes, retained)', ((heap1 - heap0) / N).toFixed(1)],
];
console.log(`edgeflow codec, ${N.toLocaleString('en-US')} IPv4 /32 in ${updates.length} UPDATEs (node ${process.version})`);
console.log('| measure | value |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
